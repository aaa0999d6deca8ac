"""The rehearsal's plan and runner without training: its parts, their commands, a missing generate extra."""

from pathlib import Path

import pytest

from keraslab.cli import app
from keraslab.errors import UserError
from keraslab.lab import plan, runner


def _parses(command: list[str]) -> None:
    """The keraslab command line accepts ``command`` (its group, subcommand and every option exist)."""
    from typer.main import get_command

    assert command[:3] == list(plan.KERASLAB)
    words, cli = command[3:], get_command(app)
    while hasattr(cli, "get_command"):  # a group: descend into the named subcommand
        name = words.pop(0)
        cli = cli.get_command(None, name)
        assert cli is not None, f"no command {name!r} in {command}"
    cli.make_context(cli.name, words)  # raises on an unknown option or a bad value


@pytest.mark.parametrize("size", plan.SIZES)
def test_every_part_is_a_command_keraslab_knows(size, tmp_path):
    ctx = plan.Context(out=tmp_path / "runs", size=plan.SIZES[size], data_dir=tmp_path)
    parts = plan.parts(ctx.size, all_parts=True)
    assert [p.section for p in parts if p.section != "beyond"] == sorted(
        (p.section for p in parts if p.section != "beyond"), key=list(plan.SECTIONS).index)
    for part in parts:
        command = plan.command(part, ctx)
        if command[:3] == list(plan.KERASLAB):
            _parses(command)
        else:
            assert command[:3] == list(plan.STEPS) and command[3] in ("comparison", "challenge", "check-jets")


def test_the_default_size_is_the_whole_lab():
    size = plan.SIZES["default"]
    names = [part.name for part in plan.parts(size)]
    assert names[:6] == ["regression", "classification", "fashion-mnist", "overtraining", "cnn", "backup"]
    assert {"jets", "validation", "toptag-baseline", "toptag-dnn", "toptag-image-dense", "toptag-cnn", "comparison",
            "challenge", "doctor"} <= set(names)
    particle_clouds = [name for name in names if name in ("toptag-pfn", "toptag-particlenet")]
    assert particle_clouds == ["toptag-pfn"] and "--constituents" in size.options["toptag-pfn"]  # reduced size
    assert not any(name in plan.DAY_ONE for name in size.options)  # day one at the slides' sizes
    assert "callbacks" not in names and "callbacks" in [p.name for p in plan.parts(size, all_parts=True)]
    assert sum(plan.expected_seconds(part, size) for part in plan.parts(size)) <= 20 * 60


def test_parts_and_sizes_are_checked():
    with pytest.raises(UserError, match="dessert"):
        plan.choose(plan.SIZES["quick"], False, "regression,dessert")
    assert [p.name for p in plan.choose(plan.SIZES["quick"], False, "challenge,regression")] == ["regression",
                                                                                                   "challenge"]
    with pytest.raises(UserError, match="contradict"):
        plan.size_named(quick=True, full=True)


def test_without_pythia_the_jets_parts_fail_with_the_install_hint(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(plan, "generate_extra_missing", lambda: True)
    ctx = plan.Context(out=tmp_path, size=plan.SIZES["quick"])
    chosen = plan.choose(ctx.size, False, "jets,validation,toptag-cnn")
    status = runner.Rehearsal(ctx, chosen, resume=False, rerun_hint="keraslab lab --parts {parts} --resume").run()
    assert status["parts"]["jets"]["status"] == runner.FAILED
    assert "pip install 'keraslab[generate]'" in status["parts"]["jets"]["message"]
    assert {status["parts"][name]["status"] for name in ("validation", "toptag-cnn")} == {runner.SKIPPED}
    ran, line = runner.verdict(status)
    assert not ran and "jets failed" in line and "keraslab[generate]" in line and "--jets DIR" in line
    assert "skipped for it: validation, toptag-cnn" in line
    assert "keraslab lab --parts jets,validation,toptag-cnn --resume" in line
    assert not (tmp_path / "logs").exists()  # nothing was started


def test_with_a_jets_folder_no_pythia_is_needed(tmp_path, monkeypatch):
    monkeypatch.setattr(plan, "generate_extra_missing", lambda: True)
    ctx = plan.Context(out=tmp_path, size=plan.SIZES["quick"], jets_dir=Path("given"))
    jets = plan.choose(ctx.size, False, "jets")[0]
    assert plan.precheck(jets, ctx) is None and plan.command(jets, ctx)[3:] == ["check-jets", "given"]


def test_log_lines_are_what_the_terminal_showed():
    log = "Epoch 1/2\n\x1b[1m1/4\x1b[0m \x1b[32m━━\x1b[0m\r\x1b[1m4/4\x1b[0m ━━━━ loss: 0.5\r\nready\n"
    assert runner.terminal_lines(log) == ["Epoch 1/2", "4/4 ━━━━ loss: 0.5", "ready"]


def test_last_error_finds_the_line_that_says_what_went_wrong():
    log = "Epoch 1/2\r 1/4 ━━\r 4/4 ━━━━\nTraceback (most recent call last):\n  x\nNameError: name 'y' is not defined\n"
    assert runner.last_error(log) == "NameError: name 'y' is not defined"
    assert runner.last_error("working\nerror: --data-dir /x does not exist; pass ...\n\n").startswith("error: --data")


def test_parts_on_a_given_jets_folder_run_without_the_jets_part(tmp_path):
    ctx = plan.Context(out=tmp_path, size=plan.SIZES["quick"], jets_dir=tmp_path / "given")
    chosen = plan.choose(ctx.size, True, "toptag-anomaly")
    rehearsal = runner.Rehearsal(ctx, chosen, resume=False, rerun_hint="keraslab lab --parts {parts} --resume")
    assert rehearsal._blocked_by(chosen[0]) is None
    without_folder = runner.Rehearsal(plan.Context(out=tmp_path / "other", size=ctx.size), chosen, resume=False,
                                      rerun_hint="")
    assert "needs part jets" in without_folder._blocked_by(chosen[0])


def test_a_verdict_with_only_skipped_parts_says_why():
    status = {"order": ["toptag-anomaly"], "rerun": "keraslab lab --parts {parts} --resume",
              "parts": {"toptag-anomaly": {"status": runner.SKIPPED, "message": "needs part jets, which did not run"}}}
    ran, line = runner.verdict(status)
    assert not ran and line.startswith("NOT everything ran: toptag-anomaly skipped (needs part jets")
