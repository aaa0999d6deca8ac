"""Self-checks of labs/10_autoencoders.py: ``from keraslab.check import autoencoder as check``."""

from __future__ import annotations

import numpy as np

from keraslab.check import Hint, _exercise, _given, _layer_summary, _model

IMAGE_SHAPE = (28, 28)
# A trained autoencoder must do clearly better than the laziest one, which draws the average image
# whatever it is shown: at most this fraction of that one's MSE (a few epochs on 5,000 images reach ~0.4).
AVERAGE_IMAGE_FRACTION = 0.6


def _reconstruction_errors(model, images) -> np.ndarray:
    """The MSE of each image between ``model``'s output and the image."""
    images = np.asarray(images, dtype=np.float32)
    reconstructions = np.asarray(model.predict(images, batch_size=1024, verbose=0), dtype=np.float64)
    return np.mean((reconstructions.reshape(len(images), -1) - images.reshape(len(images), -1)) ** 2, axis=1)


@_exercise("a dense autoencoder with a narrow bottleneck")
def bottleneck_autoencoder(model, test_images, bottleneck: int = 16) -> str:
    """``model``: a trained dense autoencoder of (28, 28) images whose narrowest Dense layer has
    ``bottleneck`` units; its test MSE must be well below the average image's."""
    import keras

    model = _model(model, "my_autoencoder")
    if tuple(model.input_shape[1:]) != IMAGE_SHAPE:
        raise Hint(f"the images are {IMAGE_SHAPE} pixels, your network takes {model.input_shape[1:]}: "
                   f"start with keras.Input(shape={IMAGE_SHAPE})")
    if tuple(model.output_shape[1:]) != IMAGE_SHAPE:
        raise Hint(f"an autoencoder gives back an image of the input's shape {IMAGE_SHAPE}, yours gives "
                   f"{model.output_shape[1:]}: end with Dense(28 * 28, activation='sigmoid') and layers.Reshape((28, 28))")
    widths = [layer.units for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    if not widths:
        raise Hint("your network has no Dense layer: a dense autoencoder is Dense layers narrowing to the bottleneck "
                   "and widening again")
    if min(widths) != bottleneck:
        raise Hint(f"the narrowest Dense layer has {min(widths)} units; the bottleneck should have {bottleneck}")
    if [row[0] for row in _layer_summary(model)].count("Dense") < 3:
        raise Hint("the bottleneck needs layers on both sides: at least an encoder layer, the bottleneck and the "
                   "output layer")
    test_images = np.asarray(test_images, dtype=np.float32)
    mse = float(np.mean(_reconstruction_errors(model, test_images)))
    average = float(np.mean((test_images - test_images.mean(axis=0)) ** 2))
    if not np.isfinite(mse):
        raise Hint("the network gives NaN: train it again with a smaller learning rate")
    if mse > AVERAGE_IMAGE_FRACTION * average:
        raise Hint(f"test MSE {mse:.4f}; always drawing the average image gives {average:.4f}: train your network "
                   "(compile with loss='mse', then fit(train_images, train_images, ...)), for more epochs if needed")
    return f"test MSE {mse:.4f} from {bottleneck} numbers per image (the average image: {average:.4f})"


def _class_number(answer, class_names) -> int:
    if isinstance(answer, str):
        names = [name.lower() for name in class_names]
        if answer.strip().lower() not in names:
            raise Hint(f"{answer!r} is not a class name; the classes are: {', '.join(class_names)}")
        return names.index(answer.strip().lower())
    number = int(np.asarray(answer).item()) if np.ndim(answer) == 0 else None
    if number is None or not 0 <= number < len(class_names):
        raise Hint(f"give the class's name or its number 0..{len(class_names) - 1}, got {answer!r}")
    return number


@_exercise("the class reconstructed worst")
def worst_class(answer, model, test_images, test_labels) -> str:
    """``answer``: the name or number of the class whose test images ``model`` reconstructs worst on average."""
    from keraslab.day1.fashion_mnist import CLASS_NAMES

    answer = _class_number(_given(answer, "worst_class", "the name (or number) of the class"), CLASS_NAMES)
    model = _model(model, "autoencoder")
    errors = _reconstruction_errors(model, test_images)
    labels = np.asarray(test_labels)
    per_class = np.array([errors[labels == k].mean() if np.any(labels == k) else -np.inf
                          for k in range(len(CLASS_NAMES))])
    worst, best = int(np.argmax(per_class)), int(np.argmin(np.where(np.isfinite(per_class), per_class, np.inf)))
    if answer == best:
        raise Hint(f"{CLASS_NAMES[answer]} is the class it reconstructs best: look for the largest mean error")
    if answer != worst:
        raise Hint(f"{CLASS_NAMES[answer]} has a mean error of {per_class[answer]:.4f}, not the largest: average "
                   "each image's MSE over the test images of each class, then take the class with the largest")
    return (f"{CLASS_NAMES[worst]}: mean MSE {per_class[worst]:.4f}, against {per_class[best]:.4f} for "
            f"{CLASS_NAMES[best]}, the best")


@_exercise("noise of your own")
def noisy_images(noisy, clean, std: float) -> str:
    """``noisy``: ``clean`` images plus Gaussian noise of standard deviation ``std``, clipped to [0, 1]."""
    noisy = np.asarray(_given(noisy, "noisier_images", "the noisy images"), dtype=np.float64)
    clean = np.asarray(clean, dtype=np.float64)
    if noisy.shape != clean.shape:
        raise Hint(f"the noisy images have shape {noisy.shape}, the clean ones {clean.shape}: add noise of the "
                   "same shape (size=test_images.shape)")
    if noisy.min() < 0 or noisy.max() > 1:
        raise Hint(f"pixels from {noisy.min():.2f} to {noisy.max():.2f}: clip them back to [0, 1] with np.clip")
    # what clipped noise of this std does to these very images, on average
    expected = np.sqrt(np.mean((np.clip(clean + np.random.default_rng(0).normal(0, std, clean.shape), 0, 1)
                                - clean) ** 2))
    got = np.sqrt(np.mean((noisy - clean) ** 2))
    if got == 0:
        raise Hint("these are the clean images: add rng.normal(0, std, size=...) to them")
    if abs(got - expected) > 0.1 * expected:
        raise Hint(f"the noise has an RMS of {got:.3f} after clipping; noise of standard deviation {std:g} gives "
                   f"{expected:.3f}: check the scale of your noise")
    return f"RMS noise {got:.3f} after clipping (standard deviation {std:g} before)"
