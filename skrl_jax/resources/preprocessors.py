"""RunningStandardScaler: skrl's running standardisation, as a pytree state and pure functions."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from skrl_jax.core.spaces import compute_space_size

__all__ = [
    "RunningStandardScaler",
    "ScalerState",
    "scaler_init",
    "scaler_update",
    "scaler_standardize",
    "scaler_inverse",
]


class ScalerState(NamedTuple):
    """Running statistics; ``mean`` and ``variance`` have shape ``(size,)``, ``count`` ``(1,)``."""

    mean: jax.Array
    variance: jax.Array
    count: jax.Array


def scaler_init(size: int) -> ScalerState:
    """skrl's starting point: mean 0, variance 1, count 1."""
    return ScalerState(jnp.zeros(size, jnp.float32), jnp.ones(size, jnp.float32), jnp.ones((1,), jnp.float32))


def scaler_update(state: ScalerState, x: jax.Array) -> ScalerState:
    """Merge a batch ``(..., size)`` into the statistics (parallel variance, sample variance of the batch)."""
    x = jnp.reshape(x, (-1, state.mean.shape[-1]))
    batch_mean = jnp.mean(x, axis=0)
    batch_variance = jnp.var(x, axis=0, ddof=1)
    batch_count = x.shape[0]
    delta = batch_mean - state.mean
    total = state.count + batch_count
    m2 = (
        state.variance * state.count
        + batch_variance * batch_count
        + jnp.square(delta) * state.count * batch_count / total
    )
    return ScalerState(state.mean + delta * batch_count / total, m2 / total, total)


def scaler_standardize(
    state: ScalerState, x: jax.Array, clip_threshold: float = 5.0, epsilon: float = 1e-8
) -> jax.Array:
    return jnp.clip((x - state.mean) / (jnp.sqrt(state.variance) + epsilon), -clip_threshold, clip_threshold)


def scaler_inverse(state: ScalerState, x: jax.Array, clip_threshold: float = 5.0) -> jax.Array:
    return jnp.sqrt(state.variance) * jnp.clip(x, -clip_threshold, clip_threshold) + state.mean


class RunningStandardScaler:
    """skrl's ``RunningStandardScaler(size, epsilon, clip_threshold, device)``.

    The agents use its pure functions with a ``ScalerState`` kept in their train state;
    ``__call__(x, train=False, inverse=False)`` is skrl's eager interface over ``self.state``.
    """

    def __init__(self, size: Any, epsilon: float = 1e-8, clip_threshold: float = 5.0, device: Any = None) -> None:
        self.size = compute_space_size(size, occupied_size=True)
        self.epsilon = float(epsilon)
        self.clip_threshold = float(clip_threshold)
        self.device = device
        self.state = scaler_init(self.size)

    def initial_state(self) -> ScalerState:
        return scaler_init(self.size)

    def standardize(self, state: ScalerState, x: jax.Array) -> jax.Array:
        return scaler_standardize(state, x, self.clip_threshold, self.epsilon)

    def inverse(self, state: ScalerState, x: jax.Array) -> jax.Array:
        return scaler_inverse(state, x, self.clip_threshold)

    def __call__(self, x: jax.Array, train: bool = False, inverse: bool = False) -> jax.Array:
        if train:
            self.state = scaler_update(self.state, x)
        return self.inverse(self.state, x) if inverse else self.standardize(self.state, x)
