"""Notebooks on a kernel that lacks keraslab or its data (a hosted Jupyter): one line, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jupytext
import pytest
from notebooks import run_notebook

LABS = sorted((Path(__file__).resolve().parents[1] / "labs").glob("*.py"))


@pytest.mark.parametrize("lab", LABS, ids=lambda path: path.stem)
def test_first_cell_after_the_parameters_says_keraslab_is_missing(lab):
    cells = [cell for cell in jupytext.read(lab).cells if cell.cell_type == "code"]
    assert "parameters" in cells[0].metadata.get("tags", [])
    guard = cells[1].source
    # the interpreter the venv was made from has no keraslab
    bare = Path(sys.base_prefix) / "bin" / "python3"
    result = subprocess.run([str(bare), "-c", guard], capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("keraslab is not installed in this kernel: pip install")
    assert len(result.stderr.strip().splitlines()) == 1
    # with keraslab there, the guard passes silently
    assert subprocess.run([sys.executable, "-c", guard], capture_output=True, text=True).returncode == 0


def test_a_user_error_in_a_notebook_is_one_line(tmp_path):
    script = tmp_path / "nb.py"
    script.write_text('# %% tags=["parameters"]\nDATA_DIR = None\n\n# %%\n'
                      "from keraslab.day1 import fashion_mnist\nfashion_mnist.load(DATA_DIR)\n")
    with pytest.raises(AssertionError) as failed:  # the run still stops at the failing cell
        run_notebook(script, {"DATA_DIR": str(tmp_path / "nowhere")}, timeout=120)
    shown = str(failed.value).split("----- stderr -----", 1)[-1]
    assert "error: Fashion-MNIST folder" in shown and "does not exist" in shown
    assert "Traceback" not in str(failed.value) and "UserError" not in str(failed.value)
