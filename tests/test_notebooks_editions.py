"""Student and tutor editions from one jupytext source (keraslab.editions, make notebooks)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from small_lab import ANSWER, CHECK, QUESTION, SOLUTION, STUB, write_small_lab

from keraslab.editions import edition, read_source, write_editions
from keraslab.errors import UserError

LABS = Path(__file__).resolve().parents[1] / "labs"


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _sources(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells]


@pytest.fixture
def written(tmp_path):
    """The small lab's two editions, written by write_editions, read back."""
    write_small_lab(tmp_path / "labs")
    paths = write_editions(tmp_path / "labs", tmp_path / "notebooks")
    assert sorted(path.relative_to(tmp_path) for path in paths) == [
        Path("notebooks/student/00_small.ipynb"),
        Path("notebooks/tutor/00_small.ipynb"),
    ]
    return {name: nbformat.read(tmp_path / "notebooks" / name / "00_small.ipynb", as_version=4) for name in ("student", "tutor")}


def test_student_edition_has_the_stub_and_no_solution(written, tmp_path):
    student = written["student"]
    nbformat.validate(student)
    assert not [cell for cell in student.cells if "solution" in _tags(cell)]
    assert "secret_solution_network" not in (tmp_path / "notebooks/student/00_small.ipynb").read_text()
    assert STUB in _sources(student) and CHECK in _sources(student)
    code = [cell for cell in student.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_tutor_edition_has_the_solution_and_not_the_stub(written):
    tutor = written["tutor"]
    nbformat.validate(tutor)
    assert SOLUTION in _sources(tutor) and CHECK in _sources(tutor)
    assert STUB not in _sources(tutor)
    assert not [cell for cell in tutor.cells if "exercise" in _tags(cell)]


@pytest.mark.parametrize("name", ["student", "tutor"])
def test_hidden_answers_and_slide_breaks_stay_in_both_editions(written, name):
    notebook = written[name]
    answer = next(cell for cell in notebook.cells if cell.source == ANSWER)
    assert answer.metadata["jupyter"] == {"source_hidden": True}
    assert QUESTION in _sources(notebook)
    assert [cell.metadata["slideshow"]["slide_type"] for cell in notebook.cells if "slideshow" in cell.metadata][:3] == ["slide", "skip", "slide"]
    assert "jupytext" not in notebook.metadata  # a plain notebook, paired with no script


def test_edition_clears_outputs():
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("1 + 1", execution_count=3, outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]),
            nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution"]}),
        ]
    )
    student = edition(notebook, "student")
    assert len(student.cells) == 1
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None
    assert notebook.cells[0].outputs, "the source notebook must stay as it was"


def test_editions_are_reproducible_and_follow_the_source(tmp_path):
    source = write_small_lab(tmp_path / "labs")
    first = write_editions(tmp_path / "labs", tmp_path / "out")
    before = [path.read_bytes() for path in first]
    assert [path.read_bytes() for path in write_editions(tmp_path / "labs", tmp_path / "out")] == before
    source.write_text(source.read_text().replace("Build the 881-parameter network.", "Build it now."))
    write_editions(tmp_path / "labs", tmp_path / "out")  # unchanged since written: replaced
    assert "Build it now." in (tmp_path / "out/student/00_small.ipynb").read_text()


def test_a_students_work_is_not_overwritten(tmp_path):
    write_small_lab(tmp_path / "labs")
    write_editions(tmp_path / "labs", tmp_path / "out")
    work = tmp_path / "out/student/00_small.ipynb"
    notebook = nbformat.read(work, as_version=4)
    notebook.cells[0].source += "\nmy notes"
    nbformat.write(notebook, work)
    saved = work.read_bytes()
    with pytest.raises(UserError, match="changed since it was written"):
        write_editions(tmp_path / "labs", tmp_path / "out")
    assert work.read_bytes() == saved
    write_editions(tmp_path / "labs", tmp_path / "out", overwrite=True)
    assert "my notes" not in work.read_text()


def test_an_output_folder_that_is_a_file_is_a_user_error(tmp_path):
    write_small_lab(tmp_path / "labs")
    (tmp_path / "out").write_text("someone's file")
    with pytest.raises(UserError, match="cannot write in"):
        write_editions(tmp_path / "labs", tmp_path / "out")
    assert (tmp_path / "out").read_text() == "someone's file"


@pytest.mark.parametrize("source", sorted(LABS.glob("*.py")), ids=lambda path: path.stem)
def test_every_lab_has_both_editions(source):
    notebook = read_source(source)
    student, tutor = edition(notebook, "student"), edition(notebook, "tutor")
    assert student.cells and tutor.cells
    assert not [cell for cell in student.cells if "solution" in _tags(cell)]
    assert not [cell for cell in tutor.cells if "exercise" in _tags(cell)]
    solutions = [cell.source for cell in notebook.cells if "solution" in _tags(cell)]
    assert not set(solutions) & set(_sources(student))
    assert set(solutions) <= set(_sources(tutor))


def test_make_notebooks_writes_every_lab(tmp_path):
    labs = sorted(LABS.glob("*.py"))
    written = write_editions(LABS, tmp_path)
    assert sorted(path.relative_to(tmp_path).as_posix() for path in written) == sorted(
        f"{name}/{lab.stem}.ipynb" for lab in labs for name in ("student", "tutor")
    )


@pytest.mark.parametrize("command", ["notebooks", "slides"])
def test_a_missing_source_folder_is_one_line_error(tmp_path, command):
    result = subprocess.run(
        [sys.executable, "-m", "keraslab.editions", command, "--sources", "no-such-labs"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and "no-such-labs" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir()), "nothing written"
