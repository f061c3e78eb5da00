"""Pure distribution math of the mixins, written to reproduce skrl's formulas.

Every function works on arrays with any number of leading batch dimensions (including
none, as seen from inside ``jax.vmap``); the last axis is the action axis.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.core.validation import Choice

LOG_SQRT_2PI = 0.5 * float(np.log(2.0 * np.pi))

REDUCTIONS: dict[str, Callable[..., jax.Array] | None] = {
    "mean": jnp.mean,
    "sum": jnp.sum,
    "prod": jnp.prod,
    "none": None,
}


def check_reduction(reduction: str, mixin: str) -> None:
    Choice(tuple(REDUCTIONS)).check(reduction, f"{mixin}: reduction")


def reduce_last(values: jax.Array, reduction: str) -> jax.Array:
    """skrl's reduction over the action axis, keeping it: ``(..., A) -> (..., 1)``; "none" keeps ``(..., A)``."""
    function = REDUCTIONS[reduction]
    return values if function is None else function(values, axis=-1, keepdims=True)


# Gaussian ---------------------------------------------------------------------------------


def normal_log_prob(value: jax.Array, mean: jax.Array, log_std: jax.Array) -> jax.Array:
    """Element-wise log-density of N(mean, exp(log_std)**2) at ``value``."""
    return -jnp.square(value - mean) / (2.0 * jnp.exp(2.0 * log_std)) - log_std - LOG_SQRT_2PI


def normal_entropy(log_std: jax.Array) -> jax.Array:
    """Element-wise entropy of N(., exp(log_std)**2)."""
    return 0.5 + LOG_SQRT_2PI + log_std


def normal_sample(key: jax.Array | None, mean: jax.Array, log_std: jax.Array) -> jax.Array:
    """A sample of N(mean, exp(log_std)**2); without a key its mode, ``mean`` (the greedy action)."""
    shape = jnp.broadcast_shapes(mean.shape, log_std.shape)
    if key is None:
        return jnp.broadcast_to(mean, shape)
    return mean + jnp.exp(log_std) * jax.random.normal(key, shape, dtype=jnp.result_type(mean, jnp.float32))


# Categorical ------------------------------------------------------------------------------


def categorical_log_probs(net_output: jax.Array, unnormalized_log_prob: bool) -> jax.Array:
    """Normalised log-probabilities ``(..., n)`` from logits or from (unnormalised) probabilities.

    As skrl, probabilities are divided by their sum and clipped to [eps, 1 - eps] before the log.
    """
    if unnormalized_log_prob:
        return jax.nn.log_softmax(net_output, axis=-1)
    probs = net_output / net_output.sum(axis=-1, keepdims=True)
    eps = jnp.finfo(probs.dtype).eps
    return jax.nn.log_softmax(jnp.log(jnp.clip(probs, eps, 1.0 - eps)), axis=-1)


def categorical_sample(key: jax.Array | None, log_probs: jax.Array) -> jax.Array:
    """One index per batch element, shape ``(..., 1)`` (int32); without a key the most likely one."""
    if key is None:
        return jnp.argmax(log_probs, axis=-1)[..., None].astype(jnp.int32)
    return jax.random.categorical(key, log_probs, axis=-1)[..., None].astype(jnp.int32)


def categorical_log_prob(log_probs: jax.Array, actions: jax.Array) -> jax.Array:
    """Log-probability of ``actions`` (one index per batch element, any shape of that size), ``(..., 1)``.

    An action that is not an index in ``[0, n)`` (negative, too large, or a float that is not a
    whole number) gets a NaN log-probability: a gather would wrap it around or truncate it into a
    valid-looking value, and a NaN makes the agents' loss check name the update.
    """
    actions = actions.reshape(*log_probs.shape[:-1], 1)
    indices = actions.astype(jnp.int32)
    valid = (indices >= 0) & (indices < log_probs.shape[-1]) & (indices == actions)
    picked = jnp.take_along_axis(log_probs, jnp.clip(indices, 0, log_probs.shape[-1] - 1), axis=-1)
    return jnp.where(valid, picked, jnp.nan)


def categorical_entropy(log_probs: jax.Array) -> jax.Array:
    """Entropy per batch element, shape ``(...)``."""
    log_probs = jnp.clip(log_probs, jnp.finfo(log_probs.dtype).min)
    return -jnp.sum(jnp.exp(log_probs) * log_probs, axis=-1)


def split_branches(net_output: jax.Array, nvec: Sequence[int]) -> list[jax.Array]:
    """Split ``(..., sum(nvec))`` into one ``(..., n_i)`` block per MultiDiscrete branch."""
    return jnp.split(net_output, np.cumsum(nvec)[:-1].tolist(), axis=-1)


# Multivariate Gaussian --------------------------------------------------------------------


def multivariate_scale(log_std: jax.Array) -> jax.Array:
    """Diagonal of the Cholesky factor that skrl's MultivariateGaussianMixin builds.

    skrl passes ``diag(exp(log_std) ** 2)`` as ``scale_tril`` (not as the covariance), so
    the standard deviation of each action is ``exp(2 * log_std)``. We keep that formula so
    that models and checkpoints trained with skrl mean the same thing here.
    """
    return jnp.exp(log_std) * jnp.exp(log_std)
