"""``keraslab toptag compare``: every tagger on the same jets, one table, one ROC plot.

Each tagger trains in its own ``keraslab run ...`` process, so each gets its
faster Keras backend (``KERAS_BACKEND``, when set, still wins for all) and its
memory back when it ends. Finished runs in the out folder are reused, an
interrupted one is resumed. Everything is written under one folder::

    OUT/toptag-baseline/ OUT/toptag-dnn/ ...   one run folder per tagger
    OUT/comparison.csv                         the measured table
    OUT/comparison.md                          the same, with the published numbers beside it
    OUT/roc.png                                1/eps_B against eps_S, log scale
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from keraslab.errors import UserError, parse_choices
from keraslab.toptag.catalog import CUT_BASELINE, MODELS, spec

# Kasieczka, Plehn et al., "The Machine Learning Landscape of Top Taggers",
# SciPost Phys. 7, 014 (2019), measured on the reference dataset (Pythia 8 +
# Delphes, 1.2M training jets) -- not on the jets these runs use.
PUBLISHED = (
    # (tagger, 1/eps_B at eps_S = 0.3, AUC or None)
    ("ResNeXt (images)", 1147, 0.984),
    ("Particle-Flow Network", 888, 0.982),
    ("ParticleNet-Lite", 1262, 0.984),
    ("ParticleNet", 1615, 0.986),
)
PUBLISHED_NOTE = ("Published numbers: Kasieczka et al., SciPost Phys. 7, 014 (2019), on the reference "
                  "dataset (Pythia 8 + Delphes, 1.2M training jets). They were measured on different data "
                  "and are shown for orientation only, not as a like-for-like comparison.")
COLUMNS = ("tagger", "auc", "accuracy", "rejection_at_30", "params", "fit_seconds", "epochs_run", "backend", "n_train")


def parse_models(text: str | None) -> list[str]:
    """The networks named in a comma-separated list (all when None); a one-line error for unknown names."""
    return list(MODELS) if text is None else parse_choices("network", text, MODELS)


def _finished(run_dir: Path) -> dict | None:
    path = run_dir / "metrics.json"
    if not path.is_file():
        return None
    metrics = json.loads(path.read_text())
    return metrics if "auc" in metrics else None


def _check_reusable(name: str, run_dir: Path, jets: int | None, epochs: int | None) -> None:
    settings_path = run_dir / "toptag.json"
    if name == CUT_BASELINE or not settings_path.is_file():
        return
    settings = json.loads(settings_path.read_text())
    wanted = {"jets": jets, "epochs": epochs or spec(name).epochs}
    differ = {key: (settings.get(key), value) for key, value in wanted.items() if settings.get(key) != value}
    if differ:
        what = ", ".join(f"{key} {old} (asked {new})" for key, (old, new) in differ.items())
        raise UserError(f"{run_dir} was trained with {what}; pass --retrain to train it again or choose another --out")


def _run(name: str, data: Path, run_dir: Path, *, jets, eval_jets, epochs, retrain: bool) -> None:
    command = [sys.executable, "-m", "keraslab.cli", "run", name, "--data", str(data), "--out", str(run_dir)]
    if name != CUT_BASELINE:
        for flag, value in (("--jets", jets), ("--eval-jets", eval_jets), ("--epochs", epochs)):
            if value is not None:
                command += [flag, str(value)]
    if (run_dir / "resume.json").is_file() and not retrain:
        command.append("--resume")
    elif run_dir.exists() and any(run_dir.iterdir()):
        command.append("--overwrite")
    print(f"\n=== {name} ===", flush=True)
    finished = subprocess.run(command, check=False)
    if finished.returncode != 0:
        raise UserError(f"{name} failed (exit code {finished.returncode}, its error is above); "
                        "fix it and run compare again: finished runs are reused")


def compare(
    data: Path,
    out: Path,
    models: list[str],
    *,
    jets: int | None = None,
    eval_jets: int | None = None,
    epochs: int | None = None,
    retrain: bool = False,
) -> pd.DataFrame:
    """Train or reuse the cut-based baseline and ``models``; write the table and ROC plot; return the table."""
    from keraslab.toptag import dataset

    data, out = Path(data), Path(out)
    for sample in dataset.SPLITS:
        if not dataset.sample_path(data, sample).is_file():
            raise UserError(f"no {dataset.sample_path(data, sample)}; {dataset.LAYOUT_HINT}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create {out} ({err.strerror or err}); choose a writable --out") from None

    taggers = [CUT_BASELINE, *models]
    for name in taggers:
        run_dir = out / name
        if _finished(run_dir) and not retrain:
            _check_reusable(name, run_dir, jets, epochs)
            print(f"reusing {run_dir}")
            continue
        _run(name, data, run_dir, jets=jets, eval_jets=eval_jets, epochs=epochs, retrain=retrain)

    table = summarise(out, taggers)
    write_outputs(out, table, {name: curve for name in taggers if (curve := test_curve(out / name, data)) is not None})
    return table


def test_curve(run_dir: Path, data: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(labels, scores) on the test sample of one run, or None if it kept no scores.

    Network runs keep test_scores.npz; the cut-based baseline keeps scores.npy
    in test-file order, whose labels are read from the test features file.
    """
    from keraslab.toptag import dataset
    from keraslab.toptag.runs import TEST_SCORES, read_test_scores

    if (run_dir / TEST_SCORES).is_file():
        return read_test_scores(run_dir)
    if (run_dir / "scores.npy").is_file():
        scores = np.load(run_dir / "scores.npy", allow_pickle=False)
        features = dataset.read_features(dataset.sample_path(data, "test", "features"), n_jets=len(scores))
        return features[dataset.LABEL_COLUMN].to_numpy(), scores
    return None


def summarise(out: Path, taggers: list[str]) -> pd.DataFrame:
    """One row per finished run in ``out``: the figures of merit from its metrics.json."""
    rows = []
    for name in taggers:
        metrics = _finished(Path(out) / name)
        if metrics is None:
            raise UserError(f"{Path(out) / name} has no finished run with an AUC in metrics.json; run compare again")
        metrics.setdefault("n_train", metrics.get("n_train_scan"))  # the baseline scans its cuts on the training jets
        rows.append({"tagger": name, **{key: metrics.get(key) for key in COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _format(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(table: pd.DataFrame, n_background: int | None = None) -> str:
    """The measured table, then the published numbers marked as measured on different data.

    ``n_background``: QCD jets in the test sample, which bound the measurable 1/eps_B.
    """
    lines = [
        "| tagger | AUC | accuracy | 1/eps_B at eps_S=0.3 | parameters | fit time (s) | epochs | backend | training jets |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join([
            row.tagger, _format(row.auc, 4), _format(row.accuracy, 4), _format(row.rejection_at_30, 1),
            _format(row.params, 0), _format(row.fit_seconds, 1), _format(row.epochs_run, 0),
            _format(row.backend, 0), _format(row.n_train, 0),
        ]) + " |")
    if n_background:
        lines += ["", f"The test sample holds {n_background} QCD jets, so 1/eps_B is measured up to about "
                  f"{n_background}; 'inf' means that no QCD jet passed. Use more test jets for larger rejections."]
    lines += ["", "Published, on the reference dataset (DIFFERENT DATA, for orientation only):", "",
              "| tagger | AUC | 1/eps_B at eps_S=0.3 |", "|---|---|---|"]
    lines += [f"| {name} | {_format(auc, 3)} | {rejection} |" for name, rejection, auc in PUBLISHED]
    return "\n".join(lines + ["", PUBLISHED_NOTE, ""])


def write_outputs(out: Path, table: pd.DataFrame, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """comparison.csv, comparison.md and roc.png (``curves``: tagger -> test labels, scores) in ``out``."""
    from keraslab.toptag import figures

    out = Path(out)
    table.to_csv(out / "comparison.csv", index=False)
    n_background = max((int(np.sum(np.asarray(labels) == 0)) for labels, _ in curves.values()), default=None)
    text = markdown(table, n_background)
    (out / "comparison.md").write_text(text)
    figures.rejection_curves(curves, path=out / "roc.png", published={name: rej for name, rej, _ in PUBLISHED},
                             baseline=CUT_BASELINE, figsize=(12, 6.5),
                             title="lines: measured on these jets; open markers: published, on different data")
    print("\n" + text)
    print(f"wrote {out / 'comparison.csv'}, {out / 'comparison.md'} and {out / 'roc.png'}")
