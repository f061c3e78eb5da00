"""Library-wide settings: the seed from which models, agents and environments draw their
randomness, and the parameter initialisation scheme of models created afterwards."""

from __future__ import annotations

import os
from typing import Any

from jax import Array
from jax import random as jax_random

from skrl_jax.core.validation import Choice

_seed = 0
_seed_was_set = False
_parameter_init = "flax"

# the parameter initialisation schemes (skrl_jax.models.initialization implements them)
PARAMETER_INITS = ("flax", "pytorch")


def check_parameter_init(value: Any) -> str:
    """``value`` if it names a scheme of ``PARAMETER_INITS``, else a ValueError naming the choices."""
    Choice(PARAMETER_INITS).check(value, "parameter_init")
    return value


def set_seed(seed: int | None = 0) -> int:
    """Seed the default keys of models and agents created afterwards (skrl's ``set_seed``); with
    ``None``, a seed drawn from the operating system (as skrl), which is returned.

    The first ``reset()`` of an environment wrapped by ``wrap_env`` afterwards (a trainer's
    first reset) is also seeded with it, so two runs with the same seed give the same returns.
    """
    global _seed, _seed_was_set
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    _seed = int(seed)
    _seed_was_set = True
    return _seed


def get_seed() -> int | None:
    """The seed given to ``set_seed``, or None when it was never called."""
    return _seed if _seed_was_set else None


def default_key(stream: int = 0) -> Array:
    """A key derived from the global seed; ``stream`` separates independent users of it."""
    return jax_random.fold_in(jax_random.key(_seed), stream)


def set_parameter_init(scheme: str = "flax") -> str:
    """The initialisation of models created afterwards: ``"flax"`` (flax's defaults) or
    ``"pytorch"`` (PyTorch's for Dense / Conv layers, as in a skrl torch script).

    A model's own ``parameter_init=`` argument takes precedence.
    """
    global _parameter_init
    _parameter_init = check_parameter_init(scheme)
    return _parameter_init


def parameter_init() -> str:
    """The scheme set by ``set_parameter_init`` (``"flax"`` unless changed)."""
    return _parameter_init


_debug_nans = False


def set_debug_nans(enabled: bool = True) -> bool:
    """Check observations and rewards for NaN / inf on the host (off by default; the name mirrors
    jax's ``jax_debug_nans``): the agents' ``act`` / ``record_transition`` (so the
    ``SequentialTrainer`` loop) and eager ``model.act`` / ``model.apply`` calls then raise a
    ``ValueError`` naming what was not finite, the environment and the timestep. Traced calls
    (inside ``jit``, the ``CompiledTrainer``) are not checked: a check there would cost every step."""
    global _debug_nans
    _debug_nans = bool(enabled)
    return _debug_nans


def debug_nans() -> bool:
    """Whether ``set_debug_nans(True)`` is on."""
    return _debug_nans


class JaxSettings:
    """skrl's ``config.jax``, so that a skrl script's settings lines run unchanged: ``backend``
    ("numpy" or "jax") is accepted and has no effect (arrays here are JAX arrays, on JAX's default
    ``device``); ``key`` is the key derived from ``set_seed``'s seed."""

    def __init__(self) -> None:
        self._backend = "jax"
        self.device = None
        self.is_distributed = False

    @property
    def backend(self) -> str:
        return self._backend

    @backend.setter
    def backend(self, value: str) -> None:
        if value not in ("numpy", "jax"):
            raise ValueError(f'config.jax.backend must be "numpy" or "jax" (as skrl), got {value!r}')
        self._backend = value

    @property
    def key(self) -> Array:
        return default_key(0)


jax = JaxSettings()  # skrl's `config.jax` (this module imports from the jax package by other names)
