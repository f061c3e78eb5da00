"""Input handling of a ``Model``: skrl's inputs dict with the observations in the flat layout, and sampled example inputs.

skrl 1.4 and 2.x name the observation differently: 1.4's ``inputs["states"]`` is 2.x's
``inputs["observations"]``, and 2.x's ``inputs["states"]`` is the environment's privileged state.
Inside, every call uses one layout, 1.4's (what the agents pass): ``"states"`` holds the
observations and ``"privileged_states"`` the 2.x states. A 2.x model's ``compute`` sees 2.x's names.
Which names a model uses is read from ``model.conventions`` (``ModelConventions``: ``observation_input``
and ``privileged_state_input``), set by ``Model.__init__``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from skrl_jax.core.spaces import compute_space_size, dict_entries_message, flatten_sample, sample_space
from skrl_jax.models.conventions import ModelConventions

INSIDE_OBSERVATIONS = "states"  # the inside layout's key of the observations (skrl 1.4's name)


def describe_space(space: Any) -> str:
    return f"{space}" if space is not None else "None"


class ObservationInputs:
    """The inputs part of ``Model``: observations (a bare array, skrl's dict, or a Dict / Tuple
    observation as gymnasium gives it) checked and laid out as ``inputs["states"]``."""

    observation_space: Any
    observation_size: int
    state_space: Any
    conventions: ModelConventions

    def _prepare_inputs(self, inputs: Any) -> dict[str, Any]:
        """skrl's inputs dict with ``states`` as a float array of shape ``(..., observation_size)``
        (and, from a 2.x call, the privileged ``states`` as ``privileged_states``)."""
        own_name = self.conventions.observation_input
        if isinstance(inputs, Mapping) and own_name != INSIDE_OBSERVATIONS and own_name in inputs:
            inputs = self._to_inside_layout(inputs)
        if isinstance(inputs, Mapping) and not self._is_observation_dict(inputs):
            if "states" not in inputs:
                space = self.observation_space
                if isinstance(space, spaces.Dict) and set(inputs) & set(space.spaces):
                    # a Dict observation as gymnasium gives it, with entries missing or unknown
                    raise KeyError(dict_entries_message(space, inputs, type(self).__name__))
                expected = repr(own_name)
                raise KeyError(
                    f"inputs has no {expected} entry (keys: {sorted(inputs)}); pass {{{expected}: observations}}"
                    + self._other_api_hint(inputs)
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
        if inputs.get("privileged_states") is not None:
            inputs["privileged_states"] = self._check_privileged_states(inputs["privileged_states"], states)
        if self.recurrent_sizes():
            self._check_rnn_inputs(inputs)
        return inputs

    # --- skrl 2.x: observations and privileged states ---------------------------------------

    def _to_inside_layout(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Inputs in the model's own names (2.x's ``{"observations": o, "states": s, ...}``) in the inside layout."""
        observation_name = self.conventions.observation_input
        privileged_name = self.conventions.privileged_state_input
        inside = {name: value for name, value in inputs.items() if name not in (observation_name, privileged_name)}
        inside["states"] = inputs[observation_name]
        if privileged_name is not None and inputs.get(privileged_name) is not None:
            inside["privileged_states"] = inputs[privileged_name]
        return inside

    def compute_inputs(self, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        """What the user's ``compute`` reads: the inputs in the model's own names
        (``conventions.observation_input`` / ``privileged_state_input``): the inside layout for a 1.4
        model; 2.x's names for a 2.x model (``observations``, and ``states``: the privileged state or
        None). The arrays are the same objects, so a trunk both roles call on
        ``inputs["observations"]`` runs once."""
        observation_name = self.conventions.observation_input
        privileged_name = self.conventions.privileged_state_input
        if observation_name == INSIDE_OBSERVATIONS and privileged_name is None:
            return inputs
        view = {name: value for name, value in inputs.items() if name not in ("states", "privileged_states")}
        view[observation_name] = inputs["states"]
        if privileged_name is not None:
            view[privileged_name] = inputs.get("privileged_states")
        return view

    def _check_privileged_states(self, privileged: Any, observations: jax.Array) -> jax.Array:
        name = type(self).__name__
        if self.state_space is None:
            raise ValueError(
                f"{name} got privileged states (skrl 2.x's inputs['states']) but was built with state_space=None: "
                "pass the environment's state_space to Model.__init__"
            )
        privileged = jnp.asarray(privileged)
        size = compute_space_size(self.state_space, occupied_size=True)
        if privileged.ndim == 0 or privileged.shape[-1] != size or privileged.shape[:-1] != observations.shape[:-1]:
            raise ValueError(
                f"{name} expected states (privileged) of shape ({', '.join(map(str, observations.shape[:-1]))}"
                f"{', ' if observations.ndim > 1 else ''}{size}) for {describe_space(self.state_space)}, got shape "
                f"{tuple(privileged.shape)}"
            )
        return privileged if jnp.issubdtype(privileged.dtype, jnp.floating) else privileged.astype(jnp.float32)

    def _other_api_hint(self, inputs: Mapping[str, Any]) -> str:
        if self.conventions.observation_input != "observations" and "observations" in inputs:  # 2.x's name
            return (
                f": {type(self).__name__} is a skrl 1.4 model, whose observations are inputs['states']; build it the "
                "2.x way (Model.__init__(self, observation_space=..., state_space=..., action_space=...)) to pass "
                "inputs['observations']"
            )
        return ""

    # --- recurrent models (skrl's get_specification()["rnn"]) ---------------------------------

    def get_specification(self) -> dict[str, Any]:
        """skrl's model specification; a recurrent model returns ``{"rnn": {"sequence_length": L,
        "sizes": [(num_layers, num_envs, hidden_size), ...]}}``, one size per hidden-state array
        in ``inputs["rnn"]`` (the agent sizes the environment axis by its own number of envs)."""
        return {}

    def recurrent_sizes(self) -> list[tuple[int, int]]:
        """``[(num_layers, hidden_size), ...]`` of the hidden states in ``inputs["rnn"]``; empty for a
        feed-forward model."""
        rnn = self.get_specification().get("rnn")
        if not rnn:
            return []
        name = type(self).__name__
        sizes = rnn.get("sizes") if isinstance(rnn, Mapping) else None
        if not sizes or not all(isinstance(size, (tuple, list)) and len(size) == 3 for size in sizes):
            raise ValueError(
                f"{name}.get_specification()['rnn'] must be {{'sequence_length': L, 'sizes': [(num_layers, num_envs, "
                f"hidden_size), ...]}}, got {rnn!r}"
            )
        return [(int(size[0]), int(size[2])) for size in sizes]

    def rnn_sequence_length(self) -> int:
        """``get_specification()["rnn"]["sequence_length"]`` (1 for a feed-forward model)."""
        length = self.get_specification().get("rnn", {}).get("sequence_length", 1)
        if not isinstance(length, int) or isinstance(length, bool) or length < 1:
            raise ValueError(
                f"{type(self).__name__}.get_specification()['rnn']['sequence_length'] must be an int >= 1, got {length!r}"
            )
        return length

    def rnn_initial_states(self, batch_size: int) -> list[jax.Array]:
        """Zero hidden states for ``batch_size`` sequences (environments): ``inputs["rnn"]`` to start from."""
        return [jnp.zeros((layers, batch_size, hidden), jnp.float32) for layers, hidden in self.recurrent_sizes()]

    def _check_rnn_inputs(self, inputs: dict[str, Any]) -> None:
        name = type(self).__name__
        sizes = self.recurrent_sizes()
        expected = ", ".join(f"({layers}, batch, {hidden})" for layers, hidden in sizes)
        if inputs.get("rnn") is None:
            raise KeyError(
                f"{name} is recurrent (get_specification() has 'rnn'): inputs needs 'rnn', a list of {len(sizes)} hidden "
                f"state(s) of shape {expected} (zeros to start: model.rnn_initial_states(batch)); got keys {sorted(inputs)}"
            )
        hidden = inputs["rnn"]
        if not isinstance(hidden, (list, tuple)) or len(hidden) != len(sizes):
            raise ValueError(
                f"{name}: inputs['rnn'] must be a list of {len(sizes)} hidden state(s) of shape {expected}, got "
                + (f"{len(hidden)} entries" if isinstance(hidden, (list, tuple)) else type(hidden).__name__)
            )
        shapes = [tuple(jnp.shape(h)) for h in hidden]
        if not all(isinstance(size, int) for shape in (*shapes, inputs["states"].shape) for size in shape):
            return  # dynamic sizes (an ONNX conversion's batch): nothing to compare before they are known
        batches = {shape[1] for shape in shapes if len(shape) == 3}
        fits = (
            all(len(shape) == 3 and (shape[0], shape[2]) == size for shape, size in zip(shapes, sizes))
            and len(batches) == 1
        )
        rows = inputs["states"].shape[0] if inputs["states"].ndim == 2 else None
        if fits and rows is not None and rows % next(iter(batches)) == 0:
            return
        if not fits:
            problem = f"hidden state(s) of shape {expected} with one batch size, got {shapes}"
        elif rows is None:
            problem = (
                f"observations as rows (batch * sequence_length, features), got shape {tuple(inputs['states'].shape)}"
            )
        else:
            problem = (
                f"states with a multiple of the hidden states' batch ({next(iter(batches))}) as rows "
                f"(sequences * sequence_length), got {rows} rows"
            )
        raise ValueError(f"{name}: inputs['rnn'] and inputs['states'] do not fit: expected {problem}")

    def _has_observations(self, inputs: Mapping) -> bool:
        """Whether ``inputs`` holds the observations (else: entries added to sampled ones)."""
        if self.conventions.observation_input != "observations" and "observations" in inputs and "states" not in inputs:
            raise KeyError(f"inputs has no 'states' entry (keys: {sorted(inputs)})" + self._other_api_hint(inputs))
        return "states" in inputs or "observations" in inputs or self._is_observation_dict(inputs)

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
        if self.state_space is not None:
            privileged_key = jax.random.fold_in(states_key, 1)
            privileged = sample_space(self.state_space, privileged_key, batch_shape)
            inputs["privileged_states"] = jnp.asarray(flatten_sample(self.state_space, privileged), jnp.float32)
        if self.recurrent_sizes():
            inputs["rnn"] = self.rnn_initial_states(int(np.prod(batch_shape)))
            inputs["states"] = inputs["states"].reshape(-1, inputs["states"].shape[-1])
        action_space = getattr(self, "action_space", None)
        if action_space is not None:
            actions = flatten_sample(action_space, sample_space(action_space, actions_key, batch_shape))
            inputs["taken_actions"] = jnp.asarray(actions, jnp.float32)
        return self._prepare_inputs(inputs)
