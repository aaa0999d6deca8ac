"""The networks the notebooks write in Keras and their twins in the package must not drift.

A notebook cell with metadata ``twin={"<variable>": "<network>"}`` defines a network
that ``keraslab.models.build("<network>")`` also builds (``"*"``: the variable is a dict
of network name -> model). The test runs that cell alone and compares the two layer by
layer: type, configuration (units, activation, regulariser, rate, ...), output shape and
parameter count. The CNN's training recipe, in the cell with ``recipe="cnn"``, must be
the one ``keraslab run cnn`` uses.
"""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import jupytext
import keras
import pytest

from keraslab import models

LABS = Path(__file__).resolve().parents[1] / "labs"
PARAMETERS = {  # the slides' counts (and the over-training variants'), the lab's on day two
    "regression": 881,
    "classification": 11_301,
    "fashion-mlp": 669_706,
    "fashion-mlp-l2": 669_706,
    "fashion-mlp-batchnorm": 673_802,
    "fashion-mlp-dropout": 669_706,
    "fashion-mlp-small": 235_146,
    "fashion-cnn": 315_146,
    # day two: the original lab's networks
    "toptag-dnn": 4_152,
    "toptag-image-dense": 80_152,
    "toptag-cnn": 6_538,
    # beyond the slides: labs/10_autoencoders.py
    "dense-autoencoder": 209_968,
    "conv-autoencoder": 29_153,
    "deep-mlp": 170_410,  # labs/09_initialisation.py
    "jet-autoencoder": 419_680,  # labs/11_anomaly_jets.py
}


def _cells_with(key: str):
    for path in sorted(LABS.glob("*.py")):
        for cell in jupytext.read(path).cells:
            if key in cell.metadata:
                yield path.name, cell


def notebook_networks() -> dict[str, tuple[str, keras.Model]]:
    """network name -> (notebook, the model its twin cell builds)."""
    found = {}
    for notebook, cell in _cells_with("twin"):
        namespace = {"keras": keras, "layers": keras.layers, "regularizers": keras.regularizers}
        with contextlib.redirect_stdout(io.StringIO()):  # the cells print model.summary()
            exec(compile(cell.source, f"{notebook} twin cell", "exec"), namespace)
        for variable, network in cell.metadata["twin"].items():
            value = namespace[variable]
            found.update({name: (notebook, model) for name, model in value.items()} if network == "*"
                         else {network: (notebook, value)})
    return found


def architecture(model: keras.Model) -> list[tuple]:
    """(layer type, configuration without the name, output shape, parameters) per layer."""
    rows = [("input", tuple(model.inputs[0].shape))]
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        config = {key: value for key, value in layer.get_config().items() if key != "name"}
        rows.append((type(layer).__name__, config, tuple(layer.output.shape), layer.count_params()))
    return rows


@pytest.fixture(scope="module")
def written_in_notebooks():
    return notebook_networks()


def test_every_network_of_the_lab_is_written_in_a_notebook(written_in_notebooks):
    assert sorted(written_in_notebooks) == sorted(PARAMETERS)


@pytest.mark.parametrize("network", sorted(PARAMETERS))
def test_notebook_network_is_its_package_twin(network, written_in_notebooks):
    notebook, model = written_in_notebooks[network]
    twin = models.build(network)
    assert model.count_params() == twin.count_params() == PARAMETERS[network]
    assert architecture(model) == architecture(twin), f"{notebook} and keraslab.models.build({network!r}) differ"


def _assigned(source: str) -> dict[str, object]:
    """Literal values assigned by name in ``source``; ``a if SMALL else b`` counts as b (the full size)."""
    values = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value.orelse if isinstance(node.value, ast.IfExp) else node.value
            with contextlib.suppress(ValueError):
                values[node.targets[0].id] = ast.literal_eval(value)
    return values


def test_notebook_cnn_trains_with_the_recipe_of_keraslab_run_cnn():
    from keraslab.day1 import catalog

    (notebook, cell), = [(name, cell) for name, cell in _cells_with("recipe") if cell.metadata["recipe"] == "cnn"]
    recipe = catalog.PARTS["cnn"]
    assigned = _assigned(cell.source)
    assert (recipe.optimizer, recipe.schedule) == ("adam", "cosine")
    assert "keras.optimizers.Adam(" in cell.source and "CosineDecay(" in cell.source, notebook
    assert {key: assigned.get(key) for key in ("batch_size", "epochs", "learning_rate")} == {
        "batch_size": recipe.batch_size, "epochs": recipe.epochs, "learning_rate": recipe.learning_rate}
