# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # Unsupervised learning: autoencoders
#
# Every network so far learned from labels. An **autoencoder** learns from the images
# alone: it is trained to give back its input, through a narrow layer in the middle,
# the **bottleneck**:
#
# * the **encoder** squeezes the 784 pixels of an image into a few numbers, the *code*;
# * the **decoder** draws the image again from the code;
# * the loss is the mean squared error (MSE) between output and input, pixel by pixel.
#
# The labels are never used in training: to keep an image in a few numbers the network
# has to find by itself what matters in it. We look at what it keeps, at the code of each
# image, at how the error depends on the size of the bottleneck, and at an autoencoder
# that removes noise.

# %% tags=["parameters"] slideshow={"slide_type": "skip"}
SMALL = False  # True: a reduced run (used by the tests)
DATA_DIR = None  # folder with the four IDX .gz files; None: $KERASLAB_FASHION_MNIST_DIR or Keras' cache
CHECK_CLAIMS = True  # False only for look-alike test data made of noise, where there is nothing to learn

# %% slideshow={"slide_type": "skip"}
import importlib.util

if importlib.util.find_spec("keraslab") is None:  # e.g. a fresh Colab or JupyterHub kernel
    raise SystemExit("keraslab is not installed in this kernel: pip install the class's keraslab wheel "
                     "(README, 'Notebooks on a hosted Jupyter'), then restart the kernel")

# %% slideshow={"slide_type": "skip"}
# %matplotlib inline
from keraslab.backend import select

# TensorFlow: it trains the convolutional autoencoders about 3x faster than JAX on a CPU
# (benchmarks/autoencoder_backends.py); KERAS_BACKEND overrides
select("tensorflow")

import keras
import numpy as np
from keras import layers

from keraslab.beyond.autoencoder import bottleneck_error, image_rows, latent_space
from keraslab.check import autoencoder as check
from keraslab.day1 import fashion_mnist

keras.utils.set_random_seed(0)

(train_images, _), (test_images, test_labels) = fashion_mnist.load(DATA_DIR)  # the training labels stay unused
train_images = train_images[:5000 if SMALL else 20000] / 255.0  # 20,000 of 60,000: minutes on a CPU
if SMALL:
    test_images, test_labels = test_images[:1000], test_labels[:1000]
test_images = test_images / 255.0
epochs = 4 if SMALL else 5
print(f"{len(train_images)} training images, {len(test_images)} test images, {epochs} epochs")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A dense autoencoder
#
# 784 pixels → 128 → **32** → 128 → 784 pixels. The bottleneck layer has no activation
# (a code may be any number); the sigmoid of the last layer keeps the pixels in [0, 1],
# like the images'. The layer is named "bottleneck" so that we find it again later.

# %% twin={"autoencoder": "dense-autoencoder"}
def dense_autoencoder(bottleneck=32):
    """784 pixels -> 128 -> bottleneck -> 128 -> 784 pixels, back in the shape of the image."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),  # the encoder
        layers.Dense(bottleneck, name="bottleneck"),  # the code: `bottleneck` numbers per image
        layers.Dense(128, activation="relu"),  # the decoder
        layers.Dense(28 * 28, activation="sigmoid"),
        layers.Reshape((28, 28)),
    ], name=f"dense_autoencoder_{bottleneck}")


autoencoder = dense_autoencoder()
autoencoder.summary()

# %% [markdown] slideshow={"slide_type": "subslide"}
# The images are both the input and the target, `fit(train_images, train_images)`: no
# labels anywhere.

# %%
BATCH_SIZE = 128
autoencoder.compile(optimizer="adam", loss="mse")
history = autoencoder.fit(train_images, train_images, batch_size=BATCH_SIZE, epochs=epochs, validation_split=0.1,
                          verbose=0)
print(f"MSE per pixel: training {history.history['loss'][-1]:.4f}, validation {history.history['val_loss'][-1]:.4f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# Test images (top) and what the decoder draws from their 32 numbers (bottom). What is lost?

# %%
reconstructed = autoencoder.predict(test_images, verbose=0)
image_rows({"original": test_images, "bottleneck 32": reconstructed})

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the details: prints, logos, stripes, the straps of a sandal come out blurred
# or not at all; the outline and the brightness of each garment stay. 32 numbers cannot
# hold 784 pixels exactly, so the network keeps what distinguishes most images.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How many numbers does an image need?
#
# The same autoencoder with bottlenecks of 2 and 8 numbers, trained the same way. The
# error of one test image is its MSE; we quote the mean over the test images with its
# standard error (their spread / √n).

# %%
def image_errors(model, images):
    """The MSE of each image between the autoencoder's output and the image."""
    return np.mean((model.predict(images, verbose=0) - images) ** 2, axis=(1, 2))


autoencoders = {32: autoencoder}
for bottleneck in (2, 8):
    autoencoders[bottleneck] = dense_autoencoder(bottleneck)
    autoencoders[bottleneck].compile(optimizer="adam", loss="mse")
    autoencoders[bottleneck].fit(train_images, train_images, batch_size=BATCH_SIZE, epochs=epochs,
                                 validation_split=0.1, verbose=0)

test_mse = {}
for bottleneck in sorted(autoencoders):
    errors = image_errors(autoencoders[bottleneck], test_images)
    test_mse[bottleneck] = (errors.mean(), errors.std() / np.sqrt(len(errors)))
    print(f"bottleneck {bottleneck:2d}: test MSE {test_mse[bottleneck][0]:.4f} ± {test_mse[bottleneck][1]:.4f}")

# %% slideshow={"slide_type": "subslide"}
bottleneck_error({"dense autoencoder": test_mse})

# %% slideshow={"slide_type": "subslide"}
image_rows({"original": test_images,
            **{f"bottleneck {size}": autoencoders[size].predict(test_images, verbose=0) for size in sorted(autoencoders)}})

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** the error falls as the bottleneck widens. Two numbers keep little more than
# the kind of garment and its brightness; each number added keeps more detail. The
# error does not reach zero well below 784 numbers: an image holds more than a few
# dozen numbers can say, and a short training leaves some of the rest unlearned.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 1: a bottleneck of 16
#
# Write `my_autoencoder`, a dense autoencoder whose narrowest layer has 16 units (the
# other layers are your choice, e.g. 256 → 16 → 256), and train it on `train_images`
# as above. The check looks at the shapes, at the bottleneck and at its test MSE, which
# must be well below that of always drawing the average image. Where on the curve above
# does it land?

# %% tags=["exercise"]
my_autoencoder = None  # your code here

# %% tags=["solution"]
my_autoencoder = keras.Sequential([
    keras.Input(shape=(28, 28)),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),
    layers.Dense(16),
    layers.Dense(256, activation="relu"),
    layers.Dense(28 * 28, activation="sigmoid"),
    layers.Reshape((28, 28)),
])
my_autoencoder.compile(optimizer="adam", loss="mse")
my_autoencoder.fit(train_images, train_images, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)

# %% tags=["check"]
check.bottleneck_autoencoder(my_autoencoder, test_images, bottleneck=16)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The code of each image
#
# With a bottleneck of 2 every image becomes a point in a plane. The encoder is the
# first half of the trained autoencoder, from its input to the layer named "bottleneck".
# Each test image's point is coloured by its class, which the training never saw.

# %%
encoder = keras.Model(autoencoders[2].inputs, autoencoders[2].get_layer("bottleneck").output)
codes = encoder.predict(test_images, verbose=0)
latent_space(codes, test_labels)

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** images of a class land near each other: without any label the autoencoder
# sorted the clothes by how they look. Garments of a distinct shape (trousers, bags,
# the footwear) have their own regions; tops (T-shirts, pullovers, coats, shirts) mix,
# as they do in the classifier's confusion matrix.

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 2: which clothes are the hardest to draw?
#
# With the error of each test image for the 32-number autoencoder,
# `image_errors(autoencoder, test_images)`, find the class whose images it reconstructs
# worst on average: `worst_class`, its name (`fashion_mnist.CLASS_NAMES`) or number.

# %% tags=["exercise"]
worst_class = None  # your code here

# %% tags=["solution"]
errors = image_errors(autoencoder, test_images)
per_class = [errors[test_labels == number].mean() for number in range(10)]
worst_class = fashion_mnist.CLASS_NAMES[int(np.argmax(per_class))]

# %% tags=["check"]
check.worst_class(worst_class, autoencoder, test_images, test_labels)

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** a class with details that vary from one image to the next (prints and
# handles of bags, straps of sandals): 32 numbers cannot keep them. Plain shapes such as
# trousers and sneakers come out best.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A convolutional autoencoder
#
# The encoder: convolutions and pooling as in the Fashion-MNIST CNN, from 28×28 down to
# 7×7×8, then a Dense bottleneck of 32 numbers as in the dense autoencoder. The decoder
# undoes it: Dense back to 7×7×8, then two `Conv2DTranspose` layers with `strides=2`,
# each doubling the image's size (a learned upsampling) back to 28×28. Their kernel of 4,
# a multiple of the stride, spreads every code evenly over the output pixels; a kernel of
# 3 would leave a checkerboard pattern in the images.

# %% twin={"conv": "conv-autoencoder"}
def conv_autoencoder(bottleneck=32):
    """Conv2D/MaxPooling2D down to 7x7x8 -> Dense(bottleneck) -> Dense -> Conv2DTranspose up to 28x28."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        layers.Reshape((28, 28, 1)),  # one colour channel
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),  # 14x14x16
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),  # 7x7x8
        layers.Flatten(),
        layers.Dense(bottleneck, name="bottleneck"),
        layers.Dense(7 * 7 * 8, activation="relu"),
        layers.Reshape((7, 7, 8)),
        layers.Conv2DTranspose(16, 4, strides=2, padding="same", activation="relu"),  # 14x14x16
        layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="sigmoid"),  # 28x28x1
        layers.Reshape((28, 28)),
    ], name=f"conv_autoencoder_{bottleneck}")


conv = conv_autoencoder()
conv.summary()

# %% [markdown] slideshow={"slide_type": "subslide"}
# **Where a GPU helps:** this network has 7 times fewer parameters than the dense one,
# yet each of its epochs takes several times longer on a CPU: a convolution repeats its
# small kernel at every pixel. The two convolutional trainings take most of this
# notebook's time; a GPU runs convolutions many times faster, enough to train on all
# 60,000 images for 20 epochs or more.

# %%
conv.compile(optimizer="adam", loss="mse")
conv.fit(train_images, train_images, batch_size=BATCH_SIZE, epochs=epochs, validation_split=0.1, verbose=0)
conv_errors = image_errors(conv, test_images)
print(f"test MSE with 32 numbers per image: convolutional {conv_errors.mean():.4f} ± "
      f"{conv_errors.std() / np.sqrt(len(conv_errors)):.4f}, dense {test_mse[32][0]:.4f} ± {test_mse[32][1]:.4f}")
image_rows({"original": test_images, "dense": reconstructed, "convolutional": conv.predict(test_images, verbose=0)})

# %% [markdown] jupyter={"source_hidden": true}
# **Answer:** after a few epochs the dense one is still a little ahead (at the defaults
# of `keraslab run autoencoder`, 20,000 images and 5 epochs: test MSE 0.0227 against
# 0.0202, docs/beyond/autoencoder.md). The convolutional one has 7 times fewer weights,
# each shared over the whole image, and learns more slowly per epoch: give it more
# epochs (on a GPU) before judging.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A denoising autoencoder
#
# Noisy images in, clean images as targets: to remove what does not belong, the network
# has to learn what clothes look like. Each pixel gets Gaussian noise of standard
# deviation `NOISE`, clipped back to [0, 1]. (Keras can also add the noise inside the
# network: a first layer `layers.GaussianNoise(NOISE)` draws new noise at every training
# step and adds none at prediction.)

# %%
NOISE = 0.5
rng = np.random.default_rng(0)
noisy_train = np.clip(train_images + rng.normal(0, NOISE, train_images.shape), 0, 1)
noisy_test = np.clip(test_images + rng.normal(0, NOISE, test_images.shape), 0, 1)

denoiser = conv_autoencoder()
denoiser.compile(optimizer="adam", loss="mse")
denoiser.fit(noisy_train, train_images, batch_size=BATCH_SIZE, epochs=epochs, validation_split=0.1, verbose=0)
denoised = denoiser.predict(noisy_test, verbose=0)
noisy_mse, denoised_mse = np.mean((noisy_test - test_images) ** 2), np.mean((denoised - test_images) ** 2)
print(f"MSE against the clean test images: noisy {noisy_mse:.4f}, denoised {denoised_mse:.4f}")

# %% slideshow={"slide_type": "subslide"}
image_rows({"noisy": noisy_test, "denoised": denoised, "clean": test_images})

# %% [markdown] slideshow={"slide_type": "slide"}
# ### Exercise 3: more noise
#
# Make `noisier_images`: the test images with Gaussian noise of standard deviation 0.8,
# clipped to [0, 1]. Then look at what the denoiser, trained at 0.5, makes of them.

# %% tags=["exercise"]
noisier_images = None  # your code here

# %% tags=["solution"]
noisier_images = np.clip(test_images + rng.normal(0, 0.8, test_images.shape), 0, 1)
image_rows({"noisier": noisier_images, "denoised": denoiser.predict(noisier_images, verbose=0), "clean": test_images})

# %% tags=["check"]
check.noisy_images(noisier_images, test_images, std=0.8)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## What this notebook showed
#
# An autoencoder learns from images alone. The narrower its bottleneck, the less of an
# image it keeps: the test error falls as the bottleneck grows from 2 to 8 to 32 numbers.
# Its 2-number code sorts the clothes by class without having seen a label, and trained
# on noisy inputs with clean targets it removes noise.

# %% slideshow={"slide_type": "skip"}
assert autoencoder.count_params() == 209_968 and conv.count_params() == 29_153
assert codes.shape == (len(test_images), 2)
if CHECK_CLAIMS:
    mse = [test_mse[size][0] for size in sorted(test_mse)]
    assert np.all(np.diff(mse) < 0), f"the test MSE should fall with each wider bottleneck: {test_mse}"
    assert denoised_mse < noisy_mse, (denoised_mse, noisy_mse)
print("the lesson's claims hold")
