"""Run folders: files, refusal to overwrite, NaN stop, resume."""

import json

import keras
import numpy as np
import pytest

from keraslab import models, training
from keraslab.day1 import toy
from keraslab.errors import UserError


def _regression(learning_rate=None, optimizer=None):
    return models.compile_for(models.build("regression"), "regression", optimizer=optimizer, learning_rate=learning_rate)


def test_fit_run_writes_the_run_folder(tmp_path):
    run_dir = training.prepare_run_dir(tmp_path / "run")
    x, y = toy.make_binary(512)
    model = models.compile_for(models.build("classification"), "classification", steps_per_execution=4)
    result = training.fit_run(model, (x, y), run_dir=run_dir, epochs=3, batch_size=64, validation=0.25, verbose=0)
    history = json.loads((run_dir / "history.json").read_text())
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.values())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["params"] == 11_301 and metrics["epochs_run"] == 3
    assert metrics["backend"] == keras.backend.backend()
    assert metrics["fit_seconds"] > 0 and metrics["loss"] == pytest.approx(history["loss"][-1])
    assert metrics["val_accuracy"] == pytest.approx(history["val_accuracy"][-1])
    assert "11,301" in (run_dir / "summary.txt").read_text()
    assert (run_dir / "learning_curves.png").read_bytes()[:4] == b"\x89PNG"
    reloaded = models.build("classification")
    reloaded.load_weights(run_dir / "model.weights.h5")
    np.testing.assert_allclose(reloaded.predict(x[:5], verbose=0), result.model.predict(x[:5], verbose=0), rtol=1e-5)
    assert [p.name for p in run_dir.glob("checkpoint-*")] == ["checkpoint-epoch3.npz"]  # only the last one stays
    assert result.epochs_run == 3 and result.final["loss"] == metrics["loss"]
    assert training.write_metrics(run_dir, {"test_accuracy": 0.5})["params"] == 11_301


def test_an_existing_run_is_never_overwritten_silently(tmp_path):
    run_dir = training.prepare_run_dir(tmp_path / "run")
    x, y = toy.make_regression(64)
    training.fit_run(_regression(), (x, y), run_dir=run_dir, epochs=1, batch_size=32, verbose=0)
    with pytest.raises(UserError, match="--resume.*--overwrite"):
        training.prepare_run_dir(run_dir)
    with pytest.raises(UserError, match="already holds a run"):
        training.fit_run(_regression(), (x, y), run_dir=run_dir, epochs=1, batch_size=32, verbose=0)
    assert training.prepare_run_dir(run_dir, overwrite=True) == run_dir
    assert [p.name for p in run_dir.iterdir()] == [training.MARKER]  # the old run is gone


def test_overwrite_never_deletes_a_folder_that_is_not_a_run(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(UserError, match="not a keraslab run folder"):
        training.prepare_run_dir(tmp_path, overwrite=True)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_unwritable_out_is_a_user_error(tmp_path):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(UserError, match="cannot write|is a file"):
        training.prepare_run_dir(tmp_path / "a-file" / "run")


def test_nothing_to_resume_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="nothing to resume"):
        training.prepare_run_dir(tmp_path / "new", resume=True)


def test_divergence_stops_at_the_first_nan_naming_the_learning_rate(tmp_path):
    x, y = toy.make_regression(2048)
    with pytest.raises(UserError, match=r"NaN at epoch 1.*learning rate 1e\+06"):
        training.fit_run(_regression(learning_rate=1e6), (x, y), run_dir=tmp_path, epochs=5, batch_size=32, verbose=0)
    assert not (tmp_path / "learning_curves.png").exists()
    assert not (tmp_path / "metrics.json").exists()


class _InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epochs):
        super().__init__()
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_from_its_last_finished_epoch(tmp_path):
    x, y = toy.make_regression(256)
    with pytest.raises(KeyboardInterrupt):
        training.fit_run(_regression(), (x, y), run_dir=tmp_path, epochs=5, batch_size=32, verbose=0,
                         callbacks=[_InterruptAfter(2)])
    assert json.loads((tmp_path / "resume.json").read_text())["epochs_done"] == 2
    # a fresh, untrained model: resume must replace it with the checkpoint
    result = training.fit_run(_regression(), (x, y), run_dir=tmp_path, epochs=5, batch_size=32, verbose=0, resume=True)
    assert result.resumed_from == 2 and result.epochs_run == 5
    assert len(json.loads((tmp_path / "history.json").read_text())["loss"]) == 5
    assert int(result.model.optimizer.iterations) == 5 * 8  # optimiser state carried over: 8 batches per epoch
    # extending a finished run continues it
    longer = training.fit_run(_regression(), (x, y), run_dir=tmp_path, epochs=6, batch_size=32, verbose=0, resume=True)
    assert len(longer.history["loss"]) == 6 and longer.history["loss"][:5] == result.history["loss"]
    # resuming with another network is refused, not silently mixed
    other = models.compile_for(models.build("regression", layers=(5,)), "regression")
    with pytest.raises(UserError, match="different network"):
        training.fit_run(other, (x, y), run_dir=tmp_path, epochs=7, batch_size=32, verbose=0, resume=True)


@pytest.mark.parametrize(("epochs", "batch_size"), [(0, 32), (1, 0), (-1, 32)])
def test_non_positive_sizes_are_user_errors(tmp_path, epochs, batch_size):
    x, y = toy.make_regression(64)
    with pytest.raises(UserError, match="positive"):
        training.fit_run(_regression(), (x, y), run_dir=tmp_path, epochs=epochs, batch_size=batch_size, verbose=0)


def _memoriser():
    """A classifier far larger than its data: on random labels its validation loss soon rises."""
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(256, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="binary_crossentropy")
    return model


def test_early_stopping_ends_with_the_best_epochs_weights_and_stays_finished(tmp_path):
    keras.utils.set_random_seed(1)
    x, _ = toy.make_binary(512)
    y = np.random.default_rng(0).integers(0, 2, len(x)).astype("float32")  # nothing to learn: over-training
    train, validation = (x[:384], y[:384]), (x[384:], y[384:])
    result = training.fit_run(_memoriser(), train, run_dir=tmp_path, epochs=60, batch_size=32, validation=validation,
                              patience=2, verbose=0)
    losses = result.history["val_loss"]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["stopped_early"] is True and result.epochs_run == len(losses) < 60
    best = int(np.argmin(losses))
    assert metrics["best_epoch"] == best + 1 and len(losses) - 1 - best == 2  # stopped `patience` epochs after the best
    assert metrics["best_val_loss"] == pytest.approx(min(losses)) and min(losses) < losses[-1]
    saved = _memoriser()
    saved.load_weights(tmp_path / training.FINAL_WEIGHTS)
    assert saved.evaluate(*validation, batch_size=4096, verbose=0) == pytest.approx(min(losses), rel=1e-4)
    # a run that stopped early is finished: resuming it, even with more epochs, trains no further
    again = training.fit_run(_memoriser(), train, run_dir=tmp_path, epochs=80, batch_size=32, validation=validation,
                             patience=2, verbose=0, resume=True)
    assert again.epochs_run == result.epochs_run and again.history["val_loss"] == losses


def test_without_patience_every_epoch_runs(tmp_path):
    x, _ = toy.make_binary(256)
    y = np.random.default_rng(0).integers(0, 2, len(x)).astype("float32")
    result = training.fit_run(_memoriser(), (x, y), run_dir=tmp_path, epochs=8, batch_size=32, validation=0.25, verbose=0)
    assert result.epochs_run == 8 and "stopped_early" not in json.loads((tmp_path / "metrics.json").read_text())
