"""Library-wide settings: the seed from which models and agents draw their default PRNG keys."""

from __future__ import annotations

import jax

_seed = 0


def set_seed(seed: int = 0) -> int:
    """Seed the default keys of models and agents created afterwards (skrl's ``set_seed``)."""
    global _seed
    _seed = int(seed)
    return _seed


def default_key(stream: int = 0) -> jax.Array:
    """A key derived from the global seed; ``stream`` separates independent users of it."""
    return jax.random.fold_in(jax.random.key(_seed), stream)
