"""The day-two notebooks on the tiny generated jets, as students and tutors get them.

- Tutor editions end with a cell asserting their lesson's claims (one "holds" line
  each); the claims that need 10,000 training jets (the CNN and the PFN beat the DNN
  by more than twice the uncertainty) are asserted only at full size.
- 07's challenge cells upload to a real leaderboard server when given a token, and
  skip the upload with a message saying how to get one when not.
- Student editions run with every exercise empty: each check prints its hint.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import jupytext
import numpy as np
import pytest
from challenge_servers import add_teams, bearer
from local_services import running_server
from notebooks import named_edition, printed, run_notebook

from keraslab.challenge import store
from keraslab.challenge.db import make_engine
from keraslab.editions import edition, read_source

LABS = Path(__file__).resolve().parents[1] / "labs"
DAY2 = ["06_toptag_constituents.py", "07_toptag_images.py"]
CLAIMS_AT_SMALL_SIZE = {"06_toptag_constituents.py": 3, "07_toptag_images.py": 4}
NO_UPLOAD = "No upload: set TOKEN to your team's token"


def tagged(notebook, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def run_edition(name: str, which: str, data: Path, change=None):
    notebook = named_edition(LABS / name, which)
    if change:
        change(notebook)
    return run_notebook(notebook, {"SMALL": True, "DATA": str(data)}, timeout=900)


def printed_by(notebook, fragment: str) -> list[str]:
    """Lines printed by the code cell whose source holds ``fragment``."""
    (cell,) = [cell for cell in notebook.cells if cell.cell_type == "code" and fragment in cell.source]
    return [line for output in cell.outputs for line in output.get("text", "").splitlines() if line.strip()]


def assert_claims_hold(executed, name):
    claims = printed(executed, "claims")
    assert len(claims) == CLAIMS_AT_SMALL_SIZE[name] and all(line.startswith("holds ") for line in claims), claims


@pytest.mark.parametrize("name", DAY2)
def test_notebook_has_parameters_and_hidden_answers(name):
    notebook = jupytext.read(LABS / name)
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "SMALL = False" in parameters[0].source and "DATA = " in parameters[0].source
    hidden = [c for c in notebook.cells if c.cell_type == "markdown" and c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden and all("Question" in c.source for c in hidden)


@pytest.mark.parametrize("name", DAY2)
def test_student_edition_runs_with_empty_exercises_and_hints(name, tiny_jets):
    source = read_source(LABS / name)
    solutions = [cell.source for cell in tagged(source, "solution")]
    student = edition(source, "student")
    assert solutions and not [cell for cell in student.cells if cell.source in solutions]
    assert all("# your code here" in cell.source for cell in tagged(student, "exercise"))
    executed = run_edition(name, "student", tiny_jets)
    checks = printed(executed, "check")
    assert len(checks) == len(solutions) and all(line.startswith("✘ ") and "nothing to check yet" in line
                                                 for line in checks), checks
    assert_claims_hold(executed, name)  # the lesson never uses an exercise's answer
    if name == "07_toptag_images.py":  # TOKEN = None as handed out: no upload, and how to get a token
        (message,) = printed_by(executed, "client.submit(")
        assert message.startswith(NO_UPLOAD) and "keraslab challenge team add" in message


def test_tutor_edition_06_checks_a_better_tagger_against_the_dnn(tiny_jets):
    executed = run_edition("06_toptag_constituents.py", "tutor", tiny_jets)
    (line,) = printed(executed, "check")
    # 48 test jets leave an AUC uncertainty of ~0.08: the verdict may go either way, but it
    # must be the comparison's own answer, never "could not be checked"
    assert line[0] in "✔✘" and " on the same 48 " in line and "± " in line, line
    assert_claims_hold(executed, "06_toptag_constituents.py")


def test_tutor_edition_07_writes_the_cnn_and_uploads_to_a_running_server(tiny_jets, tmp_path):
    db = str(tmp_path / "challenge.db")
    labels = np.load(tiny_jets / "hidden" / "challenge_labels.npy")
    store.create_challenge(make_engine(db), labels, public_fraction=0.5, daily_limit=5, closes_at=None)
    token = add_teams(db, "Notebook")["Notebook"]
    with running_server(db) as server:

        def type_the_token(notebook):  # what a team does in the cell holding the address and the token
            (cell,) = [cell for cell in notebook.cells if cell.source.startswith("SERVER = ")]
            cell.source = f"SERVER = {server.url!r}\nTOKEN = {token!r}"

        executed = run_edition("07_toptag_images.py", "tutor", tiny_jets, type_the_token)
        stored = httpx.get(server.url + "/api/submissions", headers=bearer(token)).json()
    assert printed(executed, "check") == ["✔ the lab's CNN, 6,538 parameters: 6,538 parameters, "
                                          "layer by layer the lab's CNN (keraslab.toptag.networks.cnn)"]
    (reply,) = printed_by(executed, "client.submit(")
    assert reply.startswith("submission 1 accepted for team Notebook: public AUC ") and "(1 of 5 today)" in reply
    assert len(stored) == 1
    assert_claims_hold(executed, "07_toptag_images.py")
