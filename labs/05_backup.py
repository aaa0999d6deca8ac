# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # Back-up pages: the theory behind the tools, on the page
#
# The slides' back-up pages explain why activations matter, what a ReLU network can
# compute, how back-propagation gets the gradient, what Adam does and how the learning
# rate decides convergence. Here each page is a few lines of NumPy or Keras that you can
# read, change and run. The package `keraslab.theory` computes the same things its own
# way; it is used only to *check* the page, and the last cell asserts that every page
# agrees with it. Four exercises end with a check cell that says whether your answer is
# right, or what is wrong.
#
# Everything runs on the CPU in about a minute. `keraslab run backup --out DIR` runs the
# package's demonstrations from the command line and writes the figures and `metrics.json`.

# %% tags=["parameters"] slideshow={"slide_type": "skip"}
SMALL = False  # True: a shorter learning-rate scan (used by the tests)

# %% slideshow={"slide_type": "skip"}
import importlib.util

if importlib.util.find_spec("keraslab") is None:  # e.g. a fresh Colab or JupyterHub kernel
    raise SystemExit("keraslab is not installed in this kernel: pip install the class's keraslab wheel "
                     "(README, 'Notebooks on a hosted Jupyter'), then restart the kernel")

# %% slideshow={"slide_type": "skip"}
import jax
import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

from keraslab import check
from keraslab.day1 import toy
from keraslab.theory import activations, adam, backprop, linear_collapse, logic_gates
from keraslab.theory import universal_approximation as approx

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Activation functions and their derivatives
#
# Back-propagation multiplies by the derivative of every activation it passes, so here
# they are by hand. The check compares them with the automatic differentiation of the
# Keras backend (`activations.autodiff_derivative`).

# %%
x = np.linspace(-4, 4, 400)
sigmoid = 1 / (1 + np.exp(-x))
softmax_first = np.exp(x) / (np.exp(x) + 2)  # first output of a softmax over the logits (x, 0, 0)
derivatives = {
    "tanh": 1 - np.tanh(x) ** 2,
    "relu": (x > 0).astype(float),
    "logistic (sigmoid)": sigmoid * (1 - sigmoid),
    "softmax (x, 0, 0)[0]": softmax_first * (1 - softmax_first),
}
derivative_error = max(np.max(np.abs(by_hand - activations.autodiff_derivative(name, x)))
                       for name, by_hand in derivatives.items())
print(f"max |by hand − autodiff| = {derivative_error:.1e}")

fig, axes = plt.subplots(1, 4, figsize=(14, 3.2))
for ax, (name, by_hand) in zip(axes, derivatives.items()):
    ax.plot(x, activations.values(name, x), label="f(x), keras.activations")
    ax.plot(x, by_hand, "--", label="f'(x) by hand")
    ax.set(title=name, xlabel="x")
axes[0].legend(fontsize=8);

# %% [markdown] jupyter={"source_hidden": true}
# **Why does the logistic function's derivative never exceed 1/4, and why does it matter?**
# σ'(x) = σ(x)(1 − σ(x)) is largest at x = 0, where it is 1/2 · 1/2 = 1/4. Back-propagation
# multiplies one such factor per layer, so a deep stack of sigmoids shrinks the gradient
# at least 4× per layer (vanishing gradients); ReLU's derivative is exactly 1 where it is
# active, which is one reason it trains deep networks better.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. What would happen if no activation function is used?
#
# Three Dense layers without activations and without biases, U (3×3), V (3×3), W (2×3),
# compute W(V(Ux)) = (WVU)x: one matrix A. Keras computes `x @ kernel`, so each slide
# matrix is a transposed kernel.

# %%
keras.utils.set_random_seed(0)
linear = keras.Sequential([
    keras.Input(shape=(3,)),
    layers.Dense(3, use_bias=False),
    layers.Dense(3, use_bias=False),
    layers.Dense(2, use_bias=False),
])
U, V, W = (kernel.T for kernel in linear.get_weights())
A = W @ V @ U
print("A = W V U =\n", A.round(4))

x3 = np.random.default_rng(0).normal(size=(1000, 3)).astype("float32")
linear_outputs = linear.predict(x3, verbose=0)
collapse_error = np.max(np.abs(linear_outputs - x3 @ A.T))
print(f"max |network(x) − A x| = {collapse_error:.1e}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The same weights with ReLU between the layers: the best single matrix B (least squares)
# leaves most of the output unexplained.

# %%
relu = keras.Sequential([
    keras.Input(shape=(3,)),
    layers.Dense(3, activation="relu", use_bias=False),
    layers.Dense(3, activation="relu", use_bias=False),
    layers.Dense(2, use_bias=False),
])
relu.set_weights(linear.get_weights())
relu_outputs = relu.predict(x3, verbose=0)
B, *_ = np.linalg.lstsq(x3, relu_outputs, rcond=None)  # relu_outputs ≈ x3 @ B
relu_residual = np.linalg.norm(relu_outputs - x3 @ B) / np.linalg.norm(relu_outputs)
print(f"relative residual of the best single matrix with ReLU: {relu_residual:.2f}")
linear_collapse.plot(linear_collapse.CollapseResult(A, x3, linear_outputs, relu_outputs, B.T, collapse_error,
                                                    relu_residual))

# %% [markdown] jupyter={"source_hidden": true}
# **Answer.** Without activations any number of layers is one linear map: depth adds
# parameters but no expressive power, and the network can only fit linear functions. With
# ReLU between the same layers no single matrix reproduces the output (right panel): the
# non-linearity is what makes depth useful.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. ReLU networks as logic gates
#
# Weights set by hand give exact truth tables. The slide's AND uses weights 1/2; OR uses
# weights 1, clipped to 1 by a second unit; NOT uses a negative weight; XOR needs a hidden
# layer with two units, one counting "at least one", one "both".

# %%
def gate(hidden_kernel, hidden_bias, output_kernel, output_bias=0.0):
    """Dense(ReLU) -> Dense(1) with weights set by hand; kernels in Keras' layout (inputs, units)."""
    hidden_kernel = np.array(hidden_kernel, dtype="float32")
    model = keras.Sequential([
        keras.Input(shape=(hidden_kernel.shape[0],)),
        layers.Dense(hidden_kernel.shape[1], activation="relu"),
        layers.Dense(1),
    ])
    model.set_weights([hidden_kernel, np.array(hidden_bias, "float32"),
                       np.array(output_kernel, "float32").reshape(-1, 1), np.array([output_bias], "float32")])
    return model


gates = {
    "AND": gate([[0.5], [0.5]], [-0.5], [2]),  # 2·ReLU(x1/2 + x2/2 − 1/2)
    "OR": gate([[1, 1], [1, 1]], [0, -1], [1, -1]),  # ReLU(x1 + x2) − ReLU(x1 + x2 − 1)
    "NOT": gate([[-1]], [1], [1]),  # ReLU(1 − x)
    "XOR": gate([[1, 1], [1, 1]], [0, -1], [1, -2]),  # ReLU(x1 + x2) − 2·ReLU(x1 + x2 − 1)
}
gate_tables = {}  # name: (the page's outputs, the package's, the truth table)
for name, model in gates.items():
    inputs, package_outputs, truth = logic_gates.truth_table(name)  # every 0/1 input, the package's network, the truth
    outputs = keras.ops.convert_to_numpy(model(inputs.astype("float32"))).ravel()
    gate_tables[name] = (outputs, package_outputs, truth)
    print(f"{name:>3}: inputs {inputs.tolist()}  outputs {outputs.tolist()}  truth {truth.tolist()}")

# %% slideshow={"slide_type": "subslide"}
logic_gates.plot()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 1: XNOR by hand
#
# XNOR is 1 when the two inputs are equal and 0 otherwise. Build it with `gate(...)`:
# two ReLU units and one output, with an output bias if you need one.

# %% tags=["exercise"]
xnor = None  # your code here: xnor = gate(hidden_kernel, hidden_bias, output_kernel, output_bias)

# %% tags=["solution"]
xnor = gate([[1, 1], [1, 1]], [0, -1], [-1, 2], output_bias=1)  # 1 − XOR

# %% tags=["check"]
check.xnor_network(xnor)

# %% [markdown] jupyter={"source_hidden": true}
# **Why does XOR need a hidden layer?** XOR's true points (0,1) and (1,0) cannot be
# separated from (0,0) and (1,1) by one straight line, and a single ReLU unit is a
# function of one linear combination of the inputs. Two hidden units — one counting
# "at least one", one "both" — and a readout 1·h1 − 2·h2 do it.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Universal approximation: 2^x with ten ReLU hinges
#
# The slide: the first layer computes ReLU(x − k) for k = 0, …, 9, a hinge at each
# integer; the output adds the hinges with the weights 1, 2, 4, …, 512.

# %%
def hinge_network(weights, bias):
    """Ten hidden units ReLU(x − k), k = 0..9, summed with the given output weights and bias."""
    model = keras.Sequential([keras.Input(shape=(1,)), layers.Dense(10, activation="relu"), layers.Dense(1)])
    model.set_weights([np.ones((1, 10), "float32"), -np.arange(10, dtype="float32"),
                       np.reshape(weights, (10, 1)).astype("float32"), np.array([bias], "float32")])
    return model


slide = hinge_network(2.0 ** np.arange(10), 0.0)
x_grid = np.linspace(0, 10, 1001)
slide_values = slide.predict(x_grid[:, None], verbose=0).ravel()
slide_error = np.max(np.abs(slide_values - 2**x_grid) / 2**x_grid)
print(f"the slide's weights: max |f(x) − 2^x| / 2^x = {slide_error:.2f} on [0, 10]")

fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(x_grid, 2**x_grid, "k", lw=2.5, label="2^x")
ax.plot(x_grid, slide_values, "--", label="the slide's network: w_k = 2^k, no bias")
ax.set(yscale="log", xlabel="x", ylabel="f(x)")
ax.legend();

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 2: the weights that interpolate 2^x
#
# Find the ten output weights w_0, …, w_9 and the bias b for which
# b + Σ_k w_k ReLU(x − k) equals 2^x at x = 0, 1, …, 10. Between two integers the network
# is a straight line: what is its slope on [k, k + 1], and how does the slope change at
# each hinge?

# %% tags=["exercise"]
hinge_weights, hinge_bias = None, None  # your code here: ten weights (a list or an array) and a number

# %% tags=["solution"]
slopes = 2.0 ** np.arange(10)  # the chord of 2^x on [k, k + 1] rises 2^(k+1) − 2^k = 2^k
hinge_weights = np.diff(slopes, prepend=0)  # each hinge adds its change of slope: 1, 1, 2, 4, ..., 256
hinge_bias = 1.0  # 2^0

# %% tags=["check"]
check.hinge_weights(hinge_weights, hinge_bias)

# %% [markdown] jupyter={"source_hidden": true}
# **What is wrong with the slide's weights?** A weight w_k is the *change of slope* at
# x = k, not the slope itself. Between k and k+1 the slope of the interpolating line of
# 2^x is 2^(k+1) − 2^k = 2^k, so the slope changes by 2^(k−1) at each kink (1 at x = 0),
# and the network needs an output bias of 1 because 2^0 = 1. With the slide's weights the
# network gives 2^(n+1) − n − 2 at x = n: about twice 2^x.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. Back-propagation by hand and automatic differentiation
#
# The slides' computational graph: b = w1·a, c = w2·a, d = w3·b + w4·c, L = f(d), here
# with f(d) = (d − 1)²/2. The forward pass computes every node; the backward pass goes
# from L back to the inputs, one local derivative per edge.

# %%
a, w1, w2, w3, w4 = 1.5, 0.75, -0.5, 2.0, 0.25  # binary fractions: exact in float32 too
b = w1 * a
c = w2 * a
d = w3 * b + w4 * c
L = (d - 1) ** 2 / 2

dL_dd = d - 1  # f'(d)
dL_dw3, dL_dw4 = dL_dd * b, dL_dd * c
dL_db, dL_dc = dL_dd * w3, dL_dd * w4
dL_dw1, dL_dw2 = dL_db * a, dL_dc * a
dL_da = dL_db * w1 + dL_dc * w2  # a feeds both b and c: the two paths add
by_hand = {"a": dL_da, "w1": dL_dw1, "w2": dL_dw2, "w3": dL_dw3, "w4": dL_dw4}

# %% [markdown] slideshow={"slide_type": "subslide"}
# Automatic differentiation does the backward pass for us: `jax.grad` turns the forward
# pass, written as a function, into the function of its gradients (TensorFlow's
# `tf.GradientTape` does the same by recording the operations as they run).

# %%
def graph_loss(a, w1, w2, w3, w4):
    return (w3 * (w1 * a) + w4 * (w2 * a) - 1) ** 2 / 2


graph_inputs = {"a": a, "w1": w1, "w2": w2, "w3": w3, "w4": w4}
gradients_of_every_input = jax.grad(graph_loss, argnums=(0, 1, 2, 3, 4))
autodiff = dict(zip(graph_inputs, map(float, gradients_of_every_input(*graph_inputs.values()))))
for name in by_hand:
    print(f"dL/d{name:<2} by hand {by_hand[name]:8.4f}   autodiff {autodiff[name]:8.4f}")

graph = backprop.computational_graph(graph_inputs)  # the package's pass, for the check and the figure
graph_agrees = all(np.isclose(by_hand[name], graph.by_hand[name], rtol=1e-12) for name in by_hand)
backprop.plot(graph)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 3: back-propagation through a network
#
# The network Ŷ = ReLU(X W1ᵀ) W2ᵀ, with the samples in the rows of X (n × d_in), W1
# (h × d_in), W2 (d_out × h), and the loss L = mean((Ŷ − Y)²) over every sample and
# output. Write `two_layer_gradients(x, y, w1, w2)` returning (dL/dW1, dL/dW2) in NumPy,
# one line per link of the chain: Z = X W1ᵀ, H = ReLU(Z), Ŷ = H W2ᵀ, L.

# %% tags=["exercise"]
two_layer_gradients = None  # your code here: def two_layer_gradients(x, y, w1, w2): ... return d_w1, d_w2

# %% tags=["solution"]
def two_layer_gradients(x, y, w1, w2):
    z = x @ w1.T
    h = np.maximum(z, 0)
    y_hat = h @ w2.T
    d_y_hat = 2 * (y_hat - y) / y.size  # the mean runs over every sample and output
    d_w2 = d_y_hat.T @ h
    d_z = (d_y_hat @ w2) * (z > 0)  # ReLU passes the gradient where its input was positive
    return d_z.T @ x, d_w2


# %% tags=["check"]
check.two_layer_gradients(two_layer_gradients)

# %% [markdown] jupyter={"source_hidden": true}
# **Why does dL/da have two terms?** a feeds both b and c, so a change of a reaches L
# along two paths; reverse mode adds the contributions: dL/da = dL/db · w1 + dL/dc · w2.
# Autodiff does exactly this bookkeeping for every node, in one backward pass.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. Adam, written out, against `keras.optimizers.Adam`
#
# Algorithm 1 of Kingma & Ba: running means of the gradient (m) and of its square (v),
# corrected for starting at zero; each parameter moves by about α in the direction of
# its own average gradient. We let it descend the loss (0.1 θ1² + 2 θ2²)/2 for 200 steps,
# then give Keras' Adam the same 200 gradients.

# %%
def adam_numpy(gradient, theta, steps, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
    """Algorithm 1: the path of theta (steps + 1 rows) and the gradients it met."""
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    path, gradients = [theta], []
    for t in range(1, steps + 1):
        g = gradient(theta)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g**2
        m_hat, v_hat = m / (1 - beta_1**t), v / (1 - beta_2**t)  # the bias of starting at zero removed
        theta = theta - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
        path.append(theta)
        gradients.append(g)
    return np.array(path), np.array(gradients)


numpy_path, gradients = adam_numpy(adam.ravine_gradient, adam.ADAM_CHECK_START, steps=200)

theta = keras.Variable(adam.ADAM_CHECK_START, dtype=adam.parameter_dtype())  # float64 where the backend has it
optimizer = keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8)
keras_path = [adam.ADAM_CHECK_START]
for g in gradients:
    optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype=theta.dtype), theta)])
    keras_path.append(keras.ops.convert_to_numpy(theta))
adam_difference = np.max(np.abs(numpy_path - np.array(keras_path)))
print(f"after 200 steps of about 1e-3: max |θ NumPy − θ Keras| = {adam_difference:.1e}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# The difference is not zero: Keras adds ε to the *uncorrected* √v (the paper's
# "efficient" form) and computes β^t from β rounded to float32. `keraslab.theory.adam`
# redoes the comparison with each difference switched off; with both, only round-off is left:

# %%
comparison = adam.compare_adam()
print(f"Algorithm 1 as printed (the page):             {comparison.max_abs_err_exact_hyperparameters:.1e}")
print(f"with Keras' float32 β:                          {comparison.max_abs_err:.1e}")
print(f"and Keras' ε placement too:                     {comparison.max_abs_err_keras_form:.1e}")
adam.plot(comparison, adam.optimizer_paths())

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Exercise 4: one step of SGD with momentum
#
# The left panel's SGD with momentum keeps a *velocity*: at each step the velocity decays
# by the factor `momentum` and gains the plain gradient step −learning_rate · gradient;
# the parameters then move by the velocity, which starts at zero. Write
# `momentum_step(theta, velocity, gradient, learning_rate, momentum)` returning the new
# `(theta, velocity)`. The check runs it for 30 steps beside
# `keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)`.

# %% tags=["exercise"]
momentum_step = None  # your code here: def momentum_step(theta, velocity, gradient, learning_rate, momentum): ...

# %% tags=["solution"]
def momentum_step(theta, velocity, gradient, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * gradient
    return theta + velocity, velocity


# %% tags=["check"]
check.momentum_step(momentum_step)

# %% [markdown] jupyter={"source_hidden": true}
# **Why does momentum help in a ravine?** Plain SGD's steps across the steep direction
# flip sign every step and cancel in the average, while the steps along the shallow
# direction all point the same way and add up: momentum accumulates the consistent
# direction. Adam divides each coordinate by its own gradient scale, so it moves at a
# similar speed along both axes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 7. Gradient descent and the learning rate
#
# The day-one regression network (10-20-30-1) trained with plain SGD at learning rates
# from too small to far too large, from the same initial weights. `TerminateOnNaN` stops
# a run whose loss overflows.

# %%
x_toy, y_toy = toy.make_regression(n_samples=2_000 if SMALL else 10_000)
epochs = 5 if SMALL else 20
losses = {}
for rate in (1e-4, 1e-2, 1.0, 10.0):
    keras.utils.set_random_seed(0)  # the same initial weights for every rate
    model = keras.Sequential([keras.Input(shape=(10,)), layers.Dense(20, activation="relu"),
                              layers.Dense(30, activation="relu"), layers.Dense(1)])
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(learning_rate=rate))
    history = model.fit(x_toy, y_toy, epochs=epochs, batch_size=32, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    losses[rate] = history.history["loss"]
    print(f"learning rate {rate:g}: {len(losses[rate])} epochs, last loss {losses[rate][-1]:.4g}")

fig, ax = plt.subplots(figsize=(7, 4.5))
for rate, curve in losses.items():
    ax.plot(range(1, len(curve) + 1), curve, "o-", label=f"lr = {rate:g}" + ("" if np.isfinite(curve[-1]) else " (diverged)"))
ax.set(yscale="log", xlabel="epoch", ylabel="training loss (MSE)")
ax.legend();

# %% [markdown] jupyter={"source_hidden": true}
# **Why does a too-large learning rate diverge?** Near a minimum the loss is about a
# quadratic with curvature λ; a gradient step multiplies the distance to the minimum by
# (1 − η λ). For η λ > 2 that factor is below −1: every step overshoots further than the
# last and the loss grows geometrically until it overflows to inf and NaN. A too-small
# η makes (1 − η λ) close to 1: it converges, slowly.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Summary: every page against the package
#
# The cell fails if a page's result differs from the package's, or a claim does not hold.

# %% tags=["claims"]
claims = {
    "hand derivatives = autodiff": derivative_error <= activations.DERIVATIVE_TOLERANCE,
    "three linear layers = one matrix (the package's A too)":
        collapse_error <= linear_collapse.COLLAPSE_TOLERANCE and np.allclose(A, linear_collapse.collapse(linear)),
    "with ReLU no single matrix fits": relu_residual >= linear_collapse.RELU_MIN_RELATIVE_RESIDUAL,
    "AND, OR, NOT, XOR: exact truth tables, as the package's": all(
        np.array_equal(outputs, truth) and np.array_equal(package_outputs, truth)
        for outputs, package_outputs, truth in gate_tables.values()),
    "the slide's 2^x weights miss by the package's measure, > 0.5":
        np.isclose(slide_error, approx.compare().slide_max_rel_err, rtol=1e-6) and slide_error > 0.5,
    "back-propagation by hand = the package's = autodiff": graph_agrees and all(
        np.isclose(autodiff[name], by_hand[name], rtol=backprop.AUTODIFF_TOLERANCE) for name in by_hand),
    "Algorithm 1 = the package's, and Keras' Adam to 1e-5":
        np.isclose(adam_difference, comparison.max_abs_err_exact_hyperparameters, rtol=0.01) and adam_difference < 1e-5,
    "lr 10 diverges, lr 1e-2 ends below lr 1e-4":
        not np.isfinite(losses[10.0][-1]) and losses[1e-2][-1] < losses[1e-4][-1],
}
for claim, holds in claims.items():
    print(f"{'holds' if holds else 'FAILS'}  {claim}")
assert all(claims.values()), [claim for claim, holds in claims.items() if not holds]
