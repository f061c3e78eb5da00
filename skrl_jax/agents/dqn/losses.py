"""DQN's and DDQN's pure targets and loss (skrl's formulas). Q-values are ``(batch, num_actions)``,
the others ``(batch, 1)``."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def q_target(rewards: jax.Array, dones: jax.Array, next_target_q: jax.Array, discount_factor: float) -> jax.Array:
    """DQN: ``r + gamma * (1 - done) * max_a Q_target(s', a)``, with no gradient."""
    best = jnp.max(next_target_q, axis=-1, keepdims=True)
    return jax.lax.stop_gradient(rewards + discount_factor * (1.0 - dones) * best)


def double_q_target(
    rewards: jax.Array, dones: jax.Array, next_q: jax.Array, next_target_q: jax.Array, discount_factor: float
) -> jax.Array:
    """DDQN: ``r + gamma * (1 - done) * Q_target(s', argmax_a Q(s', a))``, with no gradient."""
    best = jnp.take_along_axis(next_target_q, jnp.argmax(next_q, axis=-1, keepdims=True), axis=-1)
    return jax.lax.stop_gradient(rewards + discount_factor * (1.0 - dones) * best)


def q_loss(q_values: jax.Array, actions: jax.Array, targets: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean squared error between ``Q(s, a)`` of the taken actions and the targets; also ``Q(s, a)``."""
    taken = jnp.take_along_axis(q_values, actions.astype(jnp.int32), axis=-1)
    return jnp.mean(jnp.square(taken - targets)), taken
