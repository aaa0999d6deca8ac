"""Run a lab notebook (a jupytext percent script) top to bottom, papermill style.

``run_notebook(source, parameters, timeout=600)`` reads ``source`` (a path, read with
jupytext, or a notebook already read, e.g. a student edition) , inserts a code cell
assigning ``parameters`` right after the cell tagged "parameters", and executes the
notebook with nbclient in a python3 kernel running THIS interpreter (the venv's), in a
scratch working folder. A failing cell fails the caller with that cell's source and
error; otherwise the executed notebook is returned. ``printed(notebook, tag)`` gives
the printed lines of the cells with a tag (e.g. "check"), ``stdout(cell)`` all that one
cell printed. ``named_edition(path, which)`` is the student or tutor edition of a lab,
named so that a failing cell says which; ``CLAIMS_HOLD`` is the line every lesson's
claims cell prints last when its claims hold.

Import it from tests (tests/ is on sys.path under pytest): ``from notebooks import run_notebook``.
"""

from __future__ import annotations

import copy
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

from keraslab.editions import edition, read_source

CLAIMS_HOLD = "the lesson's claims hold"


def named_edition(path: Path, which: str) -> nbformat.NotebookNode:
    """The ``which`` ("student" or "tutor") edition of the lab at ``path``, as make notebooks writes it."""
    notebook = edition(read_source(path), which)
    notebook.metadata["name"] = f"{which} {path.name}"
    return notebook


def _inject(notebook: nbformat.NotebookNode, parameters: dict[str, object]) -> None:
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if not tagged:
        raise AssertionError("the notebook has no cell tagged 'parameters'")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(tagged[0] + 1, cell)


def run_notebook(source: Path | nbformat.NotebookNode, parameters: dict[str, object],
                 timeout: int = 600) -> nbformat.NotebookNode:
    """Execute the notebook ``source`` with ``parameters`` injected and return it executed;
    raise AssertionError on a failing cell."""
    if isinstance(source, nbformat.NotebookNode):
        notebook, name = copy.deepcopy(source), source.metadata.get("name", "notebook")
    else:
        notebook, name = jupytext.read(source), Path(source).name
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
            raise AssertionError(f"{name} failed:\n{err}") from None
        finally:  # the client does not own a kernel manager it was given: end its kernel here
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
    return notebook


def printed(notebook: nbformat.NotebookNode, tag: str) -> list[str]:
    """The lines printed (stdout) by the executed code cells tagged ``tag``, in order."""
    lines = []
    for cell in notebook.cells:
        if cell.cell_type == "code" and tag in cell.metadata.get("tags", []):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stdout":
                    lines += [line for line in output["text"].splitlines() if line.strip()]
    return lines


def stdout(cell: nbformat.NotebookNode) -> str:
    """All that one executed code cell printed to stdout."""
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.get("name") == "stdout")
