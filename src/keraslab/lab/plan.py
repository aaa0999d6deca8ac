"""What the rehearsal runs: its parts, in order, at three sizes, each as one command.

Kept free of Keras imports. Each part is one process (``keraslab run ...``,
``keraslab toptag ...``, or a step of ``keraslab.lab.steps``), so each picks its own
Keras backend and a crash in one never takes the others down. A part names the
parts whose outputs it reads (``needs``): where one of them did not finish, it is
skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from keraslab.beyond.catalog import TOPICS
from keraslab.day1.catalog import PARTS as DAY_ONE
from keraslab.errors import UserError, parse_choices
from keraslab.run_folder import resumable
from keraslab.toptag.catalog import CUT_BASELINE, MODELS

KERASLAB = (sys.executable, "-m", "keraslab.cli")
STEPS = (sys.executable, "-m", "keraslab.lab.steps")
JETS = "jets"  # the part that makes (or checks) the jets folder
GENERATE_HINT = ("Pythia 8 and FastJet are missing: pip install 'keraslab[generate]' (wheels for Linux x86_64 only), "
                 "or give a jets folder with --jets DIR (e.g. from `keraslab toptag download`)")

# Section id -> heading, in the report's order
SECTIONS = {
    "day1": "Day one",
    "backup": "Back-up demonstrations",
    "beyond": "Beyond the slides",
    "jets": "Jets",
    "day2": "Day two: top tagging",
    "challenge": "The challenge: a dry run",
    "environment": "Environment check",
}


@dataclass(frozen=True)
class Size:
    """One size of the rehearsal: how many jets, and the options each part gets beyond its defaults."""

    name: str
    flag: str  # its keraslab lab option ("" for the default)
    jets: int  # jets generated when no --jets folder is given, all samples together
    networks: tuple[str, ...]  # the day-two networks trained (besides the cut-based baseline)
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # part -> extra options of its command
    topic_epochs: int | None = None  # --epochs of the parts beyond the slides (None: their own defaults)
    seconds: dict[str, float] = field(default_factory=dict)  # expected wall time per part on a 2-core CPU


# The lab's day-two networks: the DNN, the dense image network and the CNN of the slides
LAB_NETWORKS = ("toptag-dnn", "toptag-image-dense", "toptag-cnn")
_TOY_DAY_ONE = ("--samples", "1000", "--epochs", "2")
_QUICK_NET = ("--epochs", "1")

SIZES = {
    size.name: size
    for size in (
        Size("quick", "--quick", jets=400, networks=(*LAB_NETWORKS, "toptag-pfn"), options={
            "regression": _TOY_DAY_ONE, "classification": _TOY_DAY_ONE,
            "fashion-mnist": ("--layers", "32", "--epochs", "1"),
            "overtraining": ("--variants", "fashion-mlp-small,fashion-mlp-dropout", "--epochs", "2"),
            "cnn": ("--filters", "8,8", "--dense", "16", "--epochs", "1"),
            "backup": ("--small",),
            **{name: _QUICK_NET for name in LAB_NETWORKS}, "toptag-pfn": (*_QUICK_NET, "--constituents", "20"),
        }, topic_epochs=1, seconds={
            "regression": 8, "classification": 8, "fashion-mnist": 10, "overtraining": 12, "cnn": 12, "backup": 30,
            "jets": 15, "validation": 6, "toptag-baseline": 4, "toptag-dnn": 8, "toptag-image-dense": 8,
            "toptag-cnn": 10, "toptag-pfn": 8, "comparison": 5, "challenge": 40, "doctor": 10,
        }),
        # 10,000 jets: 6,000 to train, 1,500 each to validate and test (750 QCD jets: 1/eps_B measurable
        # up to about 750), 1,000 challenge jets; one to two and a half minutes with two Pythia workers (docs/lab.md)
        Size("default", "", jets=10_000, networks=(*LAB_NETWORKS, "toptag-pfn"), options={
            # the particle cloud at reduced size: 30 hardest constituents (of 100), 10 epochs (of 20)
            "toptag-pfn": ("--constituents", "30", "--epochs", "10"),
        }, seconds={
            "regression": 10, "classification": 12, "fashion-mnist": 40, "overtraining": 280, "cnn": 200,
            "backup": 75, "jets": 100, "validation": 15, "toptag-baseline": 8, "toptag-dnn": 25,
            "toptag-image-dense": 25, "toptag-cnn": 40, "toptag-pfn": 45, "comparison": 10, "challenge": 60,
            "doctor": 15,
        }),
        # the sizes of docs/toptag.md on one GPU: 120,000 jets (72,000 to train), every network at its defaults
        Size("full", "--full", jets=120_000, networks=tuple(MODELS)),
    )
}
DEFAULT_SECONDS = 60  # a part without an estimate (the parts beyond the slides)


@dataclass(frozen=True)
class Part:
    """One part of the rehearsal."""

    name: str
    section: str  # a key of SECTIONS
    title: str
    needs: tuple[str, ...] = ()  # parts whose outputs it reads


@dataclass(frozen=True)
class Context:
    """Where a rehearsal reads and writes, and how big it is."""

    out: Path  # one run folder per part in it
    size: Size
    data_dir: Path | None = None  # Fashion-MNIST files
    jets_dir: Path | None = None  # a jets folder given with --jets (else generated in out/jets)

    @property
    def jets(self) -> Path:
        return self.jets_dir or self.out / JETS

    def run_dir(self, part: str) -> Path:
        return self.out / part


def parts(size: Size, all_parts: bool = False) -> list[Part]:
    """Every part of the rehearsal at ``size``, in the order they run."""
    beyond = [Part(t.name, "beyond", t.title) for t in TOPICS.values() if t.name != "toptag-anomaly"]
    networks = [Part(name, "day2", MODELS[name].summary[0].upper() + MODELS[name].summary[1:], (JETS,))
                for name in size.networks]
    return [
        *(Part(p.name, "day1", p.title) for p in DAY_ONE.values()),
        Part("backup", "backup", "The slides' back-up pages, checked"),
        *(beyond if all_parts else ()),
        Part(JETS, "jets", "A jets folder"),
        Part("validation", "jets", "Validation of the jets", (JETS,)),
        Part(CUT_BASELINE, "day2", "The cut-based baseline: a mass window and a tau32 cut", (JETS,)),
        *networks,
        *([Part("toptag-anomaly", "beyond", TOPICS["toptag-anomaly"].title, (JETS,))] if all_parts else ()),
        Part("comparison", "day2", "Every tagger on the same jets", (JETS, CUT_BASELINE)),
        Part("challenge", "challenge", "The challenge: two teams submit through the real server",
             (JETS, *size.networks)),
        Part("doctor", "environment", "keraslab doctor"),
    ]


def choose(size: Size, all_parts: bool, names: str | None) -> list[Part]:
    """The parts named in ``names`` (comma-separated; all when None), in the rehearsal's order."""
    every = parts(size, True)
    if names is None:
        return parts(size, all_parts)
    chosen = set(parse_choices("part", names, {part.name: part for part in every}))
    return [part for part in every if part.name in chosen]


def _continue_or_replace(run_dir: Path, resume: bool) -> list[str]:
    """--resume where a finished epoch was saved and the run may continue, --overwrite where a run is in the way."""
    if resume and resumable(run_dir):
        return ["--resume"]
    return ["--overwrite"] if run_dir.exists() and any(run_dir.iterdir()) else []


def generate_extra_missing() -> bool:
    return any(importlib.util.find_spec(module) is None for module in ("pythia8mc", "fastjet"))


def precheck(part: Part, ctx: Context) -> str | None:
    """Why ``part`` cannot run here before it starts, or None."""
    if part.name == JETS and ctx.jets_dir is None and generate_extra_missing():
        return GENERATE_HINT
    return None


def _day_one(part: Part, ctx: Context) -> list[str]:
    command = [*KERASLAB, "run", part.name, "--out", str(ctx.run_dir(part.name)), *ctx.size.options.get(part.name, ())]
    if ctx.data_dir is not None and "data-dir" in DAY_ONE[part.name].options:
        command += ["--data-dir", str(ctx.data_dir)]
    return command + _continue_or_replace(ctx.run_dir(part.name), resume=True)


def _topic(part: Part, ctx: Context) -> list[str]:
    topic = TOPICS[part.name]
    flags = {option.flag for option in topic.options}
    command = [*KERASLAB, "run", part.name, "--out", str(ctx.run_dir(part.name))]
    if ctx.data_dir is not None and "--data-dir" in flags:
        command += ["--data-dir", str(ctx.data_dir)]
    if "--jets" in flags:
        command += ["--jets", str(ctx.jets)]
    if ctx.size.topic_epochs is not None and "--epochs" in flags:
        command += ["--epochs", str(ctx.size.topic_epochs)]
    # no per-epoch resume: an unfinished topic starts again
    return command + (["--overwrite"] if ctx.run_dir(part.name).exists() else [])


def _backup(part: Part, ctx: Context) -> list[str]:
    run_dir = ctx.run_dir(part.name)
    return [*KERASLAB, "run", "backup", "--out", str(run_dir), *ctx.size.options.get("backup", ()),
            *(["--overwrite"] if run_dir.exists() else [])]


def _jets(part: Part, ctx: Context) -> list[str]:
    if ctx.jets_dir is not None:
        return [*STEPS, "check-jets", str(ctx.jets_dir)]
    # one Pythia worker per core; a rerun finishes the chunks an interrupted one left
    return [*KERASLAB, "toptag", "generate", "--jets", str(ctx.size.jets), "--out", str(ctx.jets), "--workers",
            str(os.cpu_count() or 1)]


def _validation(part: Part, ctx: Context) -> list[str]:
    return [*KERASLAB, "toptag", "validate", str(ctx.jets), "--out", str(ctx.run_dir(part.name))]


def _baseline(part: Part, ctx: Context) -> list[str]:
    run_dir = ctx.run_dir(part.name)
    return [*KERASLAB, "run", part.name, "--data", str(ctx.jets), "--out", str(run_dir),
            *(["--overwrite"] if run_dir.exists() else [])]


def _network(part: Part, ctx: Context) -> list[str]:
    run_dir = ctx.run_dir(part.name)
    return [*KERASLAB, "run", part.name, "--data", str(ctx.jets), "--out", str(run_dir),
            *ctx.size.options.get(part.name, ()), *_continue_or_replace(run_dir, resume=True)]


def _comparison(part: Part, ctx: Context) -> list[str]:
    return [*STEPS, "comparison", "--runs", str(ctx.out), "--jets", str(ctx.jets), "--out",
            str(ctx.run_dir(part.name)), "--taggers", ",".join((CUT_BASELINE, *ctx.size.networks))]


def _challenge(part: Part, ctx: Context) -> list[str]:
    return [*STEPS, "challenge", "--runs", str(ctx.out), "--jets", str(ctx.jets), "--out",
            str(ctx.run_dir(part.name)), "--taggers", ",".join(ctx.size.networks)]


def _doctor(part: Part, ctx: Context) -> list[str]:
    command = [*KERASLAB, "doctor", "--jets", str(ctx.jets)]
    return command + (["--data-dir", str(ctx.data_dir)] if ctx.data_dir is not None else [])


_COMMANDS: dict[str, Callable[[Part, Context], list[str]]] = {
    **{name: _day_one for name in DAY_ONE}, **{name: _topic for name in TOPICS}, **{name: _network for name in MODELS},
    "backup": _backup, JETS: _jets, "validation": _validation, CUT_BASELINE: _baseline, "comparison": _comparison,
    "challenge": _challenge, "doctor": _doctor,
}


def command(part: Part, ctx: Context) -> list[str]:
    """The command line that runs ``part`` into ``ctx.run_dir(part.name)``."""
    return _COMMANDS[part.name](part, ctx)


def expected_seconds(part: Part, size: Size) -> float:
    return size.seconds.get(part.name, DEFAULT_SECONDS)


def size_named(quick: bool, full: bool) -> Size:
    if quick and full:
        raise UserError("--quick and --full contradict each other; choose one")
    return SIZES["quick" if quick else "full" if full else "default"]
