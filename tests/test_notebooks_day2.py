"""The day-two notebooks run top to bottom on the tiny generated jets, and keep the lab's shape."""

from __future__ import annotations

from pathlib import Path

import jupytext
import pytest
from notebooks import run_notebook

LABS = Path(__file__).resolve().parents[1] / "labs"
DAY2 = ["06_toptag_constituents.py", "07_toptag_images.py"]


@pytest.mark.parametrize("name", DAY2)
def test_notebook_has_parameters_and_hidden_answers(name):
    notebook = jupytext.read(LABS / name)
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "SMALL = False" in parameters[0].source and "DATA = " in parameters[0].source
    hidden = [c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden and all("Question" in c.source for c in hidden)


@pytest.mark.parametrize("name", DAY2)
def test_notebook_runs_small(name, tiny_jets):
    run_notebook(LABS / name, {"SMALL": True, "DATA": str(tiny_jets)}, timeout=600)
