"""``keraslab lab`` end to end: the whole lab at toy size (``--quick``), a planted failure, ``--resume``.

The quick rehearsal uses the shared ``tiny_jets`` (copied: the rehearsal validates and
reads them) and tiny Fashion-MNIST look-alikes, so it runs without Pythia's minute of
generation; it takes about 3 minutes on an idle 2-core machine.
"""

import base64
import json
import re
import shutil

import pytest

from keraslab.cli import main
from keraslab.lab import plan, steps
from keraslab.lab.runner import STATUS_FILE


@pytest.fixture
def fashion_env(monkeypatch, tiny_fashion):
    # the tiny files' checksums are a trusted release for every part's process
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    return tiny_fashion


def _lab(*args):
    try:
        main(["lab", *map(str, args)])
    except SystemExit as exit_info:
        return exit_info.code
    return 0


def _verdict(page: str) -> str:
    return re.search(r'id="verdict">(.*?)</p>', page, re.DOTALL).group(1)


def test_quick_rehearsal_runs_the_whole_lab_and_reports_it(tmp_path, tiny_jets, fashion_env):
    out, page_path, jets = tmp_path / "runs", tmp_path / "report" / "index.html", tmp_path / "jets"
    shutil.copytree(tiny_jets, jets)
    code = _lab("--quick", "--out", out, "--report", page_path, "--data-dir", fashion_env, "--jets", jets)
    status = json.loads((out / STATUS_FILE).read_text())
    assert code == 0, {name: r.get("message") for name, r in status["parts"].items() if r["status"] != "ok"}
    expected = [part.name for part in plan.parts(plan.SIZES["quick"])]
    assert status["order"] == expected and {r["status"] for r in status["parts"].values()} == {"ok"}

    page = page_path.read_text()
    assert _verdict(page).startswith("<b>Verdict:</b> everything ran: 16 parts")
    for name in expected:  # every part in the contents and with its own section
        assert f"href='#part-{name}'" in page and f"id='part-{name}'" in page
    for section in ("environment", *(f"section-{key}" for key in plan.SECTIONS if key != "beyond")):
        assert f"id='{section}'" in page or f'id="{section}"' in page
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) >= 25 and all(src.startswith("data:image/png;base64,") for src in images)
    assert base64.b64decode(images[0].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not re.search(r'(src|href)="(?!data:|#)', page)  # nothing linked: one file, readable offline
    assert "verdict: ready" in page  # keraslab doctor, in the environment
    assert "Other data:" in page  # the published numbers, marked

    # the day-two comparison: the cut-based baseline and the four networks on the same jets
    compared = (out / "comparison" / "comparison.csv").read_text()
    assert all(name in compared for name in ("toptag-baseline", *plan.SIZES["quick"].networks))
    # the challenge: two teams, every network's result.npy through the real server, closed, final ranking
    challenge = json.loads((out / "challenge" / "metrics.json").read_text())
    assert [s["tagger"] for s in challenge["submissions"]] == list(plan.SIZES["quick"].networks)
    assert {s["team"] for s in challenge["submissions"]} == set(steps.TEAMS)
    assert challenge["server"].startswith("http://127.0.0.1:")
    final = challenge["leaderboard_final"]
    assert final["closed"] and sorted(e["rank"] for e in final["entries"]) == [1, 2]
    assert all(e["private"]["auc"] is not None and e["submissions"] == 2 for e in final["entries"])
    if steps.find_chromium():
        assert challenge["screenshot"] and (out / "challenge" / steps.LEADERBOARD_PNG).stat().st_size > 10_000
    else:
        assert "No screenshot" in page


def test_a_failed_part_leaves_the_others_reported_and_resume_keeps_them(tmp_path, fashion_env, capsys):
    out, page_path = tmp_path / "runs", tmp_path / "index.html"
    # planted failure: the Fashion-MNIST folder does not exist, so fashion-mnist fails; regression does not need it
    code = _lab("--parts", "regression,fashion-mnist", "--quick", "--out", out, "--report", page_path,
                "--data-dir", tmp_path / "nowhere")
    assert code == 1
    page = page_path.read_text()
    verdict = _verdict(page)
    assert "NOT everything ran: fashion-mnist failed" in verdict and "nowhere" in verdict
    assert "keraslab lab --parts fashion-mnist --resume" in verdict
    regression = page[page.index("id='part-regression'"):page.index("id='part-fashion-mnist'")]
    assert "<td>881</td>" in regression and "data:image/png;base64," in regression
    assert "verdict: NOT everything ran: fashion-mnist" in capsys.readouterr().out

    # a second lab never overwrites silently
    assert _lab("--parts", "regression", "--quick", "--out", out, "--report", page_path) == 2
    assert "--overwrite" in capsys.readouterr().err

    # --resume with the data fixed: the finished part is kept as it was, the failed one runs
    history = (out / "regression" / "history.json").read_text()
    code = _lab("--parts", "regression,fashion-mnist", "--quick", "--out", out, "--report", page_path,
                "--data-dir", fashion_env, "--resume")
    assert code == 0 and "regression finished before, kept (--resume)" in capsys.readouterr().out
    assert (out / "regression" / "history.json").read_text() == history
    assert "everything ran: 2 parts" in _verdict(page_path.read_text())
