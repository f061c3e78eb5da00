"""What both trainers check before the first step: the environment fits the agent's models."""

from __future__ import annotations

from typing import Any

import gymnasium

from skrl_jax.core.spaces import compute_space_size


def check_env_fits_agent(env: Any, agent: Any) -> None:
    """The environment's observations have the size the models were built for, and the policy's
    actions are actions of the environment's space (a ``ValueError`` naming both otherwise); for a
    multi-agent agent, each of its agents against the environment's agent of that name."""
    possible_agents = getattr(agent, "possible_agents", None)
    if possible_agents is None:
        check_spaces_fit(env.observation_space, env.action_space, agent.observation_space, agent.action_space)
        return
    env_agents = tuple(getattr(env, "possible_agents", ()))
    if set(env_agents) != set(possible_agents):
        raise ValueError(
            f"the environment's agents are {list(env_agents)} but {type(agent).__name__} was built for "
            f"{list(possible_agents)}"
        )
    for uid in possible_agents:
        check_spaces_fit(
            env.observation_spaces[uid],
            env.action_spaces[uid],
            agent.observation_spaces[uid],
            agent.action_spaces[uid],
            f"agent {uid!r}: ",
        )
        if agent.privileged_sizes[uid] and getattr(env, "state_spaces", {}).get(uid) is None:
            raise ValueError(
                f"agent {uid!r}: {type(agent).__name__} was built with a state space (a global state for its value) "
                "but the environment has none for it; wrap it (e.g. skrl_jax.envs.WorldState(env)) or build the "
                "agent without state_spaces"
            )


def check_spaces_fit(
    env_observations: Any, env_actions: Any, observation_space: Any, action_space: Any, who: str = ""
) -> None:
    """``check_env_fits_agent`` for one set of spaces (``who`` prefixes the message)."""
    if observation_space is not None:
        model_size = compute_space_size(observation_space, occupied_size=True)
        env_size = compute_space_size(env_observations, occupied_size=True)
        if env_size != model_size:
            raise ValueError(
                f"{who}the environment's observations have {env_size} values ({env_observations}) but the models "
                f"were built for {model_size} ({observation_space})"
            )
    policy_space, env_space = action_space, env_actions
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
            f"{who}the policy acts in {policy_space} but the environment takes {env_space}: its actions would fall outside "
            "the environment's action space"
        )
