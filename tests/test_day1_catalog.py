"""The day-one catalog: one entry per part, the commands generated from it, one error type for unknown names."""

import dataclasses

import pytest
import typer
from typer.testing import CliRunner

from keraslab import backend, models
from keraslab.day1 import commands, networks, parts
from keraslab.day1.catalog import PARTS, trained_by
from keraslab.errors import UnknownChoice, parse_choices
from keraslab.toptag import networks as toptag_networks


@pytest.mark.parametrize("part", PARTS.values(), ids=list(PARTS))
def test_every_entry_names_things_that_exist(part):
    assert set(part.networks) <= set(networks.BUILDERS)
    assert callable(getattr(parts, part.runner))
    assert set(part.options) <= set(commands.OPTIONS)
    assert part.backend in backend.BACKENDS and part.optimizer in models.OPTIMIZERS
    assert part.schedule in (None, "cosine")


def test_a_network_trained_by_several_parts_has_one_recipe():
    recipe = lambda part: (part.loss, part.metrics, part.optimizer, part.learning_rate)  # noqa: E731
    for part in PARTS.values():
        for network in part.networks:
            assert recipe(part) == recipe(trained_by(network)), (part.name, network)


def test_the_cnn_recipe_and_the_overtraining_variants():
    cnn = PARTS["cnn"]
    assert (cnn.optimizer, cnn.learning_rate, cnn.schedule, cnn.batch_size, cnn.epochs) == ("adam", 3e-3, "cosine", 128, 9)
    assert cnn.backend == "tensorflow" and PARTS["regression"].backend == "jax"
    assert PARTS["overtraining"].networks == ("fashion-mlp", "fashion-mlp-l2", "fashion-mlp-batchnorm",
                                             "fashion-mlp-dropout", "fashion-mlp-small")


def test_compile_takes_the_recipe_from_the_catalog(monkeypatch):
    monkeypatch.setitem(PARTS, "regression", dataclasses.replace(PARTS["regression"], optimizer="adam", learning_rate=0.5))
    model = models.compile_for(models.build("regression"), "regression")
    assert type(model.optimizer).__name__ == "Adam" and float(model.optimizer.learning_rate) == pytest.approx(0.5)


def test_a_new_catalog_entry_gets_its_command_with_its_defaults():
    part = dataclasses.replace(PARTS["fashion-mnist"], name="fashion-wide", summary="A wider network.", batch_size=64)
    app = typer.Typer()
    app.command(part.name)(commands._run_command(part))
    app.command("other")(lambda: None)  # two commands, so typer keeps the names
    result = CliRunner().invoke(app, ["fashion-wide", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "A wider network." in result.output
    assert "Batch size (slides: 64). [default: 64]" in result.output and "--samples" not in result.output


def test_a_command_hands_the_catalog_and_builder_defaults_to_its_runner(monkeypatch, capsys, tmp_path):
    from keraslab.cli import main

    received = {}

    def images(part, out, **options):
        received.update(options, part=part.name)
        return {}

    monkeypatch.setattr(backend, "select", lambda preferred: (preferred, "test"))
    monkeypatch.setattr(parts, "images", images)
    main(["run", "cnn", "--out", str(tmp_path / "run")])
    assert received == {"part": "cnn", "filters": (32, 64), "dense": 128, "dropout": 0.3, "optimizer": "adam",
                        "learning_rate": 3e-3, "batch_size": 128, "epochs": 9, "precision": "auto",
                        "resume": False, "overwrite": False}
    assert "Keras backend tensorflow (test)" in capsys.readouterr().out


@pytest.mark.parametrize("build", [models.build, toptag_networks.build])
def test_both_days_refuse_an_unknown_network_with_one_error_type(build):
    with pytest.raises(UnknownChoice, match="unknown .*'resnet'; choose one of: .*"):
        build("resnet")


def test_parse_choices_keeps_the_order_and_names_the_unknown():
    assert parse_choices("part", " cnn, regression ", PARTS) == ["cnn", "regression"]
    with pytest.raises(UnknownChoice, match=r"^unknown part\(s\) dessert, pie; choose from: regression, "):
        parse_choices("part", "regression,dessert,pie", PARTS)
    with pytest.raises(UnknownChoice, match=r"\(none given\)"):
        parse_choices("part", " , ", PARTS)
