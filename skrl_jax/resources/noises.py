"""Exploration noises (skrl's ``GaussianNoise`` and ``OrnsteinUhlenbeckNoise``) as pure functions.

A noise has ``initial_state(shape)`` and ``sample(state, key) -> (noise, state)``; agents keep the
state in their ``AgentState.carry`` (one per environment and action dimension), so sampling is
pure (skrl's stateful ``sample(size)`` has no counterpart: the state is the caller's).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["GaussianNoise", "OrnsteinUhlenbeckNoise"]


@dataclasses.dataclass(frozen=True)
class GaussianNoise:
    """``N(mean, std)`` noise, independent at every step (skrl's ``GaussianNoise(mean, std, device)``)."""

    mean: float
    std: float
    device: Any = None

    def initial_state(self, shape: tuple[int, ...]) -> jax.Array:
        return jnp.zeros((), jnp.float32)  # stateless: a placeholder

    def sample(self, state: jax.Array, key: jax.Array, shape: tuple[int, ...] | None = None) -> tuple:
        """``(noise, state)``; ``shape`` defaults to the state's (give it for the stateless placeholder)."""
        noise = self.mean + self.std * jax.random.normal(key, shape if shape is not None else state.shape)
        return noise, state


@dataclasses.dataclass(frozen=True)
class OrnsteinUhlenbeckNoise:
    """Ornstein-Uhlenbeck noise (skrl's ``OrnsteinUhlenbeckNoise(theta, sigma, base_scale, mean, std)``).

    ``state <- state - theta * state + sigma * N(mean, std)``; the noise is ``base_scale * state``.
    This is the formula of skrl's PyTorch backend; its JAX backend computes ``theta * state + ...``
    (a mean-reverting factor of ``theta`` instead of ``1 - theta``), which this port does not copy.
    """

    theta: float
    sigma: float
    base_scale: float
    mean: float = 0.0
    std: float = 1.0
    device: Any = None

    def initial_state(self, shape: tuple[int, ...]) -> jax.Array:
        return jnp.zeros(shape, jnp.float32)

    def sample(self, state: jax.Array, key: jax.Array, shape: tuple[int, ...] | None = None) -> tuple:
        if shape is not None and tuple(shape) != tuple(state.shape):
            state = jnp.broadcast_to(state, shape)
        normal = self.mean + self.std * jax.random.normal(key, state.shape)
        state = state - self.theta * state + self.sigma * normal
        return self.base_scale * state, state
