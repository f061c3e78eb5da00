"""What the five mixins have in common: role declaration and dispatch."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from gymnasium import spaces


class Mixin:
    """Base of the mixins. A mixin's constructor declares one role; its math is pure.

    Subclasses provide ``_distribution(model, spec, output, inputs, role, key)`` (the
    ``(actions, log_prob, outputs)`` of a ``compute`` output) and, for stochastic mixins,
    ``_entropy(model, spec, outputs, role)``.
    """

    needs_key = True
    # True where the log-probability is of a sample the action is made from (tanh-squashed):
    # act's outputs["samples"] hold it and inputs["taken_samples"] re-scores it exactly, so
    # agents that re-score their actions record the samples instead
    records_samples = False

    @staticmethod
    def _distribution(model: Any, spec: Any, output: Any, inputs: dict, role: str, key: jax.Array | None) -> tuple:
        raise NotImplementedError

    @staticmethod
    def _entropy(model: Any, spec: Any, outputs: Any, role: str) -> jax.Array:
        raise NotImplementedError(f"{spec.mixin.__name__} (role {role!r}) has no entropy")

    @staticmethod
    def _check_concrete_inputs(model: Any, spec: Any, inputs: dict, role: str) -> None:
        """Checks of input values (not only shapes) before an eager call is compiled; none by default."""


def unpack_output(output: Any, length: int, mixin: str, expected: str, role: str) -> tuple:
    """Check that ``compute`` returned the tuple a mixin expects, naming what came instead."""
    if not isinstance(output, tuple) or len(output) != length:
        got = f"a tuple of {len(output)}" if isinstance(output, tuple) else type(output).__name__
        raise ValueError(f"{mixin}: compute(inputs, role={role!r}) must return {expected}, got {got}")
    return output


def batch_shape(inputs: dict) -> tuple[int, ...]:
    """The batch dimensions of a call: those of ``inputs["states"]`` (none inside ``vmap``)."""
    return tuple(inputs["states"].shape[:-1])


def check_output_shape(
    model: Any, array: Any, size: int | None, what: str, mixin: str, role: str, inputs: dict, space: Any = None
) -> None:
    """``compute``'s ``what`` must be ``(*batch, size)`` (any last size when ``size`` is None); a
    wrong shape would broadcast into actions of the wrong shape (shapes are static: checked once,
    when traced)."""
    shape = tuple(getattr(array, "shape", ()))
    batch = batch_shape(inputs)
    if shape[:-1] == batch and len(shape) == len(batch) + 1 and size in (None, shape[-1]):
        return
    expected = f"({', '.join(str(n) for n in batch)}{', ' if batch else ''}{size if size is not None else '...'})"
    of = f" x {size} for {space}" if size is not None and space is not None else ""
    raise ValueError(
        f"{type(model).__name__}.compute(inputs, role={role!r}) returned {what} of shape {shape} for {mixin}; expected "
        f"{expected}: the batch {batch} of inputs['states']{of}"
    )


def check_model_initialised(model: Any, mixin: str) -> None:
    if "_role_specs" not in getattr(model, "__dict__", {}):
        raise TypeError(
            f"{mixin}.__init__ was called before Model.__init__ in {type(model).__name__}: "
            "call Model.__init__(self, observation_space, action_space, device) first"
        )


def require_action_space(model: Any, kinds: tuple[type, ...], mixin: str) -> None:
    check_model_initialised(model, mixin)
    if not isinstance(model.action_space, kinds):
        expected = " or ".join(kind.__name__ for kind in kinds)
        raise TypeError(f"{mixin} needs a {expected} action space, got {model.action_space!r}")


def action_bounds(model: Any, clip_actions: bool, mixin: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The Box bounds that ``clip_actions=True`` clips to (None when not clipping)."""
    check_model_initialised(model, mixin)
    if not clip_actions:
        return None, None
    require_action_space(model, (spaces.Box,), f"{mixin}(clip_actions=True)")
    return np.asarray(model.action_space.low, np.float32).reshape(-1), np.asarray(
        model.action_space.high, np.float32
    ).reshape(-1)
