"""What some tests need beyond the test tools: system services (Chromium, PostgreSQL), the real
Fashion-MNIST, keraslab's generate extra. Found, or the test skips with how to get it.

``.ci/run`` installs or provides all of them and sets ``KERASLAB_REQUIRE_SERVICES=1``, which turns every such
skip into a failure, so CI always runs these tests. On a fresh machine with only Python
and make, ``make test`` skips them with a reason that says what to install.
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_ENV = "KERASLAB_REQUIRE_SERVICES"
POSTGRES_INSTALL = "sudo apt-get install postgresql (Debian/Ubuntu), or brew install postgresql"


def _missing(reason: str) -> NoReturn:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: CI must run this test)")
    pytest.skip(reason)


def chromium() -> str:
    """Path of a Chromium to drive with Playwright: the system one, or Playwright's own where installed."""
    from keraslab.lab.steps import find_chromium

    found = find_chromium()
    if found:
        return found
    _missing("needs Chromium: sudo apt-get install chromium (Debian/Ubuntu), or .venv/bin/playwright install chromium")


def find_postgres_bin() -> Path | None:
    """Folder of PostgreSQL's server programs (initdb, pg_ctl): Debian's newest version, else those on PATH."""
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    found = debian[-1] if debian else shutil.which("pg_ctl")
    return Path(found).parent if found else None


def postgres_bin() -> Path:
    """:func:`find_postgres_bin` for a test that needs PostgreSQL."""
    found = find_postgres_bin()
    if found is None:
        _missing(f"needs a PostgreSQL server: {POSTGRES_INSTALL}")
    return found


def fashion_mnist_dir() -> str:
    """The real Fashion-MNIST files (``KERASLAB_FASHION_MNIST_DIR``), for claims that need real images."""
    folder = os.environ.get("KERASLAB_FASHION_MNIST_DIR")
    if folder and os.path.isdir(folder):
        return folder
    _missing("needs the real Fashion-MNIST: set KERASLAB_FASHION_MNIST_DIR to a folder with its four IDX .gz files "
             "(docs/day1.md)")


def generate_extra() -> None:
    """Pythia 8 and FastJet (keraslab's generate extra), which have wheels for Linux x86_64 only."""
    import importlib.util

    missing = [module for module in ("pythia8mc", "fastjet") if importlib.util.find_spec(module) is None]
    if missing:
        _missing(f"needs {' and '.join(missing)}, from keraslab's generate extra: pip install 'keraslab[generate]' "
                 "(wheels for Linux x86_64 only)")
