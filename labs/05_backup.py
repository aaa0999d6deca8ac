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

# %% [markdown]
# # Back-up pages: the theory behind the tools, checked
#
# The slides' back-up pages explain why activations matter, what a ReLU network can
# compute, how back-propagation gets the gradient, what Adam does and how the learning
# rate decides convergence. Here each page is a small experiment whose claim is
# *checked*: every section ends with the measured number and whether the claim holds.
# Change a weight or a setting and run the cell again: the check tells you if the
# claim still holds.
#
# Everything runs on the CPU in about a minute. `keraslab run backup --out DIR` runs the
# same demonstrations from the command line and writes the figures and `metrics.json`.

# %% tags=["parameters"]
SMALL = False  # True: a shorter learning-rate scan (for CI)

# %%
# %matplotlib inline

from keraslab.theory import activations, adam, backprop, backup, learning_rate, linear_collapse, logic_gates
from keraslab.theory import universal_approximation as approx


demos = []  # every demonstration run, for the summary at the end


def report(demo):
    """Print each checked claim of a demonstration and show its figure."""
    demos.append(demo)
    for claim in demo.claims:
        print(f"{'holds ' if claim.passed else 'FAILS '} {claim.metric} = {claim.value}   ({claim.statement})")
    return demo.figure


# %% [markdown]
# ## 1. Activation functions
#
# tanh, ReLU, the logistic (sigmoid) and softmax, with their derivatives written by hand;
# the check compares each derivative with the automatic differentiation of the Keras
# backend (TensorFlow by default; set `KERAS_BACKEND=jax` before starting the kernel to
# check JAX).

# %%
report(activations.demonstrate())

# %% [markdown] jupyter={"source_hidden": true}
# **Why does the logistic function's derivative never exceed 1/4, and why does it matter?**
# σ'(x) = σ(x)(1 − σ(x)) is largest at x = 0, where it is 1/2 · 1/2 = 1/4. Back-propagation
# multiplies one such factor per layer, so a deep stack of sigmoids shrinks the gradient
# at least 4× per layer (vanishing gradients); ReLU's derivative is exactly 1 where it is
# active, which is one reason it trains deep networks better.

# %% [markdown]
# ## 2. What would happen if no activation function is used?
#
# Three Dense layers without activations, U (3×3), V (3×3), W (2×3), compute W(V(Ux)) = (WVU)x:
# one matrix A. We build the network in Keras, multiply its kernels, and compare.

# %%
collapse = linear_collapse.compare()
print("A = W V U =\n", collapse.matrix.round(4))
report(linear_collapse.demonstrate())

# %% [markdown] jupyter={"source_hidden": true}
# **Answer.** Without activations any number of layers is one linear map: depth adds
# parameters but no expressive power, and the network can only fit linear functions. With
# ReLU between the same layers, the best single matrix leaves most of the output
# unexplained (right panel): the non-linearity is what makes depth useful.

# %% [markdown]
# ## 3. ReLU as logic gates
#
# Weights set by hand, exact truth tables. The slide's AND uses weights 1/2; OR uses
# weights 1 (clipped to 1 by a second unit); NOT uses a negative weight; XOR needs a
# hidden layer with two units.

# %%
for name in logic_gates.GATES:
    inputs, outputs, expected = logic_gates.truth_table(name)
    print(f"{name:>3}: {logic_gates.GATES[name].how:<40} outputs {outputs.tolist()}  expected {expected.tolist()}")
report(logic_gates.demonstrate())

# %% [markdown] jupyter={"source_hidden": true}
# **Why does XOR need a hidden layer?** XOR's true points (0,1) and (1,0) cannot be
# separated from (0,0) and (1,1) by one straight line, and a single ReLU unit is a
# function of one linear combination of the inputs. Two hidden units — one counting
# "at least one", one "both" — and a readout 1·h1 − 2·h2 do it.

# %% [markdown]
# ## 4. Universal approximation: 2^x with ten ReLU hinges
#
# The slide: first layer ReLU(x − k), k = 0..9; output weights 1, 2, 4, …, 512. We evaluate it
# as written, then derive the weights that interpolate 2^x at x = 0, 1, …, 10 exactly.

# %%
weights, bias = approx.interpolating_weights()
print("derived output weights:", weights, " bias:", bias)
report(approx.demonstrate())

# %% [markdown] jupyter={"source_hidden": true}
# **What is wrong with the slide's weights?** A weight w_k is the *change of slope* at
# x = k, not the slope itself. Between k and k+1 the slope of the interpolating line of
# 2^x is 2^(k+1) − 2^k = 2^k, so the slope changes by 2^(k−1) at each kink (1 at x = 0),
# and the network needs an output bias of 1 because 2^0 = 1. With the slide's weights the
# network gives 2^(n+1) − n − 2 at x = n: about twice 2^x.

# %% [markdown]
# ## 5. Back-propagation by hand and automatic differentiation
#
# For ŷ = W2 ReLU(W1 x) with the mean squared error, the chain rule gives the gradients
# in a few lines of NumPy (`backprop.hand_gradients`). Then the slides' computational graph
# b = w1·a, c = w2·a, d = w3·b + w4·c, L = f(d), here with f(d) = (d − 1)²/2.

# %%
graph = backprop.computational_graph()
for node in ("a", "w1", "w2", "w3", "w4", "b", "c", "d", "L"):
    print(f"{node:>2} = {graph.values[node]:8.4f}   dL/d{node} = {graph.by_hand[node]:8.4f}")
report(backprop.demonstrate())

# %% [markdown] jupyter={"source_hidden": true}
# **Why does dL/da have two terms?** a feeds both b and c, so a change of a reaches L
# along two paths; reverse mode adds the contributions: dL/da = dL/db · w1 + dL/dc · w2.
# Autodiff does exactly this bookkeeping for every node, in one backward pass.

# %% [markdown]
# ## 6. Adam, Algorithm 1 of Kingma & Ba, against keras.optimizers.Adam
#
# Algorithm 1 in NumPy (α = 0.001, β1 = 0.9, β2 = 0.999, ε = 1e-8) and Keras' Adam get the
# same 200 gradients. Keras adds ε to the *uncorrected* √v (the paper's "efficient"
# form) and rounds its hyper-parameters to float32; `keraslab.theory.adam` explains both.
# Left: SGD, SGD with momentum and Adam on one loss surface.

# %%
comparison = adam.compare_adam()
print(f"Algorithm 1 as printed (exact hyper-parameters):   max |Δθ| = {comparison.max_abs_err_exact_hyperparameters:.2e}")
print(f"Algorithm 1 with Keras' float32 hyper-parameters: max |Δθ| = {comparison.max_abs_err:.2e}")
print(f"Keras' own form (epsilon placement too):           max |Δθ| = {comparison.max_abs_err_keras_form:.2e}")
report(adam.demonstrate())

# %% [markdown] jupyter={"source_hidden": true}
# **Why does momentum help in a ravine?** Plain SGD's steps across the steep direction
# flip sign every step and cancel in the average, while the steps along the shallow
# direction all point the same way and add up: momentum accumulates the consistent
# direction. Adam divides each coordinate by its own gradient scale, so it moves at a
# similar speed along both axes.

# %% [markdown]
# ## 7. Gradient descent and the learning rate
#
# The day-one regression network (10-20-30-1) trained with plain SGD at learning rates
# from 1e-4 to 10. A loss that becomes NaN, infinite or 100× its starting value stops
# training; the curve ends with an X instead of NaN.

# %%
report(learning_rate.demonstrate(**(backup.SMALL_SCAN if SMALL else backup.FULL_SCAN)))

# %% [markdown] jupyter={"source_hidden": true}
# **Why does a too-large learning rate diverge?** Near a minimum the loss is about a
# quadratic with curvature λ; a gradient step multiplies the distance to the minimum by
# (1 − η λ). For η λ > 2 that factor is below −1: every step overshoots further than the
# last and the loss grows geometrically until it overflows to inf and NaN. A too-small
# η makes (1 − η λ) close to 1: it converges, slowly.

# %% [markdown]
# ## Summary
#
# Every claim of this notebook, measured on this machine. The cell fails if one does not hold.

# %%
for demo in demos:
    for claim in demo.claims:
        print(f"{'holds' if claim.passed else 'FAILS'}  {claim.metric:<40} {claim.value}")
failed = [claim.metric for demo in demos for claim in demo.claims if not claim.passed]
assert not failed, f"claims that do not hold: {failed}"
