"""The day-one HTML report and ``keraslab lab``."""

import base64
import json
import re

import pytest

from keraslab.day1 import report
from keraslab.cli import main
from keraslab.errors import UserError

PNG = b"\x89PNG\r\n\x1a\n" + b"fake"


def _run_folder(folder, metrics):
    folder.mkdir(parents=True)
    (folder / "metrics.json").write_text(json.dumps(metrics))
    (folder / "learning_curves.png").write_bytes(PNG)


def test_report_embeds_figures_and_tabulates_metrics(tmp_path):
    _run_folder(tmp_path / "regression", {"params": 881, "loss": 0.0571, "fit_seconds": 1.25, "backend": "jax"})
    _run_folder(tmp_path / "overtraining", {"variants": {
        "fashion-mlp": {"params": 669706, "test_accuracy": 0.881, "backend": "jax"},
        "fashion-mlp-dropout": {"params": 669706, "test_accuracy": 0.893, "backend": "jax"}},
        "data_source": "class mirror (its test split is NOT the official one)"})
    page = report.write_report(tmp_path, tmp_path / "out" / "index.html", parts=["regression", "overtraining"]).read_text()
    assert "<td>881</td>" in page and "<td>0.0571</td>" in page and "<td>jax</td>" in page
    assert "overtraining: fashion-mlp-dropout" in page and "<td>0.893</td>" in page
    assert "NOT the official one" in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 2 and base64.b64decode(images[0]) == PNG
    assert "src=\"http" not in page  # self-contained


def test_report_of_a_missing_part_says_what_to_run(tmp_path):
    with pytest.raises(UserError, match="keraslab run cnn"):
        report.write_report(tmp_path, tmp_path / "index.html", parts=["cnn"])


def test_lab_runs_a_part_and_writes_the_report(tmp_path, capsys):
    out, page = tmp_path / "runs", tmp_path / "report" / "index.html"
    main(["lab", "--parts", "regression", "--out", str(out), "--report", str(page)])
    metrics = json.loads((out / "regression" / "metrics.json").read_text())
    assert metrics["params"] == 881 and metrics["epochs_run"] == 10  # the slides' size
    html = page.read_text()
    assert "<td>881</td>" in html and html.count("data:image/png;base64,") >= 3
    with pytest.raises(SystemExit) as exit_info:  # a second lab never overwrites silently
        main(["lab", "--parts", "regression", "--out", str(out), "--report", str(page)])
    assert exit_info.value.code == 2 and "--overwrite" in capsys.readouterr().err
    # --resume continues what is there: a finished part stays as it was, with one unbroken history
    history = (out / "regression" / "history.json").read_text()
    main(["lab", "--parts", "regression", "--out", str(out), "--report", str(page), "--resume"])
    assert (out / "regression" / "history.json").read_text() == history
