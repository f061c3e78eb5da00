"""DeterministicMixin: a deterministic output (a value, or a deterministic policy), as skrl's."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.models.mixin import Mixin, action_bounds, check_output_shape, unpack_output


class DeterministicConfig(NamedTuple):
    clip_actions: bool
    actions_low: np.ndarray | None
    actions_high: np.ndarray | None


class DeterministicMixin(Mixin):
    """Deterministic model (skrl's ``DeterministicMixin``): ``compute`` returns ``(actions, outputs)``.

    Args:
        clip_actions: clip the output to the (Box) action space's bounds.
        role: the role this output serves.
    """

    needs_key = False

    def __init__(self, clip_actions: bool = False, role: str = "") -> None:
        low, high = action_bounds(self, clip_actions, "DeterministicMixin")
        self._register_role(DeterministicMixin, role, DeterministicConfig(bool(clip_actions), low, high))

    def act(self, inputs: Any, role: str = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """``(actions, None, outputs)``: what ``compute`` returned, clipped if asked. No key needed."""
        return self._act_as(DeterministicMixin, inputs, role, params, key)

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        actions, outputs = unpack_output(output, 2, "DeterministicMixin", "(actions, outputs)", role)
        # clipping to the action bounds needs num_actions outputs: another width would broadcast
        size = model.num_actions if spec.config.clip_actions else None
        check_output_shape(model, actions, size, "actions", "DeterministicMixin", role, inputs, model.action_space)
        if spec.config.clip_actions:
            actions = jnp.clip(actions, spec.config.actions_low, spec.config.actions_high)
        return actions, None, outputs
