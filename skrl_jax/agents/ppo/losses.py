"""PPO's loss: clipped surrogate, entropy bonus and (optionally clipped) value loss, as skrl."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from skrl_jax.agents.on_policy.update import Evaluation, Minibatch


@dataclasses.dataclass(frozen=True)
class PPOLossSettings:
    ratio_clip: float
    value_clip: float
    clip_predicted_values: bool
    value_loss_scale: float


def kl_divergence(new_log_prob: jax.Array, old_log_prob: jax.Array) -> jax.Array:
    """skrl's estimate ``mean(exp(r) - 1 - r)`` with ``r = new - old`` (no gradient)."""
    ratio = jax.lax.stop_gradient(new_log_prob - old_log_prob)
    return jnp.mean(jnp.exp(ratio) - 1.0 - ratio)


def entropy_loss(evaluation: Evaluation, entropy_loss_scale: float) -> jax.Array:
    if not entropy_loss_scale:
        return jnp.zeros(())
    return -entropy_loss_scale * jnp.mean(evaluation.entropy)


def summed_loss(
    policy_loss: jax.Array, value_loss: jax.Array, evaluation: Evaluation, minibatch: Minibatch, config: Any
) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``policy + entropy + value`` (what one shared optimizer minimises) and each term and the KL as aux."""
    entropy = entropy_loss(evaluation, config.entropy_loss_scale)
    aux = {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy_loss": entropy,
        "kl_divergence": kl_divergence(evaluation.log_prob, minibatch.log_prob),
    }
    return policy_loss + entropy + value_loss, aux


def ppo_loss(evaluation: Evaluation, minibatch: Minibatch, config: Any) -> tuple[jax.Array, dict[str, jax.Array]]:
    """``policy + entropy + value`` loss of one minibatch; aux has each term and the KL."""
    settings: PPOLossSettings = config.loss_settings
    ratio = jnp.exp(evaluation.log_prob - minibatch.log_prob)
    surrogate = minibatch.advantages * ratio
    surrogate_clipped = minibatch.advantages * jnp.clip(ratio, 1.0 - settings.ratio_clip, 1.0 + settings.ratio_clip)
    policy_loss = -jnp.mean(jnp.minimum(surrogate, surrogate_clipped))
    predicted = evaluation.values
    if settings.clip_predicted_values:
        predicted = minibatch.values + jnp.clip(predicted - minibatch.values, -settings.value_clip, settings.value_clip)
    value_loss = settings.value_loss_scale * jnp.mean(jnp.square(minibatch.returns - predicted))
    return summed_loss(policy_loss, value_loss, evaluation, minibatch, config)
