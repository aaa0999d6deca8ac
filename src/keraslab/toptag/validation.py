"""``keraslab toptag validate``: integrity and physics checks, and the validation plots.

Checks (loose enough for a few hundred jets, tight enough to catch a broken
generator): manifest checksums; top-jet mass median in [160, 185] GeV; QCD
mass falling steeply (median below 100 GeV, under 20 % of jets above
150 GeV); median tau32 lower for top than for QCD jets; every jet with
550 < pT < 650 GeV and |eta| < 2; signal fraction within 0.5 +- 0.05.

With ``reference=True`` also the reference checks: the figures of
keraslab.toptag.reference measured on our jets, each with its statistical
uncertainty (binomial for fractions and for 1/eps_B, with the number of QCD
jets that pass; bootstrap for quantiles; DeLong for the AUC).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from keraslab.errors import UserError
from keraslab.toptag import dataset as ds
from keraslab.toptag import reference as ref
from keraslab.toptag.events import JET_ABS_ETA_MAX, JET_PT_RANGE

TOP_MASS_MEDIAN_RANGE = (160.0, 185.0)  # GeV
QCD_MASS_MEDIAN_MAX = 100.0  # GeV
QCD_HEAVY_FRACTION_MAX = 0.2
QUANTILE_BOOTSTRAP_RESAMPLES = 200
BALANCE_TOLERANCE = 0.05
PT_TOLERANCE = 0.5  # GeV: float32 sums of stored constituents


def physics_checks(features: pd.DataFrame) -> list[dict]:
    """The physics checks on a features table with labels; each {name, passed, detail}."""
    labels = features[ds.LABEL_COLUMN].to_numpy() == 1
    mass, tau32 = features["mass"].to_numpy(), features["tau32"].to_numpy()
    pt, eta = features["pt"].to_numpy(), features["eta"].to_numpy()
    top_median, qcd_median = float(np.median(mass[labels])), float(np.median(mass[~labels]))
    heavy = float(np.mean(mass[~labels] > ref.QCD_HEAVY_MASS))
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
            f"median QCD-jet mass {qcd_median:.1f} GeV, {100 * heavy:.1f} % above {ref.QCD_HEAVY_MASS:.0f} GeV",
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


def _quantile(values: np.ndarray, percent: float, rng: np.random.Generator) -> tuple[float, float, str]:
    """A percentile and its bootstrap standard deviation."""
    resamples = values[rng.integers(0, len(values), (QUANTILE_BOOTSTRAP_RESAMPLES, len(values)))]
    return float(np.percentile(values, percent)), float(np.std(np.percentile(resamples, percent, axis=1))), "bootstrap"


def _fraction(selected: np.ndarray) -> tuple[float, float, str]:
    """A fraction and its binomial standard deviation."""
    p = float(np.mean(selected))
    return p, float(np.sqrt(p * (1 - p) / len(selected))), f"binomial, {int(selected.sum())} of {len(selected)}"


def _mass_only_score(mass: np.ndarray, is_top: np.ndarray) -> np.ndarray:
    """Mass alone as a tagger: closeness to the top-jet median mass (a window that widens as the cut loosens)."""
    return -np.abs(mass - np.median(mass[is_top]))


def reference_measurements(features: pd.DataFrame, seed: int = 0) -> dict[str, tuple[float, float, str]]:
    """Each reference figure's key -> (measured value, statistical uncertainty, how it was estimated)."""
    from keraslab.metrics import rejection_with_uncertainty
    from keraslab.toptag.auc import auc_with_uncertainty

    rng = np.random.default_rng(seed)
    is_top = features[ds.LABEL_COLUMN].to_numpy() == 1
    mass = features["mass"].to_numpy(dtype=float)
    top, qcd = mass[is_top], mass[~is_top]
    score = _mass_only_score(mass, is_top)
    rejection = rejection_with_uncertainty(is_top, score, ref.MASS_ONLY_SIGNAL_EFFICIENCY)
    auc = auc_with_uncertainty(is_top, score)
    multiplicity = features["n_constituents"].to_numpy(dtype=float)
    low, high = ref.TOP_WINDOW
    return {
        "top_mass_p16": _quantile(top, 16, rng),
        "top_mass_p50": _quantile(top, 50, rng),
        "top_mass_p84": _quantile(top, 84, rng),
        "top_in_window": _fraction((top > low) & (top < high)),
        "qcd_mass_p50": _quantile(qcd, 50, rng),
        "qcd_mass_p84": _quantile(qcd, 84, rng),
        "qcd_in_window": _fraction((qcd > low) & (qcd < high)),
        "qcd_heavy": _fraction(qcd > ref.QCD_HEAVY_MASS),
        "mass_rejection": (rejection.value, rejection.uncertainty,
                           f"68 % binomial, {rejection.background_passing} of {rejection.background_jets} QCD jets pass"),
        "mass_auc": (auc.value, auc.uncertainty, "DeLong"),
        "multiplicity": (float(multiplicity.mean()), float(multiplicity.std(ddof=1) / np.sqrt(len(multiplicity))), "standard error"),
    }


def reference_checks(features: pd.DataFrame, seed: int = 0) -> list[dict]:
    """The reference figures measured on a labelled features table: one row per figure, PASS if within tolerance."""
    measured = reference_measurements(features, seed)
    rows = []
    for figure in ref.FIGURES:
        value, uncertainty, method = measured[figure.key]
        rows.append({
            "name": figure.description, "key": figure.key, "measured": value, "uncertainty": uncertainty,
            "method": method, "reference": figure.reference, "target": figure.target, "tolerance": figure.tolerance,
            "unit": figure.unit, "source": figure.source, "passed": bool(abs(value - figure.target) <= figure.tolerance),
        })
    return rows


def format_reference_table(rows: list[dict]) -> list[str]:
    """The reference checks as aligned text lines: measured +- uncertainty, reference, target, PASS/FAIL."""
    def number(x: float, like: float) -> str:
        """x with 3 decimals if ``like`` (the row's value) is below 1, else 1."""
        return f"{x:.3f}" if abs(like) < 1 else f"{x:.1f}"

    lines = [f"{'check':<42} {'measured':>18} {'reference':>9} {'target':>16}  result  uncertainty from"]
    for row in rows:
        unit = f" {row['unit']}" if row["unit"] else ""
        measured = f"{number(row['measured'], row['target'])} ± {number(row['uncertainty'], row['target'])}"
        target = f"{number(row['target'], row['target'])} ± {number(row['tolerance'], row['target'])}{unit}"
        lines.append(f"{row['name']:<42} {measured:>18} {number(row['reference'], row['target']):>9} {target:>16}  "
                     f"{'PASS' if row['passed'] else 'FAIL':<6}  {row['method']}")
    return lines


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


def validate(directory: str | Path, out: str | Path, sample: str = "train", reference: bool = False) -> dict:
    """Run all checks on one sample and write plots and validation.json to out; return the report.

    reference: also run the reference checks (report["reference"], rows of reference_checks).
    """
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
    reference_rows = reference_checks(features) if reference else []
    report = {"directory": str(directory), "sample": sample, "jets": len(features), "checks": checks,
              "reference": reference_rows, "plots": [str(out / p) for p in plots],
              "passed": all(c["passed"] for c in checks + reference_rows)}
    (out / "validation.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
