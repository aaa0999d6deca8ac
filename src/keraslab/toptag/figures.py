"""Top-tagging figures in the physics convention (matplotlib, mplhep style).

Each function draws on a given Axes (notebooks) or, without one, on a new
figure written as a PNG to ``path`` (run folders). File figures are plain
``matplotlib.figure.Figure`` objects, so no display or pyplot backend is
needed and a notebook's inline backend is left alone.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import matplotlib
import mplhep
import numpy as np
from matplotlib.figure import Figure

from keraslab.metrics import (
    CONFIDENCE_LEVEL,
    SIGNAL_EFFICIENCIES,
    efficiency_interval,
    rejection_text,
    rejection_with_uncertainty,
    roc,
)


def _drawing(draw):
    """Run ``draw(ax, ...)`` on the given Axes, or on a new mplhep-styled figure saved to ``path``."""

    @functools.wraps(draw)
    def wrapper(*args, ax=None, path: Path | None = None, figsize=(7, 5.5), **kwargs) -> Path | None:
        if ax is not None:
            draw(*args, ax=ax, **kwargs)
            return None
        if path is None:
            raise ValueError("give an Axes to draw on or a path to write the PNG to")
        with matplotlib.rc_context(mplhep.style.ROOT):
            figure = Figure(figsize=figsize)
            draw(*args, ax=figure.subplots(), **kwargs)
            figure.tight_layout()
            figure.savefig(path, dpi=100)
        return Path(path)

    return wrapper


@_drawing
def signal_probability(labels: np.ndarray, scores: np.ndarray, *, ax, title: str = "") -> None:
    """Histograms of the predicted top probability for top (signal) and QCD (background) jets."""
    bins = np.linspace(0, 1, 41)
    labels = np.asarray(labels).astype(bool)
    ax.hist(scores[labels], bins=bins, histtype="step", density=True, lw=2, label="top jets (signal)")
    ax.hist(scores[~labels], bins=bins, histtype="step", density=True, lw=2, label="QCD jets (background)")
    ax.set_xlabel("predicted top probability")
    ax.set_ylabel("jets (normalised)")
    ax.set_yscale("log")
    ax.set_title(title, fontsize=14)
    ax.legend(fontsize=12)


@_drawing
def rejection_curves(
    curves: Mapping[str, tuple[np.ndarray, np.ndarray]],
    *,
    ax,
    published: Mapping[str, float] | None = None,
    baseline: str | None = None,
    title: str = "",
) -> None:
    """Background rejection 1/eps_B against signal efficiency eps_S, log y: one curve per tagger.

    ``curves`` maps a label to (labels, scores). Each curve carries a band, the binomial interval of
    eps_B from the background jets that pass (keraslab.metrics.efficiency_interval), and error bars at
    the SIGNAL_EFFICIENCIES; the legend gives 1/eps_B there with its interval. ``published`` maps a label
    to a published 1/eps_B at eps_S = 0.3, drawn as open markers (other data). The curve named
    ``baseline`` is drawn dashed black.
    """
    # tab10 without its grey, the colour of the published markers
    colours = [colour for i, colour in enumerate(matplotlib.colormaps["tab10"].colors) if i != 7]
    for i, (name, (labels, scores)) in enumerate(curves.items()):
        eps_s, eps_b = roc(labels, scores)
        n_background = int(np.sum(np.asarray(labels) == 0))
        keep = (eps_b > 0) & (eps_s > 0.05)
        style = {"color": "black", "ls": "--"} if name == baseline else {"color": colours[i % len(colours)]}
        eps_low, eps_high = efficiency_interval(np.rint(eps_b[keep] * n_background), n_background)
        ax.fill_between(eps_s[keep], 1 / eps_high, 1 / eps_low, color=style["color"], alpha=0.15, lw=0)
        rejections = [rejection_with_uncertainty(labels, scores, eff) for eff in SIGNAL_EFFICIENCIES]
        label = f"{name}: " + ", ".join(rejection_text(r.value, r.low, r.high) for r in rejections)
        ax.plot(eps_s[keep], 1 / eps_b[keep], lw=2, label=label, **style)
        for eff, rejection in zip(SIGNAL_EFFICIENCIES, rejections, strict=True):
            if np.isfinite(rejection.high):
                # max: no negative bar from rounding where the value sits at a bound (eps_B = 1)
                ax.errorbar([eff], [rejection.value], yerr=[[max(rejection.value - rejection.low, 0.0)],
                                                            [max(rejection.high - rejection.value, 0.0)]],
                            color=style["color"], marker="o", ms=4, capsize=4, lw=1.5, ls="none")
            else:  # no background passes: only the lower bound is known, drawn as an upward triangle
                ax.plot([eff], [rejection.low], marker="^", ms=8, ls="none", color=style["color"])
    for i, (name, value) in enumerate((published or {}).items()):
        ax.plot([0.3], [value], marker="os^vDP"[i % 6], mfc="none", ms=9, ls="none", color="grey",
                label=f"{name}: {value:g} (published, reference data)")
    for eff in SIGNAL_EFFICIENCIES:
        ax.axvline(eff, color="grey", lw=0.8, ls=":")
    ax.set_yscale("log")
    ax.set_xlim(0, 1)
    ax.set_xlabel(r"signal efficiency $\varepsilon_S$")
    ax.set_ylabel(r"background rejection $1/\varepsilon_B$")
    ax.set_title(title, fontsize=14)
    at = " and ".join(f"{eff}" for eff in SIGNAL_EFFICIENCIES)
    ax.legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.02, 1.0),
              title=rf"$1/\varepsilon_B$ at $\varepsilon_S$ = {at}" + f"\n(band, bars: {CONFIDENCE_LEVEL:.0%} binomial)",
              title_fontsize=10)
