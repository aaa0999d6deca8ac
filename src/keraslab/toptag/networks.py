"""Every day-two network, built by name: ``build(name, **options) -> keras.Model``.

All networks end in Dense(2, softmax) as in the lab (column 1 is the top
probability) and use Keras 3 ops only, so they run on TensorFlow and JAX.

* toptag-dnn, toptag-image-dense, toptag-cnn: the original lab's networks.
* toptag-cnn-improved: an image tagger in the spirit of DeepTop (Kasieczka et
  al. 2017): stacked small convolutions, pooling, dense layers and dropout.
* toptag-pfn: Particle-Flow Network (Komiske, Metodiev, Thaler 2019): a
  per-particle network Phi, a sum over the jet's particles, a network F on the
  sum. Zero-padded particles are masked out of the sum, so the output does
  not depend on the padding or the order of the particles.
* toptag-particlenet: ParticleNet-Lite (Qu and Gouskos 2020): EdgeConv blocks
  on the k nearest neighbours, first in (Delta eta, Delta phi), then in the
  learned feature space; masked average pooling; a dense head.

The masking and EdgeConv layers are written here because Keras has no layer
for a masked set sum or a k-nearest-neighbour edge convolution.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
from keras import layers, ops

from keraslab.toptag.catalog import spec
from keraslab.toptag.inputs import COORDINATES, LAB_CONSTITUENTS, PARTICLE_FEATURES

IMAGE_SHAPE = (40, 40, 1)
PADDED_SHIFT = 1e3  # padded particles are moved this far away so they are nobody's neighbour


# --- masking and EdgeConv layers ------------------------------------------------------------


@keras.saving.register_keras_serializable(package="keraslab")
class ParticleMask(layers.Layer):
    """1.0 for a real particle, 0.0 for a zero-padded slot: shape (batch, particles, 1)."""

    def call(self, particles):
        return ops.cast(ops.any(ops.not_equal(particles, 0.0), axis=-1, keepdims=True), particles.dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 1)


@keras.saving.register_keras_serializable(package="keraslab")
class MaskedSum(layers.Layer):
    """Sum over the real particles (axis 1): the Energy/Particle-Flow aggregation."""

    def call(self, per_particle, valid):
        return ops.sum(per_particle * valid, axis=1)

    def compute_output_shape(self, per_particle_shape, valid_shape):
        return (per_particle_shape[0], per_particle_shape[-1])


@keras.saving.register_keras_serializable(package="keraslab")
class MaskedMean(layers.Layer):
    """Average over the real particles (axis 1); a jet without particles gives zeros."""

    def call(self, per_particle, valid):
        count = ops.maximum(ops.sum(valid, axis=1), 1.0)
        return ops.sum(per_particle * valid, axis=1) / count

    def compute_output_shape(self, per_particle_shape, valid_shape):
        return (per_particle_shape[0], per_particle_shape[-1])


@keras.saving.register_keras_serializable(package="keraslab")
class ApplyMask(layers.Layer):
    """Zero the padded particles again (after layers whose bias would fill them)."""

    def call(self, per_particle, valid):
        return per_particle * valid

    def compute_output_shape(self, per_particle_shape, valid_shape):
        return per_particle_shape


@keras.saving.register_keras_serializable(package="keraslab")
class NeighbourMean(layers.Layer):
    """Average of the edge features over the k neighbours (axis 2)."""

    def call(self, edges):
        return ops.mean(edges, axis=2)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:2], input_shape[-1])


def nearest_neighbours(points, valid, k: int):
    """Indices (batch, particles, k) of each particle's k nearest real neighbours, itself excluded.

    Squared distances come from |a|^2 - 2 a.b + |b|^2 (one matrix product);
    padded particles are shifted far away so real ones never pick them.
    """
    points = points + (1.0 - valid) * PADDED_SHIFT
    squared = ops.sum(points * points, axis=-1, keepdims=True)
    distances = squared - 2.0 * ops.matmul(points, ops.transpose(points, (0, 2, 1))) + ops.transpose(squared, (0, 2, 1))
    _, indices = ops.top_k(-distances, k + 1)
    return indices[:, :, 1:]  # the nearest is the particle itself


def gather_neighbours(features, indices):
    """Features (batch, particles, k, C) of the neighbours named by ``indices``."""
    batch, particles = ops.shape(features)[0], ops.shape(features)[1]
    channels, k = features.shape[-1], indices.shape[-1]
    offsets = ops.reshape(ops.arange(batch) * particles, (-1, 1, 1))
    flat = ops.reshape(features, (-1, channels))
    gathered = ops.take(flat, ops.reshape(indices + ops.cast(offsets, indices.dtype), (-1,)), axis=0)
    return ops.reshape(gathered, (batch, particles, k, channels))


@keras.saving.register_keras_serializable(package="keraslab")
class EdgeFeatures(layers.Layer):
    """EdgeConv's edge features: for each particle i and neighbour j, (x_i, x_j - x_i).

    Neighbours are the ``k`` nearest in ``points``; returns (batch, particles, k, 2C).
    """

    def __init__(self, k: int, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, points, features, valid):
        neighbours = gather_neighbours(features, nearest_neighbours(points, valid, self.k))
        centre = ops.repeat(ops.expand_dims(features, 2), self.k, axis=2)
        return ops.concatenate([centre, neighbours - centre], axis=-1)

    def compute_output_shape(self, points_shape, features_shape, valid_shape):
        return (*features_shape[:2], self.k, 2 * features_shape[-1])

    def get_config(self):
        return {**super().get_config(), "k": self.k}


@keras.saving.register_keras_serializable(package="keraslab")
class Coordinates(layers.Layer):
    """The (Delta eta, Delta phi) columns of the particle features."""

    def call(self, particles):
        return particles[..., COORDINATES]

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], 2)


# --- the networks --------------------------------------------------------------------------------


def _dense_stack(x, units: Sequence[int], dropout: float = 0.0, prefix: str = "dense"):
    for i, width in enumerate(units):
        x = layers.Dense(width, activation="relu", name=f"{prefix}_{i}")(x)
        if dropout:
            x = layers.Dropout(dropout, name=f"{prefix}_dropout_{i}")(x)
    return x


def _head(x):
    return layers.Dense(2, activation="softmax", name="probabilities")(x)


def dnn(n_constituents: int = LAB_CONSTITUENTS, hidden: int = 50) -> keras.Model:
    """The lab's DNN: (E, px, py, pz) of the first 20 constituents -> Dense(50, relu) -> Dense(2, softmax)."""
    inputs = keras.Input(shape=(4 * n_constituents,), name="constituents")
    return keras.Model(inputs, _head(layers.Dense(hidden, activation="relu", name="hidden")(inputs)), name="toptag_dnn")


def image_dense(hidden: int = 50) -> keras.Model:
    """The lab's dense network on the flattened jet image: Flatten -> Dense(50, relu) -> Dense(2, softmax)."""
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.Flatten(name="flatten")(inputs)
    return keras.Model(inputs, _head(layers.Dense(hidden, activation="relu", name="hidden")(x)), name="toptag_image_dense")


def cnn(filters: int = 8, kernel_size: int = 4) -> keras.Model:
    """The lab's CNN: Conv2D(8, 4x4, same, relu) -> MaxPooling2D(2) -> Flatten -> Dense(2, softmax).

    6,538 parameters: 4*4*8 + 8 for the convolution, 20*20*8*2 + 2 for the output.
    """
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = layers.Conv2D(filters, kernel_size, padding="same", activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D(2, name="pool")(x)
    return keras.Model(inputs, _head(layers.Flatten(name="flatten")(x)), name="toptag_cnn")


def cnn_improved(filters: Sequence[int] = (32, 32, 64, 64), dense: Sequence[int] = (64, 64), dropout: float = 0.3) -> keras.Model:
    """A DeepTop-style image tagger: pairs of 3x3 convolutions, each pair followed by 2x2 pooling, then dense layers."""
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    for i, width in enumerate(filters):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"conv_{i}")(x)
        if i % 2 == 1:
            x = layers.MaxPooling2D(2, name=f"pool_{i // 2}")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(inputs, _head(_dense_stack(x, dense, dropout)), name="toptag_cnn_improved")


def pfn(phi: Sequence[int] = (100, 100, 128), f: Sequence[int] = (100, 100, 100), dropout: float = 0.0) -> keras.Model:
    """Particle-Flow Network: softmax(F(sum over real particles of Phi(particle))).

    Input (batch, particles, 7) from ``inputs.particle_features``; any number of
    particles, zero rows are padding. Phi is applied to each particle (a Dense
    layer acts on the last axis).
    """
    inputs = keras.Input(shape=(None, len(PARTICLE_FEATURES)), name="particles")
    valid = ParticleMask(name="mask")(inputs)
    per_particle = _dense_stack(inputs, phi, prefix="phi")
    latent = MaskedSum(name="sum")(per_particle, valid)
    return keras.Model(inputs, _head(_dense_stack(latent, f, dropout, prefix="f")), name="toptag_pfn")


def _edge_conv(points, features, valid, k: int, channels: Sequence[int], name: str):
    """One EdgeConv block: shared MLP on edge features, mean over neighbours, shortcut, ReLU."""
    x = EdgeFeatures(k, name=f"{name}_edges")(points, features, valid)
    for i, width in enumerate(channels):
        x = layers.Dense(width, use_bias=False, name=f"{name}_mlp_{i}")(x)  # = Conv2D 1x1 over edges
        x = layers.BatchNormalization(name=f"{name}_bn_{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu_{i}")(x)
    x = NeighbourMean(name=f"{name}_mean")(x)
    shortcut = layers.Dense(channels[-1], use_bias=False, name=f"{name}_shortcut")(features)
    shortcut = layers.BatchNormalization(name=f"{name}_shortcut_bn")(shortcut)
    x = layers.Activation("relu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, shortcut]))
    return ApplyMask(name=f"{name}_mask")(x, valid)


def particlenet(
    k: int = 7,
    blocks: Sequence[Sequence[int]] = ((32, 32, 32), (64, 64, 64)),
    dense: int = 128,
    dropout: float = 0.1,
) -> keras.Model:
    """ParticleNet-Lite: EdgeConv blocks (k = 7; 32 then 64 channels), masked mean, Dense(128), Dense(2).

    The first block finds neighbours in (Delta eta, Delta phi); later blocks in
    the previous block's output (the dynamic graph of the paper).
    """
    inputs = keras.Input(shape=(None, len(PARTICLE_FEATURES)), name="particles")
    valid = ParticleMask(name="mask")(inputs)
    points = Coordinates(name="eta_phi")(inputs)
    features = ApplyMask(name="input_mask")(layers.BatchNormalization(name="input_bn")(inputs), valid)
    for i, channels in enumerate(blocks):
        features = _edge_conv(points, features, valid, k, channels, name=f"edgeconv_{i}")
        points = features
    x = MaskedMean(name="pool")(features, valid)
    return keras.Model(inputs, _head(_dense_stack(x, (dense,), dropout, prefix="head")), name="toptag_particlenet")


BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "toptag-dnn": dnn,
    "toptag-image-dense": image_dense,
    "toptag-cnn": cnn,
    "toptag-cnn-improved": cnn_improved,
    "toptag-pfn": pfn,
    "toptag-particlenet": particlenet,
}


def build(name: str, **options) -> keras.Model:
    """The network called ``name`` (see ``catalog.MODELS``), built with ``options`` passed to its builder."""
    spec(name)  # UnknownChoice listing the names if unknown
    return BUILDERS[name](**options)
