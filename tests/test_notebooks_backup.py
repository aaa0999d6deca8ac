"""The back-up notebook (labs/05_backup.py) at its small size, in both editions.

Tutor edition: every exercise's check passes and every page agrees with the package
(the cell tagged "claims" asserts it and prints one "holds" line per claim).
Student edition: no solution left, the exercises empty, and each check answers with
its hint instead of raising.
"""

from pathlib import Path

from notebooks import named_edition, printed, run_notebook

from keraslab.editions import edition, read_source

NOTEBOOK = Path(__file__).resolve().parents[1] / "labs" / "05_backup.py"
EXERCISES = 4
PAGES_CHECKED = 8  # claims in the summary cell


def tagged(notebook, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def run_edition(which: str):
    return run_notebook(named_edition(NOTEBOOK, which), {"SMALL": True}, timeout=600)


def test_tutor_edition_passes_every_check_and_every_page_agrees_with_the_package():
    executed = run_edition("tutor")
    checks = printed(executed, "check")
    assert len(checks) == EXERCISES and all(line.startswith("✔ ") for line in checks), checks
    claims = printed(executed, "claims")
    assert len(claims) == PAGES_CHECKED and all(line.startswith("holds ") for line in claims), claims


def test_student_edition_runs_with_empty_exercises_and_every_check_gives_its_hint():
    source = read_source(NOTEBOOK)
    student = edition(source, "student")
    solutions = [cell.source for cell in tagged(source, "solution")]
    assert len(solutions) == EXERCISES
    assert not [cell for cell in student.cells if any(solution in cell.source for solution in solutions)]
    checks = printed(run_edition("student"), "check")
    assert len(checks) == EXERCISES and all(line.startswith("✘ ") and "nothing to check yet" in line for line in checks), checks
