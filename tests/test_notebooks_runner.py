"""The shared notebook runner: parameters injected after the tagged cell, errors surfaced."""

import pytest
from notebooks import run_notebook

NOTEBOOK = '''# %% tags=["parameters"]
SMALL = False
ANSWER = 1

# %%
import sys, pathlib
assert SMALL is True, "the injected cell must come after the parameters cell"
pathlib.Path("{out}").write_text(f"{{ANSWER}} {{sys.executable}}")
'''


def test_parameters_are_injected_and_the_venv_kernel_runs(tmp_path):
    import sys

    out = tmp_path / "out.txt"
    script = tmp_path / "nb.py"
    script.write_text(NOTEBOOK.format(out=out))
    run_notebook(script, {"SMALL": True, "ANSWER": 42}, timeout=120)
    answer, executable = out.read_text().split(" ", 1)
    assert answer == "42" and executable == sys.executable


def test_a_failing_cell_fails_with_its_error(tmp_path):
    script = tmp_path / "nb.py"
    script.write_text(NOTEBOOK.format(out=tmp_path / "out.txt"))
    with pytest.raises(AssertionError, match="the injected cell must come after"):
        run_notebook(script, {"ANSWER": 1}, timeout=120)


def test_the_kernel_ends_with_the_run(tmp_path):
    import os

    script = tmp_path / "nb.py"
    script.write_text('# %% tags=["parameters"]\nSMALL = False\n\n# %%\nimport os\nprint(os.getpid())\n')
    executed = run_notebook(script, {"SMALL": True}, timeout=120)
    kernel_pid = int(executed.cells[-1].outputs[0]["text"])
    with pytest.raises(ProcessLookupError):  # a kernel left running holds a GB per notebook test
        os.kill(kernel_pid, 0)
