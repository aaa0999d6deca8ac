"""``keraslab toptag compare``: every tagger on the same jets, one table, one ROC plot.

Each tagger trains in its own ``keraslab run ...`` process, so each gets its
faster Keras backend (``KERAS_BACKEND``, when set, still wins for all) and its
memory back when it ends. Finished runs in the out folder are reused, an
interrupted one is resumed. Everything is written under one folder::

    OUT/toptag-baseline/ OUT/toptag-nsub/      the two physics baselines (cut-based, nsub+m)
    OUT/toptag-dnn/ ...                        one run folder per network
    OUT/comparison.csv                         the measured table
    OUT/comparison.md                          the same, with the published numbers beside it
    OUT/roc.png                                1/eps_B against eps_S, log scale

Every AUC and 1/eps_B carries its uncertainty (``keraslab.metrics.summary_with_uncertainties``:
DeLong for the AUC, the binomial interval of the QCD jets that pass for 1/eps_B). A rejection near
1000 rests on the few QCD jets that pass, so the comparison refuses a test sample with fewer than
MIN_TEST_BACKGROUND QCD jets unless asked to go on (``allow_small``); its outputs then say so.
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
from keraslab.metrics import (
    CONFIDENCE_LEVEL,
    SIGNAL_EFFICIENCIES,
    rejection_text,
    summary_with_uncertainties,
)
from keraslab.toptag.catalog import CUT_BASELINE, MODELS, NSUB_BASELINE, spec

# H. Qu and L. Gouskos, "ParticleNet: Jet tagging via particle clouds", Phys. Rev. D 101, 056019 (2020),
# arXiv:1902.08570, Table 2: the top-tagging reference dataset of Kasieczka et al., SciPost Phys. 7, 014
# (2019) (Pythia 8 + Delphes, 1.2M training jets) -- not the jets these runs use. The spread over retrainings
# quoted there is left out. (Earlier keraslab versions credited these figures to Kasieczka et al.) Typed
# without access to the paper here (offline); of them only ParticleNet's 1615 was checked against a summary of it.
PUBLISHED = (
    # (tagger, AUC, 1/eps_B at eps_S = 0.3, 1/eps_B at eps_S = 0.5)
    ("ResNeXt-50 (images)", 0.9837, 1147, 302),
    ("P-CNN", 0.9803, 759, 201),
    ("Particle-Flow Network", 0.9819, 888, 247),
    ("ParticleNet-Lite", 0.9844, 1262, 325),
    ("ParticleNet", 0.9858, 1615, 397),
)
PUBLISHED_NOTE = ("Published numbers: Qu and Gouskos, Phys. Rev. D 101, 056019 (2020), Table 2, on the reference "
                  "dataset of Kasieczka et al., SciPost Phys. 7, 014 (2019) (Pythia 8 + Delphes, 1.2M training jets). "
                  "They were measured on different data and are shown for orientation only, not as a like-for-like "
                  "comparison.")
# 50 QCD jets pass at 1/eps_B = 1000 then: a 1/eps_B near the leading taggers' ~1000 known to about 15 %
MIN_TEST_BACKGROUND = 50_000
SMALL_SAMPLE = "SMALL SAMPLE"
_AT = tuple(f"{round(100 * efficiency)}" for efficiency in SIGNAL_EFFICIENCIES)  # metrics.json key suffixes: 30, 50
STATISTICS = ("auc", "auc_uncertainty", "accuracy",
              *(key for at in _AT for key in (f"rejection_at_{at}", f"rejection_at_{at}_low", f"rejection_at_{at}_high",
                                              f"background_passing_at_{at}")),
              "n_test_background")
BASELINES = (CUT_BASELINE, NSUB_BASELINE)  # trained by every comparison, before the networks
COLUMNS = ("tagger", *STATISTICS, "params", "fit_seconds", "epochs_run", "backend", "n_train")


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
    if name in BASELINES or not settings_path.is_file():
        return
    settings = json.loads(settings_path.read_text())
    wanted = {"jets": jets, "epochs": epochs or spec(name).epochs}
    differ = {key: (settings.get(key), value) for key, value in wanted.items() if settings.get(key) != value}
    if differ:
        what = ", ".join(f"{key} {old} (asked {new})" for key, (old, new) in differ.items())
        raise UserError(f"{run_dir} was trained with {what}; pass --retrain to train it again or choose another --out")


def _run(name: str, data: Path, run_dir: Path, *, jets, eval_jets, epochs, workers: int, retrain: bool) -> None:
    command = [sys.executable, "-m", "keraslab.cli", "run", name, "--data", str(data), "--out", str(run_dir)]
    if name == NSUB_BASELINE:
        command += ["--workers", str(workers)]
    elif name != CUT_BASELINE:
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
    allow_small: bool = False,
    workers: int = 1,
) -> pd.DataFrame:
    """Train or reuse the two baselines and ``models``; write the table and ROC plot; return the table.

    ``workers``: processes computing N-subjettiness for nsub+m.

    Refuses, before training anything, a test sample (its first ``eval_jets`` jets) with fewer than
    MIN_TEST_BACKGROUND QCD jets unless ``allow_small``.
    """
    from keraslab.toptag import dataset

    data, out = Path(data), Path(out)
    for sample in dataset.SPLITS:
        if not dataset.sample_path(data, sample).is_file():
            raise UserError(f"no {dataset.sample_path(data, sample)}; {dataset.LAYOUT_HINT}")
    n_background = test_background_jets(data, eval_jets)
    if n_background < MIN_TEST_BACKGROUND and not allow_small:
        raise UserError(small_sample_refusal(n_background, eval_jets))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create {out} ({err.strerror or err}); choose a writable --out") from None

    taggers = [*BASELINES, *models]
    for name in taggers:
        run_dir = out / name
        if _finished(run_dir) and not retrain:
            _check_reusable(name, run_dir, jets, epochs)
            print(f"reusing {run_dir}")
            continue
        _run(name, data, run_dir, jets=jets, eval_jets=eval_jets, epochs=epochs, workers=workers, retrain=retrain)

    curves = {name: curve for name in taggers if (curve := test_curve(out / name, data)) is not None}
    table = summarise(out, taggers, curves)
    write_outputs(out, table, curves)
    return table


def test_background_jets(data: Path, eval_jets: int | None = None) -> int:
    """QCD jets among the first ``eval_jets`` (all when None) of the test sample: those the taggers are judged on."""
    from keraslab.toptag import dataset

    features = dataset.read_features(dataset.sample_path(data, "test", "features"), n_jets=eval_jets)
    if dataset.LABEL_COLUMN not in features.columns:
        raise UserError(f"{dataset.sample_path(data, 'test', 'features')} has no labels ({dataset.LABEL_COLUMN}); "
                        f"{dataset.LAYOUT_HINT}")
    return int(np.sum(features[dataset.LABEL_COLUMN].to_numpy() == 0))


def small_sample_refusal(n_background: int, eval_jets: int | None) -> str:
    """The one-line error for a test sample too small to measure rejections near 1000."""
    from keraslab.toptag.generation import DEFAULT_SPLIT

    # QCD jets are half of the test split, which is DEFAULT_SPLIT[2] of all jets generated
    jets_needed = math.ceil(MIN_TEST_BACKGROUND / (0.5 * DEFAULT_SPLIT[2]) / 10_000) * 10_000
    where = f"the first {eval_jets} test jets (--eval-jets) hold" if eval_jets else "the test sample holds"
    return (f"{where} {n_background} QCD jets, fewer than the {MIN_TEST_BACKGROUND} needed to measure 1/eps_B near "
            f"1000; generate more jets (keraslab toptag generate --jets {jets_needed} gives {MIN_TEST_BACKGROUND} "
            f"QCD test jets at the default split{', and raise --eval-jets' if eval_jets else ''}) or pass "
            "--allow-small to compare anyway, knowing the rejections are uncertain")


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


def summarise(out: Path, taggers: list[str], curves: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """One row per finished run in ``out``: its metrics.json, and the figures of merit with their
    uncertainties from its test scores where ``curves`` (tagger -> test labels, scores) has them
    (so that runs from before keraslab recorded uncertainties get them too)."""
    rows = []
    for name in taggers:
        metrics = _finished(Path(out) / name)
        if metrics is None:
            raise UserError(f"{Path(out) / name} has no finished run with an AUC in metrics.json; run compare again")
        metrics.setdefault("n_train", metrics.get("n_train_scan"))  # the baseline scans its cuts on the training jets
        if curves and name in curves:
            metrics |= summary_with_uncertainties(*curves[name])
        for at in _AT:
            metrics[f"rejection_at_{at}_low"], metrics[f"rejection_at_{at}_high"] = metrics.get(
                f"rejection_at_{at}_interval", (None, None))
        rows.append({"tagger": name, **{key: metrics.get(key) for key in COLUMNS[1:]}})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _format(value, digits: int) -> str:
    if _missing(value):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _with_uncertainty(row, at: str) -> tuple[str, str]:
    """The cells of 1/eps_B at one working point: value with interval, and the QCD jets that pass."""
    value, low, high = (getattr(row, f"rejection_at_{at}{end}") for end in ("", "_low", "_high"))
    if _missing(value):
        return "-", "-"
    if _missing(low) or _missing(high):
        return _format(value, 1) + " (no interval)", "-"
    return rejection_text(value, low, high), f"{int(getattr(row, f'background_passing_at_{at}'))} of {int(row.n_test_background)}"


def _background_counts(table: pd.DataFrame) -> list[int]:
    return sorted({int(n) for n in table["n_test_background"] if not _missing(n)})


def small_sample_note(n_background: int) -> str:
    """The mark of a comparison on fewer than MIN_TEST_BACKGROUND QCD test jets."""
    return (f"{SMALL_SAMPLE}: the test sample holds {n_background} QCD jets, fewer than {MIN_TEST_BACKGROUND}; "
            "the rejections near 1000 rest on a few jets each and are uncertain (see their intervals).")


def markdown(table: pd.DataFrame) -> str:
    """The measured table with uncertainties, then the published numbers marked as measured on different data."""
    working_points = [f"{efficiency}" for efficiency in SIGNAL_EFFICIENCIES]
    header = ["tagger", "AUC"] + [cell for at in working_points for cell in (f"1/eps_B at eps_S={at}", f"QCD passing at {at}")]
    header += ["accuracy", "parameters", "fit time (s)", "epochs", "backend", "training jets"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.itertuples(index=False):
        auc = "-" if _missing(row.auc) else (
            _format(row.auc, 4) + ("" if _missing(row.auc_uncertainty) else f" ± {row.auc_uncertainty:.4f}"))
        lines.append("| " + " | ".join([
            row.tagger, auc, *(cell for at in _AT for cell in _with_uncertainty(row, at)),
            _format(row.accuracy, 4), _format(row.params, 0), _format(row.fit_seconds, 1), _format(row.epochs_run, 0),
            _format(row.backend, 0), _format(row.n_train, 0),
        ]) + " |")
    counts = _background_counts(table)
    notes = [(f"AUC ± its DeLong uncertainty; 1/eps_B +/- its binomial interval (Clopper-Pearson, "
              f"{CONFIDENCE_LEVEL:.0%}) from the QCD jets that pass; '> N' where none passes (a lower bound).")]
    if len(counts) > 1:
        notes.append(f"The taggers were tested on different numbers of QCD jets ({', '.join(map(str, counts))}): "
                     "compare their numbers knowing so.")
    if counts and counts[0] < MIN_TEST_BACKGROUND:
        lines = [f"**{small_sample_note(counts[0])}**", "", *lines]
    lines += ["", *notes]
    lines += ["", "Published, on the reference dataset (DIFFERENT DATA, for orientation only):", "",
              "| tagger | AUC | 1/eps_B at eps_S=0.3 | 1/eps_B at eps_S=0.5 |", "|---|---|---|---|"]
    lines += [f"| {name} | {_format(auc, 4)} | {at_30} | {at_50} |" for name, auc, at_30, at_50 in PUBLISHED]
    return "\n".join(lines + ["", PUBLISHED_NOTE, ""])


def write_outputs(out: Path, table: pd.DataFrame, curves: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """comparison.csv, comparison.md and roc.png (``curves``: tagger -> test labels, scores) in ``out``;
    with fewer than MIN_TEST_BACKGROUND QCD test jets, the table and the plot's title say SMALL SAMPLE."""
    from keraslab.toptag import figures

    out = Path(out)
    table.to_csv(out / "comparison.csv", index=False)
    text = markdown(table)
    (out / "comparison.md").write_text(text)
    counts = _background_counts(table)
    title = "lines: measured on these jets; open markers: published, on different data"
    if counts and counts[0] < MIN_TEST_BACKGROUND:
        title = f"{SMALL_SAMPLE} ({counts[0]} QCD test jets): rejections uncertain\n{title}"
    figures.rejection_curves(curves, path=out / "roc.png", published={name: at_30 for name, _, at_30, _ in PUBLISHED},
                             baseline=CUT_BASELINE, figsize=(13, 6.5), title=title)
    print("\n" + text)
    print(f"wrote {out / 'comparison.csv'}, {out / 'comparison.md'} and {out / 'roc.png'}")
