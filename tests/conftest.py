"""Shared fixtures.

``tiny_fashion``: a folder of Fashion-MNIST look-alikes made of noise (60 training,
20 test images, with their SHA256SUMS), written once per test session; for runs that
need the files but no real images. Read-only.

``tiny_jets``: a small jets folder (320 jets: train 192, val 48, test 48,
challenge 32; half top, half QCD) generated once per test session with
``keraslab.toptag.generation`` and shared, read-only, by every test and
notebook test that needs top-tagging data. Do not write into it: copy it
(``shutil.copytree``) first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_JETS = 320
TINY_SEED = 7
TINY_CHUNK_JETS = 48


@pytest.fixture(scope="session")
def tiny_jets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a generated jets folder (layout: keraslab.toptag.dataset)."""
    from system_services import generate_extra

    generate_extra()
    from keraslab.toptag.generation import GenerationSettings, generate

    directory = tmp_path_factory.mktemp("tiny_jets")
    settings = GenerationSettings(jets=TINY_JETS, seed=TINY_SEED, chunk_jets=TINY_CHUNK_JETS)
    generate(directory, settings, workers=1, progress=False)
    return directory


@pytest.fixture(scope="session")
def tiny_fashion(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the look-alike Fashion-MNIST folder (tests/day1_data.py)."""
    from day1_data import write_tiny_fashion_mnist

    folder = tmp_path_factory.mktemp("fashion")
    write_tiny_fashion_mnist(folder, n_train=60, n_test=20)
    return folder
