"""Pure-JAX multi-agent environments: the protocol the compiled trainer runs, and JaxMARL's.

A ``MultiAgentJaxEnv`` is a ``JaxEnv`` whose observations, actions, rewards and flags are dicts
keyed by agent (``possible_agents``), each entry what a single-agent ``JaxEnv`` has for one
environment:

- ``reset(key) -> ({agent: (observation_size,)}, state)``
- ``step(key, state, {agent: action}) -> (observations, state, rewards, terminated, truncated, info)``
  with ``rewards`` / ``terminated`` / ``truncated`` ``{agent: ()}``, resetting inside the step when
  the episode ends; ``info["final_observation"]`` holds the ended episode's last observations, and
  ``episode_return`` (the reward summed over the agents, as skrl logs it), ``episode_length`` and
  ``episode_done`` the episode statistics.
- ``states(observations, state) -> {agent: (state_size,)}`` or None: the global state a
  centralised value reads (skrl 2.x's ``env.state()``), with ``state_spaces``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.core.spaces import check_space
from skrl_jax.envs.jax_env import EpisodeState, JaxEnv, gymnax_space_to_gymnasium


class MultiAgentJaxEnv(JaxEnv):
    """Base of pure-JAX multi-agent environments (see the module's docstring)."""

    possible_agents: tuple[str, ...]
    observation_spaces: dict[str, gymnasium.Space]
    action_spaces: dict[str, gymnasium.Space]
    state_spaces: dict[str, gymnasium.Space | None]

    @property
    def num_agents(self) -> int:
        return len(self.possible_agents)

    def states(self, observations: Mapping[str, jax.Array], state: Any) -> dict[str, jax.Array] | None:
        """The global state of each agent (None: the environment has none)."""
        return None

    def _observation(self, observation: Any) -> dict[str, jax.Array]:
        return {uid: jnp.reshape(jnp.asarray(observation[uid], jnp.float32), (-1,)) for uid in self.possible_agents}


def is_jaxmarl_env(env: Any) -> bool:
    return any(cls.__module__.startswith("jaxmarl.") for cls in type(env).__mro__)


class JaxMARLWrapper(MultiAgentJaxEnv):
    """A JaxMARL environment (``jaxmarl.make(...)``; jaxmarl >= 0.2).

    JaxMARL's ``step`` returns one ``dones`` per agent (and ``"__all__"``), with no terminated /
    truncated split. Here a done at the time limit (the environment's ``max_steps`` reached by its
    state's ``step`` counter, as JaxMARL's MPE, SMAX and others count) is ``truncated``, any other
    ``terminated``; with ``time_limit=False`` every done is ``terminated``. Either way an agent's
    GAE stops at the end of the episode (skrl's default); ``cfg["time_limit_bootstrap"]`` adds
    ``discount * V(last observation)`` to the reward of a truncated step, as skrl does.
    JaxMARL's own IPPO treats every done as terminal (no bootstrap).
    """

    def __init__(self, env: Any, time_limit: bool = True) -> None:
        self.env = env
        self.possible_agents = tuple(env.agents)
        self.observation_spaces = {
            uid: gymnax_space_to_gymnasium(env.observation_space(uid)) for uid in self.possible_agents
        }
        self.action_spaces = {uid: gymnax_space_to_gymnasium(env.action_space(uid)) for uid in self.possible_agents}
        self.state_spaces = dict.fromkeys(self.possible_agents)
        for uid, space in self.observation_spaces.items():
            check_space(space, f"agent {uid!r}'s observation space")
        self.time_limit = bool(time_limit) and hasattr(env, "max_steps")
        self.num_envs = 1

    def reset_env(self, key: jax.Array) -> tuple[dict[str, jax.Array], Any]:
        return self.env.reset(key)

    def _env_actions(self, actions: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
        found = {}
        for uid in self.possible_agents:
            space = self.action_spaces[uid]
            if isinstance(space, gymnasium.spaces.Discrete):
                found[uid] = jnp.reshape(actions[uid], ()).astype(jnp.int32)
            else:
                found[uid] = jnp.reshape(actions[uid], space.shape)
        return found

    def step_env(self, key: jax.Array, state: Any, actions: Mapping[str, jax.Array]) -> tuple:
        step_key, reset_key = jax.random.split(key)
        observations, next_state, rewards, dones, infos = self.env.step_env(step_key, state, self._env_actions(actions))
        ended = dones["__all__"]
        at_limit = jnp.asarray(False)
        if self.time_limit and hasattr(next_state, "step"):
            at_limit = jnp.asarray(next_state.step) >= self.env.max_steps
        terminated = {uid: dones[uid] & ~at_limit for uid in self.possible_agents}
        truncated = {uid: dones[uid] & at_limit for uid in self.possible_agents}
        reset_observations, reset_state = self.env.reset(reset_key)
        next_state = jax.tree.map(lambda new, old: jnp.where(ended, new, old), reset_state, next_state)
        info = {"final_observation": observations, "episode_done": ended}
        observations = jax.tree.map(lambda new, old: jnp.where(ended, new, old), reset_observations, observations)
        return observations, next_state, rewards, terminated, truncated, info


class WorldState(MultiAgentJaxEnv):
    """A multi-agent environment with a global state: every agent's observations concatenated in
    ``possible_agents`` order, the same for each agent (the world state JaxMARL's MAPPO builds for
    MPE, which has no ``state()``). ``state_spaces[agent]`` is ``Box((sum of observation sizes,))``."""

    def __init__(self, env: MultiAgentJaxEnv) -> None:
        self.env = env
        self.possible_agents = env.possible_agents
        self.observation_spaces = env.observation_spaces
        self.action_spaces = env.action_spaces
        size = sum(int(np.prod(space.shape)) for space in env.observation_spaces.values())
        space = gymnasium.spaces.Box(-np.inf, np.inf, (size,), np.float32)
        self.state_spaces = dict.fromkeys(self.possible_agents, space)
        self.num_envs = env.num_envs

    def reset(self, key: jax.Array) -> tuple[dict[str, jax.Array], EpisodeState]:
        return self.env.reset(key)

    def step(self, key: jax.Array, state: EpisodeState, action: Any) -> tuple:
        return self.env.step(key, state, action)

    def batch_step(self, keys: jax.Array, states: EpisodeState, actions: Any) -> tuple:
        return self.env.batch_step(keys, states, actions)

    def states(self, observations: Mapping[str, jax.Array], state: Any) -> dict[str, jax.Array]:
        world = jnp.concatenate([observations[uid] for uid in self.possible_agents], axis=-1)
        return dict.fromkeys(self.possible_agents, world)


class AgentIDs(MultiAgentJaxEnv):
    """Each agent's observation followed by its one-hot ID (its index in ``possible_agents``), so that
    one network shared by the agents can tell them apart (agents that share a model see the same
    spaces: build the model for these). ``observation_spaces[agent]`` grows by ``num_agents``."""

    def __init__(self, env: MultiAgentJaxEnv) -> None:
        self.env = env
        self.possible_agents = env.possible_agents
        self.action_spaces = env.action_spaces
        self.state_spaces = env.state_spaces
        self.num_envs = env.num_envs
        count = len(self.possible_agents)
        self.observation_spaces = {}
        for uid, space in env.observation_spaces.items():
            low = np.concatenate([np.broadcast_to(space.low, space.shape).reshape(-1), np.zeros(count)])
            high = np.concatenate([np.broadcast_to(space.high, space.shape).reshape(-1), np.ones(count)])
            self.observation_spaces[uid] = gymnasium.spaces.Box(low.astype(np.float32), high.astype(np.float32))
        self.ids = {uid: jnp.eye(count, dtype=jnp.float32)[index] for index, uid in enumerate(self.possible_agents)}

    def _with_ids(self, observations: Mapping[str, jax.Array]) -> dict[str, jax.Array]:
        return {
            uid: jnp.concatenate(
                [observations[uid], jnp.broadcast_to(self.ids[uid], (*observations[uid].shape[:-1], len(self.ids)))], -1
            )
            for uid in self.possible_agents
        }

    def reset(self, key: jax.Array) -> tuple[dict[str, jax.Array], EpisodeState]:
        observations, state = self.env.reset(key)
        return self._with_ids(observations), state

    def step(self, key: jax.Array, state: EpisodeState, action: Any) -> tuple:
        observations, state, rewards, terminated, truncated, info = self.env.step(key, state, action)
        info = {**info, "final_observation": self._with_ids(info["final_observation"])}
        return self._with_ids(observations), state, rewards, terminated, truncated, info

    def batch_step(self, keys: jax.Array, states: EpisodeState, actions: Any) -> tuple:
        observations, states, rewards, terminated, truncated, info = self.env.batch_step(keys, states, actions)
        info = {**info, "final_observation": self._with_ids(info["final_observation"])}
        return self._with_ids(observations), states, rewards, terminated, truncated, info

    def states(self, observations: Mapping[str, jax.Array], state: Any) -> dict[str, jax.Array] | None:
        size = len(self.ids)
        return self.env.states({uid: x[..., :-size] for uid, x in observations.items()}, state)
