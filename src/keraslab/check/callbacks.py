"""Self-checks of labs/08_callbacks.py (``from keraslab.check import callbacks as check``)."""

from __future__ import annotations

import numpy as np

from keraslab.check import Hint, _exercise, _given, _history, _model

RESTORED_TOLERANCE = 1e-4  # relative: the same weights evaluated in other batches differ by float32 round-off
STOPPER_EPOCHS = 10  # the accuracy-stopper check's training budget
STOPPER_TARGET = 0.9  # reached at the 4th epoch on its toy problem


@_exercise("early stopping that keeps the best weights")
def early_stopping(stopper, history, model, x_val, y_val) -> str:
    """``stopper``: the ``keras.callbacks.EarlyStopping`` passed to ``fit``; ``history``: what that ``fit``
    returned; ``model``: the trained model, judged on the validation images ``(x_val, y_val)``."""
    import keras

    stopper = _given(stopper, "my_stopper", "your keras.callbacks.EarlyStopping(...)")
    if not isinstance(stopper, keras.callbacks.EarlyStopping):
        raise Hint(f"`my_stopper` should be keras.callbacks.EarlyStopping(...), got {type(stopper).__name__}")
    if stopper.monitor != "val_loss":
        raise Hint(f"it watches {stopper.monitor!r}: watch the loss on images the network does not train on, "
                   "monitor='val_loss'")
    if not stopper.restore_best_weights:
        raise Hint("it keeps the last epoch's weights: pass restore_best_weights=True to get the best epoch's back")
    values = _history(history, "my_history")
    if "val_loss" not in values:
        raise Hint("`my_history` has no validation loss: pass validation_data=(x_val, y_val) to fit")
    model = _model(model, "my_model")
    budget = getattr(history, "params", {}).get("epochs")
    ran = len(values["loss"])
    if budget is not None and ran >= budget:
        raise Hint(f"training ran all {budget} epochs: give it more epochs than it needs (e.g. 30) or a smaller patience, "
                   "and pass callbacks=[my_stopper] to fit")
    if stopper.stopped_epoch == 0:
        raise Hint("this stopper never stopped a training: pass callbacks=[my_stopper] to the fit of `my_history`")
    best = min(values["val_loss"])
    loss = float(np.ravel(model.evaluate(x_val, y_val, batch_size=4096, verbose=0))[0])  # [loss, metrics...] or loss
    if abs(loss - best) > RESTORED_TOLERANCE * best:
        raise Hint(f"`my_model` has validation loss {loss:.4f}, the lowest in `my_history` is {best:.4f}: "
                   "is it the model that was trained with `my_stopper`?")
    return (f"stopped after {ran} of {budget} epochs; the model has the best epoch's validation loss {best:.4f} "
            f"(epoch {int(np.argmin(values['val_loss'])) + 1})")


def _toy_problem():
    """Two Gaussian blobs in 2-D, apart along x0 only; x1 is noise."""
    rng = np.random.default_rng(2019)
    labels = rng.integers(0, 2, 400)
    points = rng.normal(size=(400, 2)).astype("float32")
    points[:, 0] += 2.0 * (2 * labels - 1)
    return (points[:300], labels[:300]), (points[300:], labels[300:])


def _train_with(callback, train, validation) -> dict[str, list[float]]:
    """A logistic regression that starts looking at the noise (weights 0 on x0, 1 on x1), so that its
    validation accuracy climbs from about 0.7 and passes STOPPER_TARGET after a few epochs (the 4th)."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[0.0], [1.0]], dtype="float32"), np.zeros(1, dtype="float32")])
    model.compile(optimizer=keras.optimizers.SGD(0.02), loss="binary_crossentropy", metrics=["accuracy"])
    return model.fit(*train, validation_data=validation, epochs=STOPPER_EPOCHS, batch_size=32,
                     callbacks=[callback], verbose=0).history


@_exercise("a custom callback that stops at a target accuracy")
def accuracy_stopper(stopper_class) -> str:
    """``stopper_class``: a ``keras.callbacks.Callback`` subclass; ``stopper_class(target)`` must stop training
    at the end of the first epoch whose validation accuracy reaches ``target``. Run on a small toy problem."""
    import keras

    stopper_class = _given(stopper_class, "StopAtAccuracy", "your callback class")
    if not (isinstance(stopper_class, type) and issubclass(stopper_class, keras.callbacks.Callback)):
        raise Hint("`StopAtAccuracy` should be a class: class StopAtAccuracy(keras.callbacks.Callback): ...")
    train, validation = _toy_problem()
    history = _train_with(stopper_class(STOPPER_TARGET), train, validation)
    reached = [epoch for epoch, value in enumerate(history["val_accuracy"], start=1) if value >= STOPPER_TARGET]
    ran = len(history["loss"])
    if ran < STOPPER_EPOCHS and (not reached or ran < reached[0]):
        raise Hint(f"training stopped after epoch {ran}, before the validation accuracy reached {STOPPER_TARGET}: "
                   "compare logs['val_accuracy'] (not the training accuracy) with the target")
    if not reached:
        raise Hint(f"the validation accuracy never reached {STOPPER_TARGET} in {ran} epochs: "
                   "a callback that only watches should not change the model or its optimiser")
    if ran > reached[0]:
        raise Hint(f"the validation accuracy reached {STOPPER_TARGET} at epoch {reached[0]}, training went on to epoch "
                   f"{ran}: in on_epoch_end, set self.model.stop_training = True once logs['val_accuracy'] >= target")
    never = _train_with(stopper_class(1.01), train, validation)  # a target no accuracy reaches
    if len(never["loss"]) < STOPPER_EPOCHS:
        raise Hint(f"with a target of 1.01, which no accuracy reaches, your callback stopped after epoch "
                   f"{len(never['loss'])}: stop only when the target is reached")
    return (f"stopped at epoch {ran}, the first with validation accuracy >= {STOPPER_TARGET}; "
            f"with an unreachable target it ran all {STOPPER_EPOCHS} epochs")
