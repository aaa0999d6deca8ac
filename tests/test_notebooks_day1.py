"""The day-one notebooks, as students and tutors get them (``keraslab.editions``).

- Tutor editions run at SMALL size and end with assertions of their lesson's claims;
  Fashion-MNIST claims need the real images (CI has them; elsewhere the test skips and
  says how to get them), while tiny look-alikes of noise check that everything runs.
- Student editions run top to bottom with every exercise empty: each check prints one
  hint, nothing raises, and no solution is left in them.
"""

from pathlib import Path

import jupytext
import pytest
from system_services import fashion_mnist_dir

from notebooks import CLAIMS_HOLD, named_edition, printed, run_notebook, stdout

LABS = Path(__file__).resolve().parents[1] / "labs"
TOY = ["01_regression.py", "02_classification.py"]
FASHION = ["03_fashion_mnist.py", "04_overtraining.py"]


def _source(name):
    return jupytext.read(LABS / name)


def _check_cells(notebook):
    return [cell for cell in notebook.cells if "check" in cell.metadata.get("tags", [])]


def _run(name, which, parameters):
    return run_notebook(named_edition(LABS / name, which), parameters, timeout=900)


def _assert_tutor_ran(executed):
    lines = printed(executed, "check")
    assert len(lines) == len(_check_cells(executed)) and all(line[0] in "✔✘" for line in lines), lines
    drawn = [cell for cell in executed.cells if cell.cell_type == "code" and "figures." in cell.source]
    assert all(any("image/png" in output.get("data", {}) for output in cell.outputs) for cell in drawn), \
        "every figure of the package shows inline"
    assert CLAIMS_HOLD in stdout(executed.cells[-1])


@pytest.mark.parametrize("name", TOY)
def test_tutor_toy_notebook_asserts_its_lesson(name):
    executed = _run(name, "tutor", {"SMALL": True})
    _assert_tutor_ran(executed)
    assert any(line.startswith("✔") for line in printed(executed, "check"))  # e.g. the 881 network, the hand accuracy


@pytest.mark.parametrize("name", FASHION)
def test_tutor_fashion_notebook_asserts_its_lesson_on_real_images(name, monkeypatch):
    monkeypatch.delenv("KERASLAB_FASHION_MNIST_SHA256SUMS", raising=False)
    executed = _run(name, "tutor", {"SMALL": True, "DATA_DIR": fashion_mnist_dir()})
    _assert_tutor_ran(executed)


@pytest.mark.parametrize("name", FASHION)
def test_fashion_notebook_runs_on_look_alike_images(name, tiny_fashion, monkeypatch):
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))  # the kernel inherits it
    _run(name, "tutor", {"SMALL": True, "DATA_DIR": str(tiny_fashion), "CHECK_CLAIMS": False})


@pytest.mark.parametrize("name", TOY + FASHION)
def test_student_notebook_runs_with_empty_exercises_and_hints(name, tiny_fashion, monkeypatch):
    source = _source(name)
    student = named_edition(LABS / name, "student")
    solutions = [cell.source for cell in source.cells if "solution" in cell.metadata.get("tags", [])]
    assert not [cell for cell in student.cells if cell.source in solutions or "solution" in cell.metadata.get("tags", [])]
    stubs = [cell for cell in student.cells if "exercise" in cell.metadata.get("tags", [])]
    assert len(stubs) >= 2, "each day-one notebook has at least two exercises"
    assert len(solutions) >= len(stubs) and all("# your code here" in cell.source for cell in stubs)

    parameters = {"SMALL": True}
    if name in FASHION:
        monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))
        parameters |= {"DATA_DIR": str(tiny_fashion), "CHECK_CLAIMS": False}
    lines = printed(run_notebook(student, parameters, timeout=900), "check")
    assert len(lines) == len(_check_cells(student)), lines
    assert all(line.startswith("✘") and "nothing to check yet" in line for line in lines), lines
