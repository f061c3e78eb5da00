"""Observation wrappers that keep some components of a flat observation (e.g. positions without velocities).

``select_observation(env, indices)`` keeps the components ``indices`` (in that order) of a 1-D ``Box``
observation, for

- a gymnax environment (gymnax >= 1.0): a ``SelectGymnaxObservation``, itself a gymnax environment
  (``reset(key, params)``, ``step(key, state, action, params)`` returning gymnax 1.x's
  ``(obs, state, reward, terminated, truncated, info)``, ``observation_space(params)``,
  ``action_space(params)``, ``default_params``, ``num_actions``), so ``wrap_env`` detects and wraps it
  as any gymnax environment, for the ``CompiledTrainer``; ``info["final_observation"]`` is selected too;
- a ``gymnasium.Env``: a ``SelectGymnasiumObservation`` (a ``gymnasium.ObservationWrapper``), which
  ``wrap_env`` wraps for the host loop. For a vector env, wrap each sub-environment:
  ``gymnasium.make_vec(..., wrappers=[lambda env: select_observation(env, indices)])``.

An observation of shape ``(n,)`` becomes one of shape ``(len(indices),)``; the observation space is the
``Box`` of the kept components' bounds, with the environment's dtype. Rewards, terminations,
truncations, states and actions are the wrapped environment's.

``hidden_velocity_cartpole(kind)`` is CartPole-v1 with only the cart position and the pole angle
(indices 0 and 2 of ``[x, x_dot, theta, theta_dot]``): a task that needs memory to infer velocities.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnax.environments import spaces as gymnax_spaces
from gymnax.wrappers.purerl import GymnaxWrapper as _GymnaxBaseWrapper

#: CartPole-v1's cart position and pole angle in ``[x, x_dot, theta, theta_dot]``
CARTPOLE_POSITIONS = (0, 2)


def _check_indices(indices: Any, size: int, where: str) -> tuple[int, ...]:
    """``indices`` as a tuple of distinct ints in ``0..size-1``, else a ValueError naming what came."""
    expected = f"expected distinct int indices in 0..{size - 1} of the {size} observation values"
    if isinstance(indices, (str, bytes)) or not isinstance(indices, (Sequence, np.ndarray)):
        raise ValueError(f"{where}: indices must be a sequence of ints; {expected}, got {indices!r}")
    values = list(indices.tolist() if isinstance(indices, np.ndarray) else indices)
    if not values:
        raise ValueError(f"{where}: indices is empty; {expected}")
    for value in values:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise ValueError(f"{where}: index {value!r} is not an int; {expected}, got {values!r}")
        if not 0 <= value < size:
            raise ValueError(f"{where}: index {value} is out of range; {expected}, got {values!r}")
    if len(set(values)) != len(values):
        raise ValueError(f"{where}: indices repeat; {expected}, got {values!r}")
    return tuple(int(value) for value in values)


def _flat_box_size(space: Any, box_type: type, where: str, flatten_hint: str) -> int:
    if not isinstance(space, box_type):
        raise ValueError(
            f"{where}: expected a 1-D Box observation space, got {space!r} ({type(space).__module__}."
            f"{type(space).__name__})"
        )
    shape = tuple(space.shape)
    if len(shape) != 1:
        raise ValueError(
            f"{where}: expected a 1-D Box observation space, got a Box of shape {shape}; flatten it first ({flatten_hint})"
        )
    return int(shape[0])


class SelectGymnaxObservation(_GymnaxBaseWrapper):
    """A gymnax environment whose observations are ``obs[indices]`` of the wrapped one's.

    Args:
        env: a gymnax environment (or gymnax wrapper) with a 1-D ``Box`` observation space of shape ``(n,)``.
        indices: distinct ints in ``0..n-1``; observations get shape ``(len(indices),)``, in this order.

    Other attributes (``name``, ``state_space``, ...) are the wrapped environment's.
    """

    def __init__(self, env: Any, indices: Sequence[int]) -> None:
        super().__init__(env)
        where = f"select_observation({type(env).__name__})"
        space = env.observation_space(env.default_params)
        size = _flat_box_size(space, gymnax_spaces.Box, where, "gymnax.wrappers.FlattenObservationWrapper")
        self.indices = _check_indices(indices, size, where)

    def __getattr__(self, name: str) -> Any:
        # gymnax's wrapper forwards every missing attribute to ``_env``; before ``_env`` exists (copy,
        # pickle) that would recurse forever
        if name == "_env" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._env, name)

    def _select(self, observation: jax.Array) -> jax.Array:
        """``(n,)`` -> ``(len(indices),)`` (the last axis, so a batch ``(..., n)`` works too)."""
        return jnp.take(observation, jnp.asarray(self.indices), axis=-1)

    @property
    def default_params(self) -> Any:
        return self._env.default_params

    @property
    def num_actions(self) -> int:
        return self._env.num_actions

    def observation_space(self, params: Any) -> gymnax_spaces.Box:
        """``Box`` of shape ``(len(indices),)`` with the kept components' bounds."""
        space = self._env.observation_space(params)
        shape = tuple(space.shape)
        kept = jnp.asarray(self.indices)
        low = jnp.broadcast_to(jnp.asarray(space.low, space.dtype), shape)[kept]
        high = jnp.broadcast_to(jnp.asarray(space.high, space.dtype), shape)[kept]
        return gymnax_spaces.Box(low, high, (len(self.indices),), space.dtype)

    def action_space(self, params: Any) -> Any:
        return self._env.action_space(params)

    @partial(jax.jit, static_argnames=("self",))
    def reset(self, key: jax.Array, params: Any = None) -> tuple[jax.Array, Any]:
        """``(observation (len(indices),), state)``; the state is the wrapped environment's."""
        observation, state = self._env.reset(key, params)
        return self._select(observation), state

    @partial(jax.jit, static_argnames=("self",))
    def step(
        self, key: jax.Array, state: Any, action: Any, params: Any = None
    ) -> tuple[jax.Array, Any, jax.Array, jax.Array, jax.Array, dict[str, Any]]:
        """gymnax 1.x's ``(obs, state, reward, terminated, truncated, info)`` with ``obs`` and
        ``info["final_observation"]`` (if present) of shape ``(len(indices),)``."""
        observation, state, reward, terminated, truncated, info = self._env.step(key, state, action, params)
        info = dict(info)
        if "final_observation" in info:
            info["final_observation"] = self._select(info["final_observation"])
        return self._select(observation), state, reward, terminated, truncated, info


class SelectGymnasiumObservation(gymnasium.ObservationWrapper, gymnasium.utils.RecordConstructorArgs):
    """A ``gymnasium.Env`` whose observations are ``obs[indices]`` of the wrapped one's.

    Args:
        env: a (single, not vector) ``gymnasium.Env`` with a 1-D ``Box`` observation space of shape ``(n,)``.
        indices: distinct ints in ``0..n-1``; observations get shape ``(len(indices),)``, in this order.
    """

    def __init__(self, env: gymnasium.Env, indices: Sequence[int]) -> None:
        where = f"select_observation({type(env).__name__})"
        size = _flat_box_size(
            env.observation_space, gymnasium.spaces.Box, where, "gymnasium.wrappers.FlattenObservation"
        )
        kept = _check_indices(indices, size, where)
        gymnasium.utils.RecordConstructorArgs.__init__(self, indices=kept)
        gymnasium.ObservationWrapper.__init__(self, env)
        self.indices = kept
        space = env.observation_space
        self.observation_space = gymnasium.spaces.Box(
            low=space.low[list(kept)], high=space.high[list(kept)], shape=(len(kept),), dtype=space.dtype
        )

    def observation(self, observation: np.ndarray) -> np.ndarray:
        """``(n,)`` -> ``(len(indices),)``."""
        return np.asarray(observation)[..., list(self.indices)]


def select_observation(env: Any, indices: Sequence[int]) -> Any:
    """Keep the observation components ``indices`` of a gymnax or gymnasium environment.

    Args:
        env: a gymnax environment, a ``(gymnax_env, params)`` pair (as ``gymnax.make`` returns) or a
            ``gymnasium.Env``, with a 1-D ``Box`` observation space of shape ``(n,)``.
        indices: distinct ints in ``0..n-1``, in the order the new observation lists them.

    Returns:
        a ``SelectGymnaxObservation`` (a ``(wrapper, params)`` pair for a pair) or a
        ``SelectGymnasiumObservation``, with observations of shape ``(len(indices),)``.

    Raises:
        ValueError: indices empty, not ints, repeated or out of range; an observation space that is not a
            1-D Box; a gymnasium vector env (wrap its sub-environments instead).
        TypeError: ``env`` is none of the above.
    """
    from skrl_jax.envs.jax_env import is_gymnax_env

    if isinstance(env, tuple) and len(env) == 2 and is_gymnax_env(env[0]):
        return SelectGymnaxObservation(env[0], indices), env[1]
    if is_gymnax_env(env):
        return SelectGymnaxObservation(env, indices)
    if isinstance(env, gymnasium.vector.VectorEnv):
        raise ValueError(
            f"select_observation: expected a single gymnasium.Env, got the vector env {type(env).__name__}; wrap its "
            "sub-environments: gymnasium.make_vec(env_id, num_envs, wrappers=[lambda env: select_observation(env, "
            "indices)])"
        )
    if isinstance(env, gymnasium.Env):
        return SelectGymnasiumObservation(env, indices)
    raise TypeError(
        f"select_observation expects a gymnax environment, a (gymnax_env, params) pair or a gymnasium.Env, "
        f"got {type(env).__name__}"
    )


def hidden_velocity_cartpole(kind: str = "gymnax", **kwargs: Any) -> Any:
    """CartPole-v1 observing only the cart position and the pole angle: observations of shape ``(2,)``.

    Args:
        kind: ``"gymnax"`` for a ``SelectGymnaxObservation`` over ``gymnax.make("CartPole-v1")``'s environment
            (its parameters are ``env.default_params``), ``"gymnasium"`` for a ``SelectGymnasiumObservation``
            over ``gymnasium.make("CartPole-v1", **kwargs)``.
        kwargs: passed to ``gymnasium.make`` (``kind="gymnasium"`` only).
    """
    if kind == "gymnax":
        if kwargs:
            raise ValueError(
                f"hidden_velocity_cartpole(kind='gymnax') takes no keyword arguments, got {sorted(kwargs)}"
            )
        import gymnax

        return select_observation(gymnax.make("CartPole-v1")[0], CARTPOLE_POSITIONS)
    if kind == "gymnasium":
        return select_observation(gymnasium.make("CartPole-v1", **kwargs), CARTPOLE_POSITIONS)
    raise ValueError(f"hidden_velocity_cartpole: expected kind='gymnax' or kind='gymnasium', got {kind!r}")


class PrivilegedStateEnv:
    """A host environment (``wrap_env``'s) whose observations keep some components and whose privileged
    state (skrl 2.x's ``env.state()`` and ``env.state_space``) is the whole observation: an asymmetric
    actor-critic task, in which the policy acts on part of what the value may read.

    Args:
        env: a ``wrap_env``-wrapped gymnasium environment with a 1-D ``Box`` observation space ``(n,)``.
        indices: the components the observations keep, distinct ints in ``0..n-1``.

    ``reset`` / ``step`` return ``(num_envs, len(indices))`` observations (``infos["final_observation"]``
    selected too); ``state()`` is the last full observation, ``(num_envs, n)``, the one the
    agent acts on next (as an environment's state after an automatic reset).
    """

    def __init__(self, env: Any, indices: Sequence[int]) -> None:
        where = "PrivilegedStateEnv"
        from skrl_jax.envs.gymnasium import GymnasiumWrapper

        if not isinstance(env, GymnasiumWrapper):
            raise TypeError(f"{where}: expected a wrap_env-wrapped gymnasium environment, got {type(env).__name__}")
        size = _flat_box_size(
            env.observation_space, gymnasium.spaces.Box, where, "gymnasium.wrappers.FlattenObservation"
        )
        self._env = env
        self._indices = np.asarray(_check_indices(indices, size, where))
        kept = self._indices
        self._select = jax.jit(lambda observations: observations[..., kept])  # one compiled call per step
        space = env.observation_space
        self.observation_space = gymnasium.spaces.Box(
            np.asarray(space.low)[self._indices], np.asarray(space.high)[self._indices], dtype=space.dtype
        )
        self.state_space = space
        self._state: Any = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._env, name)

    def reset(self, seed: int | None = None) -> tuple[Any, dict]:
        observations, infos = self._env.reset(seed=seed)
        self._state = observations
        return self._select(observations), infos

    def step(self, actions: Any) -> tuple:
        observations, rewards, terminated, truncated, infos = self._env.step(actions)
        self._state = observations
        if "final_observation" in infos:
            infos = dict(infos, final_observation=self._select_final(infos["final_observation"]))
        selected = self._select(observations)
        if "final_states" in infos:
            final = infos["final_states"]
            infos = dict(infos, final_states=selected if final is observations else self._select(final))
        return selected, rewards, terminated, truncated, infos

    def _select_final(self, final: Any) -> Any:
        """A vector env's final observations are an object array (None where no episode ended)."""
        final = np.asarray(final) if not isinstance(final, np.ndarray) else final
        if final.dtype != object:
            return final[..., self._indices]
        selected = np.empty(final.shape, object)
        for index, entry in np.ndenumerate(final):
            selected[index] = None if entry is None else np.asarray(entry)[..., self._indices]
        return selected

    def state(self) -> Any:
        """The privileged states, ``(num_envs, n)``: the full observations of the last reset or step."""
        return self._state


def privileged_state(env: Any, indices: Sequence[int]) -> PrivilegedStateEnv:
    """``PrivilegedStateEnv(env, indices)``: observations ``obs[..., indices]``, privileged state the full ``obs``."""
    return PrivilegedStateEnv(env, indices)
