"""The most likely action of a policy, from the outputs its ``act`` returned (for evaluation)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np


def greedy_actions(model: Any, outputs: Mapping[str, jax.Array]) -> jax.Array:
    """``mean_actions`` (Gaussian policies), else the argmax of each branch's logits (Categorical,
    MultiCategorical)."""
    if "mean_actions" in outputs:
        return outputs["mean_actions"]
    if "net_output" not in outputs:
        raise ValueError(
            f"no greedy action in the policy's outputs (keys {sorted(outputs)}): expected 'mean_actions' or 'net_output'"
        )
    net_output = outputs["net_output"]
    space = model.action_space
    if isinstance(space, gymnasium.spaces.MultiDiscrete):
        branches = jnp.split(net_output, np.cumsum(space.nvec.reshape(-1))[:-1].tolist(), axis=-1)
        return jnp.stack([jnp.argmax(branch, axis=-1) for branch in branches], axis=-1).astype(jnp.int32)
    return jnp.argmax(net_output, axis=-1, keepdims=True).astype(jnp.int32)
