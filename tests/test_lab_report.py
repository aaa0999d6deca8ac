"""The rehearsal's report from made-up run folders: every section, figures embedded, failures named with their rerun."""

import base64
import json
import re

import pytest

from keraslab.errors import UserError
from keraslab.lab import plan, report, runner
from keraslab.run_folder import write_json

PNG = b"\x89PNG\r\n\x1a\n" + b"fake"
RERUN = "keraslab lab --parts {parts} --resume --out runs/lab --quick"


def _part(out, name, metrics=None, figures=("learning_curves.png",)):
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    for figure in figures:
        (folder / figure).write_bytes(PNG)
    return folder


def _status(out, records):
    parts = {p.name: p for p in plan.parts(plan.SIZES["quick"], True)}
    write_json(out / runner.STATUS_FILE, {
        "size": "quick", "rerun": RERUN, "jets": str(out / "jets"), "data_dir": None, "order": list(records),
        "parts": {name: {"title": parts[name].title, "section": parts[name].section, "seconds": 1.5,
                         "command": ["keraslab", "run", name], **record} for name, record in records.items()},
    })


@pytest.fixture
def rehearsal(tmp_path):
    """A finished rehearsal of one part per section; the cnn part failed, toptag-dnn was skipped."""
    out = tmp_path / "runs"
    _part(out, "regression", {"params": 881, "loss": 0.0571, "fit_seconds": 1.25, "backend": "jax"})
    _part(out, "overtraining", {"variants": {
        "fashion-mlp": {"params": 669706, "test_accuracy": 0.881, "backend": "jax"},
        "fashion-mlp-dropout": {"params": 669706, "test_accuracy": 0.893, "backend": "jax"}},
        "data_source": "class mirror (its test split is NOT the official one)"}, figures=("overtraining.png",))
    _part(out, "cnn", figures=())
    (out / "logs").mkdir()
    (out / "logs" / "cnn.log").write_text("Epoch 1/9\nerror: Fashion-MNIST folder /nowhere does not exist\n")
    _part(out, "backup", {"backend": "tensorflow", "claims": {"xor": {
        "value": 1.0, "passed": True, "statement": "one hidden layer solves XOR", "demonstration": "logic_gates"}}},
        figures=("logic_gates.png",))
    _part(out, "callbacks", {"fit_seconds": 3.0, "backend": "jax", "not_a_report_metric": 7}, figures=("curves.png",))
    jets = _part(out, "jets", figures=())
    write_json(jets / "manifest.json", {"settings": {"jets": 400, "seed": 1}, "files": {
        "train.h5": {"jets": 240, "sha256": "ab" * 32}, "challenge.h5": {"jets": 40, "sha256": "cd" * 32}}})
    validation = _part(out, "validation", figures=("mass.png",))
    write_json(validation / "validation.json", {"checks": [{"name": "top mass", "passed": True, "detail": "173 GeV"}]})
    _part(out, "toptag-baseline", {"auc": 0.93, "rejection_at_30": float("inf"), "n_test": 60}, figures=("roc.png",))
    comparison = _part(out, "comparison", {"taggers": ["toptag-baseline"], "missing": ["toptag-dnn"]},
                       figures=("roc.png",))
    (comparison / "comparison.md").write_text("| tagger | AUC | 1/eps_B at eps_S=0.3 |\n|---|---|---|\n"
                                              "| toptag-baseline | 0.9300 ± 0.0400 | > 16.8 |\n")
    _part(out, "challenge", {
        "server": "http://127.0.0.1:5555", "teams": ["Images", "Particles"], "screenshot": None,
        "no_screenshot": "no headless Chromium here",
        "submissions": [{"team": "Images", "tagger": "toptag-cnn", "reply": "public AUC 0.91"}],
        "leaderboard_final": {"closed": True, "n_jets": 40, "entries": [
            {"rank": 1, "team": "Images", "submissions": 1, "public": {"auc": 0.91, "accuracy": 0.8,
             "rejection_at_30": None}, "private": {"auc": 0.87, "accuracy": 0.75, "rejection_at_30": 12.5}},
            {"rank": None, "team": "Particles", "submissions": 0, "public": None}]}}, figures=())
    (out / "logs" / "doctor.log").write_text("$ keraslab doctor\n  ok    jax  0.10.2, devices: CPU:0\n"
                                             "verdict: ready: the lab can run\n")
    ok = {"status": runner.OK}
    _status(out, {"regression": ok, "overtraining": ok, "cnn": {"status": runner.FAILED, "log": str(out / "logs" / "cnn.log"),
                  "message": "exit code 2: error: Fashion-MNIST folder /nowhere does not exist"},
                  "backup": ok, "callbacks": ok, "jets": ok, "validation": ok, "toptag-baseline": ok,
                  "toptag-dnn": {"status": runner.SKIPPED, "message": "needs part jets"}, "comparison": ok,
                  "challenge": ok, "doctor": {**ok, "log": str(out / "logs" / "doctor.log")}})
    return out


def test_report_has_every_section_and_embeds_its_figures(rehearsal, tmp_path):
    page = report.write_report(rehearsal, tmp_path / "report" / "index.html").read_text()
    for anchor in ("verdict", "contents", "environment", "parts", *(f"section-{key}" for key in plan.SECTIONS)):
        assert f"id='{anchor}'" in page or f'id="{anchor}"' in page, anchor
    for name in ("regression", "overtraining", "cnn", "backup", "callbacks", "jets", "validation", "toptag-baseline",
                 "toptag-dnn", "comparison", "challenge", "doctor"):
        assert f"href='#part-{name}'" in page and f"id='part-{name}'" in page, name
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 7 and all(base64.b64decode(data) == PNG for data in images)
    assert not re.search(r'src="(?!data:)', page) and "<link" not in page  # nothing linked: readable offline
    assert "<td>881</td>" in page and "overtraining: fashion-mlp-dropout" in page and "NOT the official one" in page
    assert "1 of 1 claims hold" in page and "not_a_report_metric" not in page  # a topic shows only its report_metrics
    assert "ab" * 32 in page  # the jets' checksums
    assert "ready: the lab can run" in page and "Versions" in page and "keras" in page


def test_verdict_names_the_failed_part_and_how_to_rerun_it(rehearsal, tmp_path):
    page = report.write_report(rehearsal, tmp_path / "index.html").read_text()
    verdict = re.search(r'id="verdict">(.*?)</p>', page).group(1)
    assert "NOT everything ran" in verdict and "cnn failed" in verdict and "/nowhere does not exist" in verdict
    assert "skipped for it: toptag-dnn" in verdict
    assert "keraslab lab --parts cnn,toptag-dnn --resume" in verdict
    assert "keraslab lab --parts cnn --resume" in page  # in the part's own section, with its log's last lines
    assert "Epoch 1/9" in page
    assert "<td>0.93</td>" in page  # the parts after the failure are reported all the same


def test_day_two_comparison_marks_the_published_numbers_as_other_data(rehearsal, tmp_path):
    page = report.write_report(rehearsal, tmp_path / "index.html").read_text()
    section = page[page.index("id='part-comparison'"):page.index("id='section-challenge'")]
    assert "Other data:" in section and "NOT on these jets" in section and "ParticleNet-Lite" in section
    assert "arXiv" in section or "SciPost" in section  # the published numbers carry their source
    assert "Not compared (they did not finish): toptag-dnn" in section
    assert "<td>toptag-baseline</td><td>0.9300 ± 0.0400</td><td>&gt; 16.8</td>" in section  # as compare wrote it


def test_leaderboard_without_a_browser_is_a_table(rehearsal, tmp_path):
    page = report.write_report(rehearsal, tmp_path / "index.html").read_text()
    section = page[page.index("id='part-challenge'"):page.index("id='section-environment'")]
    assert "No screenshot: no headless Chromium here" in section
    assert "<td>1</td><td>Images</td><td>1</td><td>0.87</td>" in section and "closed: the final" in section


def test_every_part_well_is_one_verdict_line(tmp_path):
    out = tmp_path / "runs"
    _part(out, "regression", {"params": 881})
    _status(out, {"regression": {"status": runner.OK}})
    page = report.write_report(out, tmp_path / "index.html").read_text()
    assert "everything ran: 1 parts" in page


def test_report_of_an_empty_folder_says_what_to_run(tmp_path):
    with pytest.raises(UserError, match="keraslab lab --out"):
        report.write_report(tmp_path, tmp_path / "index.html")
