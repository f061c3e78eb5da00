"""Input handling of a ``Model``: skrl's inputs dict with ``states`` in the flat layout, and sampled example inputs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from gymnasium import spaces

from skrl_jax.utils.spaces import dict_entries_message, flatten_sample, sample_space


def describe_space(space: Any) -> str:
    return f"{space}" if space is not None else "None"


class ObservationInputs:
    """The inputs part of ``Model``: observations (a bare array, skrl's dict, or a Dict / Tuple
    observation as gymnasium gives it) checked and laid out as ``inputs["states"]``."""

    observation_space: Any
    observation_size: int

    def _prepare_inputs(self, inputs: Any) -> dict[str, Any]:
        """skrl's inputs dict with ``states`` as a float array of shape ``(..., observation_size)``."""
        if isinstance(inputs, Mapping) and not self._is_observation_dict(inputs):
            if "states" not in inputs:
                space = self.observation_space
                if isinstance(space, spaces.Dict) and set(inputs) & set(space.spaces):
                    # a Dict observation as gymnasium gives it, with entries missing or unknown
                    raise KeyError(dict_entries_message(space, inputs, type(self).__name__))
                raise KeyError(
                    f"inputs has no 'states' entry (keys: {sorted(inputs)}); pass {{'states': observations}}"
                )
            inputs = dict(inputs)
        else:
            inputs = {"states": inputs}
        states = inputs["states"]
        space = self.observation_space
        if isinstance(space, (spaces.Dict, spaces.Tuple)) and isinstance(states, (Mapping, tuple, list)):
            states = flatten_sample(space, states)
        if not hasattr(states, "shape") or not hasattr(states, "dtype"):
            states = jnp.asarray(states)
        floating = jnp.issubdtype(states.dtype, jnp.floating)
        if not (floating or jnp.issubdtype(states.dtype, jnp.integer) or jnp.issubdtype(states.dtype, jnp.bool_)):
            raise TypeError(
                f"{type(self).__name__} expected real-valued observations for {describe_space(space)}, "
                f"got dtype {states.dtype}"
            )
        if (
            isinstance(space, spaces.Box)
            and len(space.shape) > 1
            and tuple(states.shape[-len(space.shape) :]) == space.shape
        ):
            states = jnp.reshape(states, (*states.shape[: -len(space.shape)], self.observation_size))
        if states.ndim == 0 or states.shape[-1] != self.observation_size:
            raise ValueError(
                f"{type(self).__name__} expected observations of shape (..., {self.observation_size}) "
                f"for {describe_space(space)}, got shape {tuple(states.shape)}"
            )
        if not floating:
            states = jnp.asarray(states, dtype=jnp.float32)
        inputs["states"] = states
        return inputs

    def _is_observation_dict(self, inputs: Mapping) -> bool:
        space = self.observation_space
        return isinstance(space, spaces.Dict) and "states" not in inputs and set(inputs) == set(space.spaces)

    def sample_inputs(self, key: jax.Array, batch_shape: tuple[int, ...] = (1,)) -> dict[str, jax.Array]:
        """Random inputs drawn purely from ``key``: ``states`` over the observation space and, when
        the model has an action space, ``taken_actions`` over it (what a critic's ``compute``
        reads), both in skrl's flat layout."""
        states_key, actions_key = jax.random.split(key)
        sample = sample_space(self.observation_space, states_key, batch_shape)
        inputs = {"states": flatten_sample(self.observation_space, sample)}
        action_space = getattr(self, "action_space", None)
        if action_space is not None:
            actions = flatten_sample(action_space, sample_space(action_space, actions_key, batch_shape))
            inputs["taken_actions"] = jnp.asarray(actions, jnp.float32)
        return self._prepare_inputs(inputs)
