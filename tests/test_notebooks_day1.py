"""The four day-one notebooks run top to bottom at SMALL size (tiny Fashion-MNIST look-alikes)."""

from pathlib import Path

import pytest
from day1_data import write_tiny_fashion_mnist
from notebooks import run_notebook

LABS = Path(__file__).resolve().parents[1] / "labs"


@pytest.fixture(scope="module")
def tiny_fashion(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fashion")
    write_tiny_fashion_mnist(folder, n_train=60, n_test=20)
    return folder


@pytest.mark.parametrize("name", ["01_regression.py", "02_classification.py"])
def test_toy_notebooks_run(name):
    run_notebook(LABS / name, {"SMALL": True}, timeout=300)


@pytest.mark.parametrize("name", ["03_fashion_mnist.py", "04_overtraining.py"])
def test_fashion_notebooks_run(name, tiny_fashion, monkeypatch):
    monkeypatch.setenv("KERASLAB_FASHION_MNIST_SHA256SUMS", str(tiny_fashion / "SHA256SUMS"))  # the kernel inherits it
    run_notebook(LABS / name, {"SMALL": True, "DATA_DIR": str(tiny_fashion)}, timeout=300)
