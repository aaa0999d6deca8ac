"""Run a lab notebook (a jupytext percent script) top to bottom, papermill style.

``run_notebook(path, parameters, timeout=600)`` reads ``path`` with jupytext, inserts
a code cell assigning ``parameters`` right after the cell tagged "parameters",
and executes the notebook with nbclient in a python3 kernel running THIS
interpreter (the venv's), in a scratch working folder. A failing cell fails the
caller with that cell's source and error.

Import it from tests (tests/ is on sys.path under pytest): ``from notebooks import run_notebook``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import jupytext
import nbformat
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def _inject(notebook: nbformat.NotebookNode, parameters: dict[str, object]) -> None:
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise AssertionError("the notebook has no cell tagged 'parameters'")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(tagged[0] + 1, cell)


def run_notebook(path: Path, parameters: dict[str, object], timeout: int = 600) -> None:
    """Execute the notebook at ``path`` with ``parameters`` injected; raise AssertionError on a failing cell."""
    path = Path(path)
    notebook = jupytext.read(path)
    _inject(notebook, parameters)
    with tempfile.TemporaryDirectory(prefix="keraslab-notebook-") as scratch:
        # A kernel spec for this very interpreter: the installed "python3" spec may name
        # a bare "python", which is whatever comes first on PATH.
        kernels = Path(scratch) / "kernels"
        write_kernel_spec(kernels / "python3", overrides={"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]})
        manager = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
        workdir = Path(scratch) / "work"
        workdir.mkdir()
        client = NotebookClient(notebook, km=manager, timeout=timeout, resources={"metadata": {"path": str(workdir)}})
        try:
            client.execute()
        except CellExecutionError as err:
            raise AssertionError(f"{path.name} failed:\n{err}") from None
