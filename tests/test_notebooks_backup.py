"""The back-up notebook runs top to bottom at its small size."""

from pathlib import Path

from notebooks import run_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "labs" / "05_backup.py"


def test_backup_notebook_runs_small():
    run_notebook(NOTEBOOK, {"SMALL": True}, timeout=300)
