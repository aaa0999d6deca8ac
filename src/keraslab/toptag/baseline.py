"""The cut-based top tagger: a jet-mass window and an N-subjettiness ratio cut.

The mass window is chosen on the training sample (a grid scan maximising
1/eps_B at eps_S = 0.3); the tagger is then scanned along tau32 on the test
sample. As a single score for the ROC: jets inside the window rank above
jets outside it, and within each group smaller tau32 ranks higher, so every
threshold above 0.5 is "mass in window and tau32 < cut" (score
0.5 + 0.5 (1 - tau32)). Thresholds below 0.5 extend the curve to eps_S = 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from keraslab.errors import UserError
from keraslab.metrics import classifier_summary
from keraslab.run_folder import prepare_run_dir, write_metrics
from keraslab.toptag import dataset as ds

WINDOW_LOW_GRID = np.arange(100.0, 180.0, 10.0)  # GeV
WINDOW_HIGH_GRID = np.arange(180.0, 270.0, 10.0)
SCAN_JETS = 100_000  # enough training jets to place a window
PUBLISHED_BDT_REJECTION = 90.0  # reference paper, BDT on high-level features, eps_S = 0.3


def cut_score(features: pd.DataFrame, window: tuple[float, float]) -> np.ndarray:
    """Score in [0, 1]: 0.5 for being inside the mass window (GeV) plus 0.5 (1 - tau32)."""
    mass, tau32 = features["mass"].to_numpy(), np.clip(features["tau32"].to_numpy(), 0.0, 1.0)
    inside = (mass > window[0]) & (mass < window[1])
    return 0.5 * inside + 0.5 * (1.0 - tau32)


def choose_mass_window(features: pd.DataFrame) -> tuple[float, float]:
    """The window of the grid with the best 1/eps_B at eps_S = 0.3.

    Ties (common with few jets, when no background passes) go to the window
    with fewer QCD jets inside, then more top jets inside.
    """
    from keraslab.metrics import rejection_at

    labels = features[ds.LABEL_COLUMN].to_numpy()
    mass = features["mass"].to_numpy()
    best, best_key = (WINDOW_LOW_GRID[0], WINDOW_HIGH_GRID[-1]), (-1.0, -1.0, -1.0)
    for low in WINDOW_LOW_GRID:
        for high in WINDOW_HIGH_GRID:
            score = cut_score(features, (low, high))
            inside = (mass > low) & (mass < high)
            key = (min(rejection_at(labels, score, 0.3), 1e9), -np.mean(inside[labels == 0]), np.mean(inside[labels == 1]))
            if key > best_key:
                best, best_key = (float(low), float(high)), key
    return best


def run_baseline(data: str | Path, out: str | Path, *, overwrite: bool = False) -> dict:
    """Choose the window on train, evaluate on test; write metrics.json, roc.png, scores.npy to out.

    ``out`` is a keraslab run folder: an existing one is replaced only with ``overwrite``.
    """
    from keraslab.toptag.figures import rejection_curves

    data, out = Path(data), Path(out)
    train = ds.read_features(ds.sample_path(data, "train", "features"), n_jets=SCAN_JETS)
    test = ds.read_features(ds.sample_path(data, "test", "features"))
    for name, frame in (("train", train), ("test", test)):
        if ds.LABEL_COLUMN not in frame.columns or frame[ds.LABEL_COLUMN].nunique() < 2:
            raise UserError(f"{data}/{name}_features.h5 needs is_signal_new with both top and QCD jets")
    out = prepare_run_dir(out, overwrite=overwrite)

    window = choose_mass_window(train)
    labels = test[ds.LABEL_COLUMN].to_numpy()
    scores = cut_score(test, window)
    summary = classifier_summary(labels, scores)
    threshold = float(np.quantile(scores[labels == 1], 0.7))  # 30 % of top jets score above it
    # the tau32 cut that keeps 30 % of top jets, when the window alone keeps more
    tau32_cut = 1.0 - 2.0 * (threshold - 0.5) if threshold >= 0.5 else None
    background_passing = int(np.sum(scores[labels == 0] > threshold))
    metrics = {
        **summary,
        # rejection_at_30 is infinite when no test QCD jet passes: then it is above n_test_background
        "background_passing_at_30": background_passing,
        "n_test_background": int(np.sum(labels == 0)),
        "mass_window": list(window),
        "tau32_cut_at_30": tau32_cut,
        "n_train_scan": len(train),
        "n_test": len(test),
        "data": str(data),
    }
    write_metrics(out, metrics)
    np.save(out / "scores.npy", scores.astype(np.float32))
    rejection_curves(
        {f"mass [{window[0]:.0f}, {window[1]:.0f}] GeV + tau32": (labels, scores)},
        published={"BDT on jet features": PUBLISHED_BDT_REJECTION},
        title="cut-based top tagger (test sample)",
        path=out / "roc.png",
        figsize=(12, 6.5),  # room for the legend, drawn beside the axes
    )
    return metrics
