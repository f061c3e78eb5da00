"""Gymnasium environments (single or vector) behind skrl's wrapper interface, as JAX arrays.

``step`` returns ``(next_states, rewards, terminated, truncated, infos)`` with states in skrl's
flat layout ``(num_envs, observation_size)`` and the others ``(num_envs, 1)``. An episode that
ends is reset within the same step: ``next_states`` then holds the first observation of the
next episode (what the agent acts on next) and ``infos["final_observation"]`` the last one
(``infos["final_states"]``: the next states with each ended episode's last observation instead).
So every transition the agent records follows the action it took; gymnasium 1.x's default
"next-step" autoreset, which would make the step after an episode's end a transition from the
last observation to the reset one with the action ignored, never reaches the agent.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import jax
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode

from skrl_jax import config as library_config
from skrl_jax.core.spaces import check_space, flatten_sample

# Host -> device for a step's arrays in one compiled call: jit's argument path transfers numpy
# arrays several times faster than jax.device_put or jnp.asarray do, and a step's conversions
# would otherwise cost more than a CartPole step itself.
_to_device = jax.jit(lambda *arrays: arrays)


class GymnasiumWrapper:
    """skrl-style wrapper over a ``gymnasium.Env`` or a ``gymnasium.vector.VectorEnv``."""

    def __init__(self, env: Any) -> None:
        self._env = env
        self.is_vector_env = isinstance(env, gym.vector.VectorEnv)
        if self.is_vector_env:
            self.num_envs = int(env.num_envs)
            self.observation_space = env.single_observation_space
            self.action_space = env.single_action_space
            self._autoreset_mode = self._use_same_step_autoreset(env)
        else:
            self.num_envs = 1
            self.observation_space = env.observation_space
            self.action_space = env.action_space
            self._autoreset_mode = None
        check_space(self.observation_space, "observation space")
        check_space(self.action_space, "action space")
        self.device = None
        self.state_space = None  # skrl 2.x's privileged state: gymnasium environments have none
        self._was_reset = False

    @staticmethod
    def _use_same_step_autoreset(env: gym.vector.VectorEnv) -> AutoresetMode:
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        mode = AutoresetMode(mode) if not isinstance(mode, AutoresetMode) else mode
        if mode is AutoresetMode.NEXT_STEP:
            if isinstance(env.unwrapped, gym.vector.SyncVectorEnv):
                # the sync env reads the mode at every step, so it can be switched before the first reset
                env.unwrapped.autoreset_mode = AutoresetMode.SAME_STEP
                env.unwrapped.metadata["autoreset_mode"] = AutoresetMode.SAME_STEP
                return AutoresetMode.SAME_STEP
            raise ValueError(
                f"{type(env.unwrapped).__name__} uses gymnasium's next-step autoreset, whose step after an episode's end "
                "is not a real transition; create it with autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP "
                "(or DISABLED) and wrap it again"
            )
        return mode

    @property
    def env(self) -> Any:
        return self._env

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def _states(self, observations: Any) -> np.ndarray | jax.Array:
        batch = observations if self.is_vector_env else jax.tree.map(lambda x: np.asarray(x)[None], observations)
        if isinstance(self.observation_space, (spaces.Dict, spaces.Tuple)):
            return flatten_sample(self.observation_space, batch)
        return np.asarray(batch, np.float32).reshape(self.num_envs, -1)

    def _one_state(self, observation: Any) -> np.ndarray:
        """One environment's observation in the flat layout, ``(observation_size,)``."""
        if isinstance(self.observation_space, (spaces.Dict, spaces.Tuple)):
            return np.asarray(
                flatten_sample(self.observation_space, jax.tree.map(lambda x: np.asarray(x)[None], observation))
            )[0]
        return np.asarray(observation, np.float32).reshape(-1)

    def _actions(self, actions: Any) -> Any:
        actions = np.asarray(actions)
        space = self.action_space
        if isinstance(space, spaces.Discrete):
            actions = actions.reshape(self.num_envs).astype(space.dtype)
            return actions if self.is_vector_env else int(actions[0])
        if isinstance(space, spaces.MultiDiscrete):
            actions = actions.reshape(self.num_envs, *space.shape).astype(space.dtype)
        elif isinstance(space, spaces.Box):
            actions = actions.reshape(self.num_envs, *space.shape).astype(space.dtype)
        else:
            raise TypeError(f"actions for {space} are not supported")
        return actions if self.is_vector_env else actions[0]

    def reset(self, seed: int | None = None) -> tuple[jax.Array, dict]:
        """Reset every environment; the first reset takes ``skrl_jax.config.set_seed``'s seed
        when none is given (a vector env seeds its i-th environment with ``seed + i``)."""
        if seed is None and not self._was_reset:
            seed = library_config.get_seed()
        self._was_reset = True
        observations, infos = self._env.reset(seed=seed)
        return _to_device(self._states(observations))[0], infos

    def step(self, actions: Any) -> tuple[jax.Array, jax.Array, jax.Array, jax.Array, dict]:
        observations, rewards, terminated, truncated, infos = self._env.step(self._actions(actions))
        terminated = np.asarray(terminated, bool).reshape(self.num_envs)
        truncated = np.asarray(truncated, bool).reshape(self.num_envs)
        done = terminated | truncated
        final = None  # the last observations of the episodes that ended, flat, where one did
        if done.any():
            if not self.is_vector_env:
                infos = dict(infos, final_observation=observations)
                final = self._states(observations)
                observations, _ = self._env.reset()
            elif self._autoreset_mode is AutoresetMode.DISABLED:
                infos = dict(infos, final_observation=observations)
                final = self._states(observations)
                observations, _ = self._env.reset(options={"reset_mask": done})
            elif "final_obs" in infos:
                infos = dict(infos, final_observation=infos["final_obs"])
        states = self._states(observations)
        if final is None and done.any() and "final_obs" in infos:
            final = np.array(states, np.float32)
            for index in np.flatnonzero(done):
                final[index] = self._one_state(infos["final_obs"][index])
        arrays = (
            states,
            np.asarray(rewards, np.float32).reshape(self.num_envs, 1),
            terminated.reshape(self.num_envs, 1),
            truncated.reshape(self.num_envs, 1),
        )
        # one host -> device transfer; the final states are the next states' array itself when no
        # episode ended (what an off-policy target bootstraps from at a truncation otherwise)
        if final is None:
            next_states, rewards, terminated, truncated = _to_device(*arrays)
            final_states = next_states
        else:
            next_states, rewards, terminated, truncated, final_states = _to_device(*arrays, final)
        infos = dict(infos, final_states=final_states)
        return next_states, rewards, terminated, truncated, infos

    def state(self) -> None:
        """skrl 2.x's privileged state of the environments: None (gymnasium has none)."""
        return None

    def render(self, *args: Any, **kwargs: Any) -> Any:
        return self._env.render(*args, **kwargs)

    def close(self) -> None:
        self._env.close()


def wrap_env(env: Any, wrapper: str = "auto", verbose: bool = True) -> Any:
    """Wrap an environment as skrl does.

    A gymnasium ``Env`` / ``SyncVectorEnv`` / ``AsyncVectorEnv`` gives a ``GymnasiumWrapper``
    (host loop); a gymnax environment, or a ``(gymnax_env, params)`` pair, gives a
    ``GymnaxWrapper``, a brax environment a ``BraxWrapper`` and a MuJoCo Playground environment a
    ``PlaygroundWrapper`` (pure JAX, for the ``CompiledTrainer``; wrap them yourself, e.g.
    ``BraxWrapper(env, episode_length=..., reset="cached")``, to choose the episode length or the reset).
    A PettingZoo ``ParallelEnv`` gives a ``PettingZooWrapper`` (multi-agent, host loop); an AEC
    environment is refused (create it with ``parallel_env()`` or convert it with ``aec_to_parallel``).
    A JaxMARL environment gives a ``JaxMARLWrapper`` (multi-agent, pure JAX, for the ``CompiledTrainer``).
    """
    from skrl_jax.envs.jax_env import GymnaxWrapper, JaxEnv, is_gymnax_env
    from skrl_jax.envs.multi_agent import JaxMARLWrapper, is_jaxmarl_env
    from skrl_jax.envs.pettingzoo import PettingZooWrapper, is_pettingzoo_env
    from skrl_jax.envs.physics import BraxWrapper, PlaygroundWrapper, is_brax_env, is_playground_env

    wrappers = ("auto", "gymnasium", "gymnax", "brax", "playground", "pettingzoo", "jaxmarl")
    if wrapper not in wrappers:
        raise ValueError(
            f"wrap_env: unknown wrapper {wrapper!r}; expected one of {', '.join(repr(w) for w in wrappers)} "
            "(skrl's other wrappers, e.g. 'isaaclab', are not ported)"
        )
    if isinstance(env, (GymnasiumWrapper, JaxEnv, PettingZooWrapper)):
        return env
    pair = isinstance(env, tuple) and len(env) == 2 and is_gymnax_env(env[0])
    kinds = {
        "gymnax": pair or is_gymnax_env(env),
        "brax": is_brax_env(env),
        "playground": is_playground_env(env),
        "gymnasium": isinstance(env, (gym.Env, gym.vector.VectorEnv)),
        "pettingzoo": is_pettingzoo_env(env),
        "jaxmarl": is_jaxmarl_env(env),
    }
    found = next((kind for kind, matches in kinds.items() if matches), None)
    if found is None:
        raise TypeError(
            "wrap_env expects a gymnasium Env or VectorEnv, a gymnax, a brax or a MuJoCo Playground environment, a "
            f"PettingZoo ParallelEnv or a JaxMARL environment, got {type(env).__name__}"
        )
    if wrapper not in ("auto", found):
        raise TypeError(
            f"wrap_env(env, wrapper={wrapper!r}): {type(env).__name__} is a {found} environment, not a {wrapper} one; "
            f"pass wrapper='auto' or wrapper={found!r}"
        )
    if found == "gymnax":
        return GymnaxWrapper(*env) if pair else GymnaxWrapper(env)
    if found == "brax":
        return BraxWrapper(env)
    if found == "playground":
        return PlaygroundWrapper(env)
    if found == "jaxmarl":
        return JaxMARLWrapper(env)
    if found == "pettingzoo":
        return PettingZooWrapper(env)  # refuses an AEC environment, saying how to get the parallel one
    return GymnasiumWrapper(env)
