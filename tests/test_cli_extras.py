"""A command whose optional dependencies (pyproject.toml's extras) are missing names the extra:
one line, exit code 2. The missing module is simulated with sys.modules[name] = None."""

import runpy
import sys

import pytest
from cli_runner import run_cli


def missing(monkeypatch, *modules: str) -> None:
    """Make ``import module`` fail for each of ``modules``, and forget keraslab modules that imported them."""
    for name in modules:
        for loaded in [m for m in sys.modules if m.startswith(name + ".")]:
            monkeypatch.delitem(sys.modules, loaded)
        monkeypatch.setitem(sys.modules, name, None)
    for name in ("keraslab.challenge.store", "keraslab.challenge.db", "keraslab.challenge.server",
                 "keraslab.challenge.guard", "keraslab.editions"):
        monkeypatch.delitem(sys.modules, name, raising=False)
        package, _, attribute = name.rpartition(".")  # `from package import attribute` would find it there
        if package in sys.modules:
            monkeypatch.delattr(sys.modules[package], attribute, raising=False)


def one_line_naming(capsys, extra: str) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and f"pip install 'keraslab[{extra}]'" in lines[0]
    assert "is missing" in lines[0]  # which module: the first missing one (the base-only CI venv lacks them all)
    return lines[0]


@pytest.mark.parametrize("module", ["pythia8mc", "fastjet"])
def test_generate_without_the_generate_extra(monkeypatch, capsys, tmp_path, module):
    missing(monkeypatch, module)
    assert run_cli("toptag", "generate", "--jets", "100", "--out", str(tmp_path / "jets")) == 2
    one_line_naming(capsys, "generate")
    assert not (tmp_path / "jets" / "manifest.json").exists()


def test_dask_scheduler_without_the_generate_extra(monkeypatch, capsys, tmp_path):
    missing(monkeypatch, "distributed")
    code = run_cli("toptag", "generate", "--jets", "100", "--out", str(tmp_path / "jets"), "--scheduler", "tcp://127.0.0.1:1")
    assert code == 2
    one_line_naming(capsys, "generate")


@pytest.mark.parametrize(
    ("args", "module"),
    [
        (["challenge", "serve", "--db", "{db}"], "uvicorn"),
        (["challenge", "team", "list", "--db", "{db}"], "sqlalchemy"),
        (["challenge", "init", "--truth", "{db}", "--db", "{db}"], "sqlalchemy"),
    ],
)
def test_server_commands_without_the_server_extra(monkeypatch, capsys, tmp_path, args, module):
    missing(monkeypatch, module)
    assert run_cli(*(a.format(db=tmp_path / "challenge.db") for a in args)) == 2
    one_line_naming(capsys, "server")


def test_editions_without_the_notebooks_extra(monkeypatch, capsys, tmp_path):
    missing(monkeypatch, "nbconvert")
    monkeypatch.setattr(sys, "argv", ["keraslab.editions", "notebooks", "--out", str(tmp_path)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module("keraslab.editions", run_name="__main__")
    assert exit_info.value.code == 2
    one_line_naming(capsys, "notebooks")


def test_importing_editions_without_the_notebooks_extra_is_a_user_error(monkeypatch):
    from keraslab.errors import UserError

    missing(monkeypatch, "jupytext")
    with pytest.raises(UserError, match=r"keraslab\[notebooks\]"):
        import keraslab.editions  # noqa: F401


def test_a_missing_keraslab_module_is_not_blamed_on_an_extra():
    from keraslab.errors import needs_extra

    with pytest.raises(ModuleNotFoundError), needs_extra("generate"):
        import keraslab.no_such_module  # noqa: F401
