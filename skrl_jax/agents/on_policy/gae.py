"""Generalized advantage estimation as a reverse ``lax.scan`` (compile time does not grow with the rollout length)."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def compute_gae(
    rewards: jax.Array,
    dones: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    discount_factor: float = 0.99,
    lambda_coefficient: float = 0.95,
) -> tuple[jax.Array, jax.Array]:
    """skrl's GAE: returns and normalised advantages.

    Args:
        rewards, dones, values: ``(rollouts, num_envs, 1)``; ``dones`` is terminated | truncated.
        next_values: ``(num_envs, 1)``, the value of the state after the last step.

    Returns:
        ``returns = advantages + values`` and the advantages standardised over the whole
        rollout (``(a - mean) / (std + 1e-8)``, the sample std (n - 1) as skrl's PyTorch backend;
        skrl's JAX backend divides by the population std), both
        ``(rollouts, num_envs, 1)``.
    """
    not_dones = 1.0 - dones.astype(values.dtype)
    following_values = jnp.concatenate([values[1:], next_values[None]], axis=0)

    def backward(advantage, step):
        reward, value, next_value, not_done = step
        advantage = reward - value + discount_factor * not_done * (next_value + lambda_coefficient * advantage)
        return advantage, advantage

    _, advantages = jax.lax.scan(
        backward, jnp.zeros_like(next_values), (rewards, values, following_values, not_dones), reverse=True
    )
    returns = advantages + values
    return returns, (advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)
