"""Pure-JAX environments: the protocol the compiled trainer runs, and a gymnax wrapper.

A ``JaxEnv`` is a pair of pure functions on one (unbatched) environment; the trainer
``vmap``s them over parallel environments:

- ``reset(key) -> (observation, state)``
- ``step(key, state, action) -> (observation, state, reward, terminated, truncated, info)``,
  resetting inside the step when an episode ends (the returned observation is then the first
  of the next episode, ``info["final_observation"]`` the last of the ended one).

Observations are skrl's flat float32 vector ``(observation_size,)``; an action is what the
policy returns for one environment (``(1,)`` for Discrete, ``(action_size,)`` for Box).
``info`` carries the episode statistics as arrays: ``episode_return`` and ``episode_length``
(of the episode that ended at this step, else of the running one) and ``episode_done``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.core.spaces import check_space


class EpisodeState(NamedTuple):
    env_state: Any
    episode_return: jax.Array
    episode_length: jax.Array


class JaxEnv:
    """Base of pure-JAX environments: subclasses provide ``reset_env`` / ``step_env`` on
    their own state; this class adds the flat observation layout and episode statistics."""

    observation_space: gymnasium.Space
    action_space: gymnasium.Space
    state_space: gymnasium.Space | None = None  # skrl 2.x's privileged state: none here
    device: Any = None  # skrl's env.device: JAX's default device

    def reset_env(self, key: jax.Array) -> tuple[jax.Array, Any]:
        raise NotImplementedError

    def step_env(self, key: jax.Array, state: Any, action: Any) -> tuple:
        """``(observation, state, reward, terminated, truncated, info)`` with auto-reset."""
        raise NotImplementedError

    def _observation(self, observation: Any) -> jax.Array:
        return jnp.reshape(jnp.asarray(observation, jnp.float32), (-1,))

    def reset(self, key: jax.Array) -> tuple[jax.Array, EpisodeState]:
        observation, state = self.reset_env(key)
        return self._observation(observation), EpisodeState(state, jnp.zeros((), jnp.float32), jnp.zeros((), jnp.int32))

    def step(self, key: jax.Array, state: EpisodeState, action: jax.Array) -> tuple:
        return self._count_episodes(state, self.step_env(key, state.env_state, action))

    def batch_step(self, keys: jax.Array, states: EpisodeState, actions: jax.Array) -> tuple:
        """``step`` over a batch of environments (a leading axis on every argument): what the
        ``CompiledTrainer`` calls. ``vmap(step)`` here; an environment whose reset is costly
        overrides it to reset only when an episode ended somewhere in the batch."""
        return jax.vmap(self.step)(keys, states, actions)

    def _count_episodes(self, state: EpisodeState, outputs: tuple) -> tuple:
        """``step_env``'s outputs with the flat observations and the episode statistics. Rewards and
        flags may be dicts keyed by agent (a multi-agent environment): the episode's return is then
        the reward summed over the agents, and it ends where ``info["episode_done"]`` says."""
        observation, env_state, reward, terminated, truncated, info = outputs
        reward = jax.tree.map(lambda r: jnp.asarray(r, jnp.float32), reward)
        episode_return = state.episode_return + sum(jax.tree.leaves(reward))
        episode_length = state.episode_length + 1
        done = info["episode_done"] if "episode_done" in info else jnp.logical_or(terminated, truncated)
        done = jnp.asarray(done, bool)
        info = {
            "final_observation": self._observation(info.get("final_observation", observation)),
            "episode_return": episode_return,
            "episode_length": episode_length,
            "episode_done": done,
        }
        state = EpisodeState(
            env_state, jnp.where(done, 0.0, episode_return), jnp.where(done, 0, episode_length).astype(jnp.int32)
        )
        flag = lambda x: jnp.asarray(x, bool)  # noqa: E731
        return (
            self._observation(observation),
            state,
            reward,
            jax.tree.map(flag, terminated),
            jax.tree.map(flag, truncated),
            info,
        )


def gymnax_space_to_gymnasium(space: Any) -> gymnasium.Space:
    """gymnax's Box / Discrete as the gymnasium space the models are built for."""
    name = type(space).__name__
    if name == "Discrete":
        return gymnasium.spaces.Discrete(int(space.n))
    if name == "Box":
        shape = tuple(space.shape)
        low = np.broadcast_to(np.asarray(space.low, np.float32), shape)
        high = np.broadcast_to(np.asarray(space.high, np.float32), shape)
        return gymnasium.spaces.Box(low=low, high=high, shape=shape, dtype=np.float32)
    raise TypeError(f"unsupported gymnax space {space!r}; expected a gymnax Box or Discrete")


class GymnaxWrapper(JaxEnv):
    """A gymnax environment (gymnax 1.x: ``step`` returns terminated and truncated apart)."""

    def __init__(self, env: Any, params: Any = None) -> None:
        self.env = env
        self.params = env.default_params if params is None else params
        self.observation_space = gymnax_space_to_gymnasium(env.observation_space(self.params))
        self.action_space = gymnax_space_to_gymnasium(env.action_space(self.params))
        check_space(self.observation_space, "observation space")
        self.num_envs = 1

    def reset_env(self, key: jax.Array) -> tuple[jax.Array, Any]:
        return self.env.reset(key, self.params)

    def step_env(self, key: jax.Array, state: Any, action: Any) -> tuple:
        if isinstance(self.action_space, gymnasium.spaces.Discrete):
            action = jnp.reshape(action, ()).astype(jnp.int32)
        else:
            action = jnp.reshape(action, self.action_space.shape)
        outputs = self.env.step(key, state, action, self.params)
        if len(outputs) != 6:
            raise TypeError(
                "gymnax environments must return (obs, state, reward, terminated, truncated, info) from step "
                f"(gymnax >= 1.0); got {len(outputs)} values"
            )
        return outputs


def is_gymnax_env(env: Any) -> bool:
    return any(cls.__module__.startswith("gymnax.") for cls in type(env).__mro__)
