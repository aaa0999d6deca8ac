"""``keraslab toptag validate``: integrity and physics checks, and the validation plots.

Checks (loose enough for a few hundred jets, tight enough to catch a broken
generator): manifest checksums; top-jet mass median in [160, 185] GeV; QCD
mass falling steeply (median below 100 GeV, under 20 % of jets above
150 GeV); median tau32 lower for top than for QCD jets; every jet with
550 < pT < 650 GeV and |eta| < 2; signal fraction within 0.5 +- 0.05.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from keraslab.errors import UserError
from keraslab.toptag import dataset as ds
from keraslab.toptag.events import JET_ABS_ETA_MAX, JET_PT_RANGE

TOP_MASS_MEDIAN_RANGE = (160.0, 185.0)  # GeV
QCD_MASS_MEDIAN_MAX = 100.0  # GeV
QCD_HEAVY_MASS, QCD_HEAVY_FRACTION_MAX = 150.0, 0.2
BALANCE_TOLERANCE = 0.05
PT_TOLERANCE = 0.5  # GeV: float32 sums of stored constituents


def physics_checks(features: pd.DataFrame) -> list[dict]:
    """The physics checks on a features table with labels; each {name, passed, detail}."""
    labels = features[ds.LABEL_COLUMN].to_numpy() == 1
    mass, tau32 = features["mass"].to_numpy(), features["tau32"].to_numpy()
    pt, eta = features["pt"].to_numpy(), features["eta"].to_numpy()
    top_median, qcd_median = float(np.median(mass[labels])), float(np.median(mass[~labels]))
    heavy = float(np.mean(mass[~labels] > QCD_HEAVY_MASS))
    tau32_top, tau32_qcd = float(np.median(tau32[labels])), float(np.median(tau32[~labels]))
    signal_fraction = float(labels.mean())

    def check(name: str, passed: bool, detail: str) -> dict:
        return {"name": name, "passed": bool(passed), "detail": detail}

    return [
        check(
            "top mass peak",
            TOP_MASS_MEDIAN_RANGE[0] <= top_median <= TOP_MASS_MEDIAN_RANGE[1],
            f"median top-jet mass {top_median:.1f} GeV (want {TOP_MASS_MEDIAN_RANGE[0]:.0f}-{TOP_MASS_MEDIAN_RANGE[1]:.0f})",
        ),
        check(
            "QCD mass falls",
            qcd_median < QCD_MASS_MEDIAN_MAX and heavy < QCD_HEAVY_FRACTION_MAX,
            f"median QCD-jet mass {qcd_median:.1f} GeV, {100 * heavy:.1f} % above {QCD_HEAVY_MASS:.0f} GeV",
        ),
        check("tau32 separates", tau32_top < tau32_qcd, f"median tau32: top {tau32_top:.3f}, QCD {tau32_qcd:.3f}"),
        check(
            "jet pT window",
            bool(np.all((pt > JET_PT_RANGE[0] - PT_TOLERANCE) & (pt < JET_PT_RANGE[1] + PT_TOLERANCE))),
            f"pT from {pt.min():.1f} to {pt.max():.1f} GeV",
        ),
        check("jet |eta| < 2", bool(np.all(np.abs(eta) < JET_ABS_ETA_MAX)), f"max |eta| {np.abs(eta).max():.3f}"),
        check(
            "labels balanced",
            abs(signal_fraction - 0.5) <= BALANCE_TOLERANCE,
            f"{labels.sum()} top, {(~labels).sum()} QCD jets",
        ),
    ]


def plot_validation(features: pd.DataFrame, images: np.ndarray, labels: np.ndarray, out: Path) -> list[str]:
    """Signal-vs-background plots (mplhep style) written as PNGs to out; returns the file names."""
    import matplotlib
    import mplhep
    from matplotlib.figure import Figure

    is_top = features[ds.LABEL_COLUMN].to_numpy() == 1
    histograms = {
        "mass.png": ("mass", np.linspace(0, 300, 61), "jet mass [GeV]"),
        "tau32.png": ("tau32", np.linspace(0, 1, 41), r"$\tau_{32}$"),
        "pt.png": ("pt", np.linspace(540, 660, 49), r"jet $p_T$ [GeV]"),
        "multiplicity.png": ("n_constituents", np.arange(0, 151, 3), "constituents per jet"),
    }
    names = []
    with matplotlib.rc_context(mplhep.style.ROOT):
        for name, (column, bins, xlabel) in histograms.items():
            figure = Figure(figsize=(7, 5.5))
            ax = figure.subplots()
            values = features[column].to_numpy()
            for selection, label in ((is_top, "top jets"), (~is_top, "QCD jets")):
                counts, edges = np.histogram(values[selection], bins=bins, density=True)
                mplhep.histplot(counts, edges, ax=ax, label=label, lw=2)
            ax.set_xlabel(xlabel)
            ax.set_ylabel("jets (normalised)")
            ax.legend(fontsize=14)
            figure.tight_layout()
            figure.savefig(out / name, dpi=100)
            names.append(name)

        figure = Figure(figsize=(11, 5))
        axes = figure.subplots(1, 2)
        extent = (-1.0, 1.0, -1.0, 1.0)
        for ax, selection, title in ((axes[0], labels == 1, "top jets"), (axes[1], labels == 0, "QCD jets")):
            average = images[selection].mean(axis=0)
            shown = ax.imshow(
                average, origin="lower", extent=extent, norm=matplotlib.colors.LogNorm(vmin=1e-5, vmax=max(average.max(), 2e-5))
            )
            ax.set_title(f"average {title}", fontsize=16)
            ax.set_xlabel("x (rotated $\\eta$)")
            ax.set_ylabel("y (principal axis)")
            figure.colorbar(shown, ax=ax, label="pT fraction")
        figure.tight_layout()
        figure.savefig(out / "average_images.png", dpi=100)
        names.append("average_images.png")
    return names


def validate(directory: str | Path, out: str | Path, sample: str = "train") -> dict:
    """Run all checks on one sample and write plots and validation.json to out; return the report."""
    directory, out = Path(directory), Path(out)
    if sample not in ds.SPLITS:
        raise UserError(f"--sample {sample!r} must be one of {', '.join(ds.SPLITS)} (the challenge sample has no labels)")
    checks = []
    if ds.read_manifest(directory) is not None:
        problems = ds.verify_checksums(directory)
        checks.append({"name": "checksums", "passed": not problems, "detail": "; ".join(problems) or "all files match manifest.json"})
    features = ds.read_features(ds.sample_path(directory, sample, "features"))
    images, labels = ds.read_images(ds.sample_path(directory, sample, "images"))
    if labels is None or ds.LABEL_COLUMN not in features.columns:
        raise UserError(f"{directory}/{sample}: no is_signal_new column; validate needs labelled samples")
    checks += physics_checks(features)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UserError(f"cannot create {out} ({err.strerror}); choose a folder you can write to with --out") from None
    plots = plot_validation(features, images, labels, out)
    report = {"directory": str(directory), "sample": sample, "jets": len(features), "checks": checks,
              "plots": [str(out / p) for p in plots], "passed": all(c["passed"] for c in checks)}
    (out / "validation.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
