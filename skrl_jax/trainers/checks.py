"""What both trainers check before the first step: the environment fits the agent's models."""

from __future__ import annotations

from typing import Any

import gymnasium

from skrl_jax.core.spaces import compute_space_size


def check_env_fits_agent(env: Any, agent: Any) -> None:
    """The environment's observations have the size the models were built for, and the policy's
    actions are actions of the environment's space (a ``ValueError`` naming both otherwise)."""
    if agent.observation_space is not None:
        model_size = compute_space_size(agent.observation_space, occupied_size=True)
        env_size = compute_space_size(env.observation_space, occupied_size=True)
        if env_size != model_size:
            raise ValueError(
                f"the environment's observations have {env_size} values ({env.observation_space}) but the models "
                f"were built for {model_size} ({agent.observation_space})"
            )
    policy_space, env_space = agent.action_space, env.action_space
    if policy_space is None:
        return
    same = type(policy_space) is type(env_space)
    if same and isinstance(env_space, gymnasium.spaces.Discrete):
        same = int(policy_space.n) == int(env_space.n)
    elif same and isinstance(env_space, gymnasium.spaces.MultiDiscrete):
        same = policy_space.nvec.tolist() == env_space.nvec.tolist()
    elif same:
        same = compute_space_size(policy_space) == compute_space_size(env_space)
    if not same:
        raise ValueError(
            f"the policy acts in {policy_space} but the environment takes {env_space}: its actions would fall outside "
            "the environment's action space"
        )
