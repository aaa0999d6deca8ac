"""Item 6: Adam, Algorithm 1 of Kingma & Ba (arXiv:1412.6980) in NumPy, against Keras.

Algorithm 1, step t (all operations elementwise):

    m_t = beta1 m_{t-1} + (1 - beta1) g_t
    v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    m_hat = m_t / (1 - beta1^t),   v_hat = v_t / (1 - beta2^t)
    theta_t = theta_{t-1} - alpha m_hat / (sqrt(v_hat) + epsilon)

keras.optimizers.Adam differs from the printed algorithm in two places, and
both are reconciled here rather than hidden in a tolerance:

1. Epsilon placement. Keras uses the "more efficient" form at the end of the
   paper's Section 2: alpha_t = alpha sqrt(1 - beta2^t) / (1 - beta1^t) and
   theta_t = theta_{t-1} - alpha_t m_t / (sqrt(v_t) + epsilon). Multiplying
   out, that is Algorithm 1 with epsilon replaced by epsilon / sqrt(1 - beta2^t):
   Keras adds epsilon to the *uncorrected* sqrt(v_t), so its effective epsilon
   is ~32x larger at step 1 and ~2.3x at step 200 (beta2 = 0.999). It matters
   only where sqrt(v_hat) is comparable to epsilon; with gradients of order 0.1-1
   and epsilon = 1e-8 (we pass it: Keras' default is 1e-7) it moves the
   trajectory by ~1e-9. ``keras_epsilon=True`` reproduces Keras' placement.
2. Float32 hyper-parameters. Keras computes beta^t from ``ops.cast(beta, dtype)``,
   which goes through float32 even for float64 variables: 1 - float32(0.999)
   is 1.3e-5 (relative) smaller than 0.001, so for t << 1000 every step is
   ~6e-6 (relative) shorter. Over 200 steps of size ~alpha that adds up to
   ~1e-6, as large as the tolerance. (The moment updates use the exact betas;
   the learning rate is a float32 variable, 4.7e-8 relative.)
   ``float32_hyperparameters=True`` does the same.

The checked claim (``adam_max_abs_err``) is Algorithm 1 as printed -- the
paper's epsilon placement -- with the hyper-parameters rounded as Keras holds
them: it shows that the epsilon placement is harmless. The extras report the
pure paper form (exact hyper-parameters) and the fully Keras-shaped form, which
leaves only round-off.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras
import numpy as np
from matplotlib.figure import Figure

from keraslab.theory.demonstration import Claim, Demonstration

ADAM_TOLERANCE = 1e-6  # max |theta_numpy - theta_keras| over 200 steps


@dataclass(frozen=True)
class AdamSettings:
    """Algorithm 1's hyper-parameters (the paper's defaults)."""

    learning_rate: float = 1e-3  # alpha, in units of theta per step
    beta_1: float = 0.9
    beta_2: float = 0.999
    epsilon: float = 1e-8

    def keras(self) -> keras.optimizers.Adam:
        """The same settings as a Keras optimizer."""
        return keras.optimizers.Adam(learning_rate=self.learning_rate, beta_1=self.beta_1, beta_2=self.beta_2,
                                     epsilon=self.epsilon)


# --- the 2-D loss surface: a ravine, steep across and shallow along ----------------------

RAVINE_CURVATURES = np.array([0.1, 2.0])  # loss = sum(c_i theta_i^2) / 2
RAVINE_START = np.array([-4.0, 1.5])  # where the optimiser paths start
# The Adam check starts at parameters of order 1, like a network's weights: float32
# storage (JAX) then rounds each step by ~6e-8 rather than ~2e-7 at |theta| = 4.
ADAM_CHECK_START = np.array([-1.0, 0.5])


def ravine_loss(theta: np.ndarray) -> np.ndarray:
    """Loss on a grid or a point: theta has shape (..., 2)."""
    return 0.5 * np.sum(RAVINE_CURVATURES * np.asarray(theta) ** 2, axis=-1)


def ravine_gradient(theta: np.ndarray) -> np.ndarray:
    """Gradient of ``ravine_loss`` at ``theta`` (shape (2,))."""
    return RAVINE_CURVATURES * np.asarray(theta, dtype=np.float64)


# --- Adam by hand and Keras on the same gradients ------------------------------------------


def adam_numpy(start: np.ndarray, gradient: Callable[[np.ndarray], np.ndarray], steps: int,
               settings: AdamSettings = AdamSettings(), keras_epsilon: bool = False,
               float32_hyperparameters: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Algorithm 1 in float64: the trajectory (steps + 1, n) and the gradients used (steps, n).

    ``keras_epsilon=True`` adds epsilon to the uncorrected sqrt(v) as Keras does;
    ``float32_hyperparameters=True`` rounds the learning rate, and the betas in
    beta^t, to float32 as Keras does.
    """
    rounded = np.float32 if float32_hyperparameters else np.float64
    learning_rate = float(rounded(settings.learning_rate))
    correction_betas = np.array([settings.beta_1, settings.beta_2], dtype=rounded).astype(np.float64)
    theta = np.array(start, dtype=np.float64)
    m = np.zeros_like(theta)
    v = np.zeros_like(theta)
    trajectory, gradients = [theta.copy()], []
    for t in range(1, steps + 1):
        g = gradient(theta)
        gradients.append(g)
        m = settings.beta_1 * m + (1 - settings.beta_1) * g
        v = settings.beta_2 * v + (1 - settings.beta_2) * g ** 2
        m_hat = m / (1 - correction_betas[0] ** t)
        v_hat = v / (1 - correction_betas[1] ** t)
        epsilon = settings.epsilon / np.sqrt(1 - correction_betas[1] ** t) if keras_epsilon else settings.epsilon
        theta = theta - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
        trajectory.append(theta.copy())
    return np.array(trajectory), np.array(gradients)


def parameter_dtype() -> str:
    """float64 where the backend allows it, so the comparison measures the algorithm,
    not float32 storage; JAX computes in float32 unless x64 mode is switched on."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            return "float32"
    return "float64"


def _variable(start: np.ndarray) -> keras.Variable:
    dtype = parameter_dtype()
    return keras.Variable(np.asarray(start, dtype=dtype), dtype=dtype, trainable=True)


def keras_replay(optimizer: keras.optimizers.Optimizer, start: np.ndarray, gradients: np.ndarray) -> np.ndarray:
    """Apply a fixed sequence of gradients with a Keras optimizer: the trajectory (steps + 1, n)."""
    variable = _variable(start)
    trajectory = [np.array(start, dtype=np.float64)]
    for g in gradients:
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype=variable.dtype), variable)])
        trajectory.append(np.array(variable.numpy(), dtype=np.float64))
    return np.array(trajectory)


def keras_path(optimizer: keras.optimizers.Optimizer, start: np.ndarray,
               gradient: Callable[[np.ndarray], np.ndarray], steps: int) -> np.ndarray:
    """Let a Keras optimizer descend a surface given by its gradient: the path (steps + 1, n)."""
    variable = _variable(start)
    path = [np.array(start, dtype=np.float64)]
    for _ in range(steps):
        g = gradient(path[-1])
        optimizer.apply_gradients([(keras.ops.convert_to_tensor(g, dtype=variable.dtype), variable)])
        path.append(np.array(variable.numpy(), dtype=np.float64))
    return np.array(path)


@dataclass(frozen=True)
class AdamComparison:
    """Algorithm 1 in NumPy against keras.optimizers.Adam on the same gradients.

    Errors are max |theta_numpy - theta_keras| over all steps and parameters
    (units of theta).
    """

    numpy_trajectory: np.ndarray  # Algorithm 1, paper epsilon, Keras' float32 hyper-parameters
    keras_trajectory: np.ndarray
    max_abs_err: float  # the checked claim
    max_abs_err_exact_hyperparameters: float  # Algorithm 1 exactly as printed
    max_abs_err_keras_form: float  # Keras' epsilon placement too: only round-off is left


def compare_adam(steps: int = 200, settings: AdamSettings = AdamSettings(),
                 start: np.ndarray = ADAM_CHECK_START) -> AdamComparison:
    """Run Algorithm 1 on the ravine and replay its gradients through keras.optimizers.Adam."""
    numpy_run, gradients = adam_numpy(start, ravine_gradient, steps, settings, float32_hyperparameters=True)
    reference = keras_replay(settings.keras(), start, gradients)

    def error(**form: bool) -> float:
        replay = iter(gradients)  # the same gradients again, whatever the parameters
        trajectory, _ = adam_numpy(start, lambda _: next(replay), steps, settings, **form)
        return float(np.max(np.abs(trajectory - reference)))

    return AdamComparison(numpy_run, reference, float(np.max(np.abs(numpy_run - reference))), error(),
                          error(keras_epsilon=True, float32_hyperparameters=True))


# --- optimiser paths on the ravine -------------------------------------------------------

PATH_STEPS = 60


def path_optimizers() -> dict[str, keras.optimizers.Optimizer]:
    """The three optimisers of the comparison figure, with learning rates suited to the ravine."""
    return {
        "SGD (lr 0.9)": keras.optimizers.SGD(learning_rate=0.9),
        "SGD + momentum 0.9 (lr 0.1)": keras.optimizers.SGD(learning_rate=0.1, momentum=0.9),
        "Adam (lr 0.3)": keras.optimizers.Adam(learning_rate=0.3),
    }


def optimizer_paths(steps: int = PATH_STEPS) -> dict[str, np.ndarray]:
    """Each optimiser's path (steps + 1, 2) down the ravine from the same start."""
    return {name: keras_path(optimizer, RAVINE_START, ravine_gradient, steps)
            for name, optimizer in path_optimizers().items()}


def plot(comparison: AdamComparison, paths: dict[str, np.ndarray]) -> Figure:
    """Left: the paths on the loss contours. Right: |Algorithm 1 - Keras| per step."""
    figure = Figure(figsize=(12, 4.5), layout="constrained")
    surface_axis, error_axis = figure.subplots(1, 2, width_ratios=(1.4, 1))
    u, v = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-2.0, 2.0, 200))
    surface_axis.contour(u, v, ravine_loss(np.stack([u, v], axis=-1)), levels=np.geomspace(0.01, 5, 14),
                         colors="grey", linewidths=0.6)
    for name, path in paths.items():
        surface_axis.plot(path[:, 0], path[:, 1], "o-", ms=2.5, lw=1, label=f"{name}: loss {ravine_loss(path[-1]):.1e}")
    surface_axis.plot(0, 0, "k*", ms=12)
    surface_axis.set_xlabel("θ1 (curvature 0.1)")
    surface_axis.set_ylabel("θ2 (curvature 2)")
    surface_axis.set_title(f"{len(next(iter(paths.values()))) - 1} steps on loss = (0.1 θ1² + 2 θ2²)/2")
    surface_axis.legend(fontsize=8, loc="lower right")
    steps = np.arange(len(comparison.keras_trajectory))
    difference = np.max(np.abs(comparison.numpy_trajectory - comparison.keras_trajectory), axis=1)
    error_axis.plot(steps[1:], np.maximum(difference[1:], 1e-17))
    error_axis.axhline(ADAM_TOLERANCE, color="red", ls="--", label="tolerance")
    error_axis.set_yscale("log")
    error_axis.set_xlabel("Adam step")
    error_axis.set_ylabel("max |θ NumPy − θ Keras|")
    error_axis.set_title("Algorithm 1 (NumPy) vs keras.optimizers.Adam,\nalpha 1e-3, same gradients")
    error_axis.legend()
    return figure


def demonstrate(steps: int = 200) -> Demonstration:
    """Item 6: Algorithm 1 reproduces keras.optimizers.Adam; three optimisers on one surface."""
    comparison = compare_adam(steps)
    claims = [Claim.at_most("adam_max_abs_err", comparison.max_abs_err, ADAM_TOLERANCE,
                            f"Algorithm 1 (NumPy) vs keras.optimizers.Adam over {steps} steps, max |Δθ|")]
    extras = {
        "adam_max_abs_err_exact_hyperparameters": comparison.max_abs_err_exact_hyperparameters,
        "adam_max_abs_err_keras_form": comparison.max_abs_err_keras_form,
        "adam_parameter_dtype": parameter_dtype(),
    }
    return Demonstration("adam", "Adam by hand vs Keras; SGD, momentum and Adam paths", claims,
                         plot(comparison, optimizer_paths()), extras)
