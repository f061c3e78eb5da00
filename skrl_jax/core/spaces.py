"""Gymnasium spaces as skrl sees them: sizes, flattening and pure JAX sampling.

skrl lays an observation out as one flat vector per sample (its "occupied" layout): a Box is
flattened, a Discrete value takes one column (the index, not a one-hot), a MultiDiscrete
takes one column per branch, Dict entries are concatenated in sorted key order and Tuple
entries in order. ``compute_space_size(space)`` is gymnasium's ``flatdim`` (a Discrete(n)
counts n), as skrl's ``num_observations`` / ``num_actions``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

SUPPORTED_SPACES = (
    spaces.Box,
    spaces.Discrete,
    spaces.MultiDiscrete,
    spaces.MultiBinary,
    spaces.Dict,
    spaces.Tuple,
)


def check_space(space: Any, what: str = "space") -> None:
    """Raise a ``TypeError`` naming the space when skrl_jax cannot lay it out."""
    if not isinstance(space, SUPPORTED_SPACES):
        names = ", ".join(s.__name__ for s in SUPPORTED_SPACES)
        raise TypeError(f"unsupported {what} {space!r} ({type(space).__name__}); expected one of: {names}")
    if isinstance(space, spaces.Dict):
        for key, sub in space.spaces.items():
            check_space(sub, f"{what}[{key!r}]")
    elif isinstance(space, spaces.Tuple):
        for index, sub in enumerate(space.spaces):
            check_space(sub, f"{what}[{index}]")


def compute_space_size(space: Any, occupied_size: bool = False) -> int:
    """Number of values in one sample of ``space``.

    With ``occupied_size=False`` this is gymnasium's ``flatdim`` (skrl's ``num_observations``
    and ``num_actions``); with ``occupied_size=True`` it is the width of skrl's flat layout
    (a Discrete takes one column, a MultiDiscrete one per branch).
    """
    if space is None:
        return 0
    if isinstance(space, (int, np.integer)):
        return int(space)
    if isinstance(space, (tuple, list)) and not isinstance(space, spaces.Space):
        return int(np.prod(space))
    check_space(space)
    if occupied_size:
        if isinstance(space, spaces.Discrete):
            return 1
        if isinstance(space, spaces.MultiDiscrete):
            return int(np.prod(space.nvec.shape))
        if isinstance(space, spaces.Dict):
            return sum(compute_space_size(s, True) for s in space.spaces.values())
        if isinstance(space, spaces.Tuple):
            return sum(compute_space_size(s, True) for s in space.spaces)
    return int(gymnasium.spaces.flatdim(space))


def _sample_shape(space: spaces.Space) -> tuple[int, ...]:
    if isinstance(space, spaces.Discrete):
        return ()
    if isinstance(space, spaces.MultiDiscrete):
        return tuple(space.nvec.shape)
    return tuple(space.shape)


def flatten_sample(space: Any, sample: Any) -> jax.Array:
    """Flatten a (batched) sample of ``space`` into skrl's layout.

    Args:
        space: the space the sample belongs to.
        sample: an array (Box, Discrete, ...) or a dict / tuple of them, with any number of
            leading batch dimensions before each entry's own shape (a Discrete entry has none).

    Returns:
        An array of shape ``(*batch, compute_space_size(space, occupied_size=True))``; it is
        float32 as soon as one entry is, else the entries' common dtype.
    """
    if isinstance(space, spaces.Dict):
        if not isinstance(sample, Mapping):
            raise TypeError(f"expected a dict of arrays for {space}, got {type(sample).__name__}")
        if set(space.spaces) - set(sample):
            raise KeyError(dict_entries_message(space, sample))
        parts = [flatten_sample(space[k], sample[k]) for k in sorted(space.spaces)]
        return _concatenate(parts, space)
    if isinstance(space, spaces.Tuple):
        if not isinstance(sample, Sequence) or len(sample) != len(space.spaces):
            raise TypeError(f"expected a tuple of {len(space.spaces)} arrays for {space}, got {type(sample).__name__}")
        return _concatenate([flatten_sample(s, x) for s, x in zip(space.spaces, sample)], space)
    check_space(space)
    array = jnp.asarray(sample)
    entry_shape = _sample_shape(space)
    if array.shape[array.ndim - len(entry_shape) :] != entry_shape or array.ndim < len(entry_shape):
        raise ValueError(f"expected an array ending in shape {entry_shape} for {space}, got shape {array.shape}")
    batch_shape = array.shape[: array.ndim - len(entry_shape)]
    return array.reshape(*batch_shape, int(np.prod(entry_shape, dtype=int)))


def dict_entries_message(space: spaces.Dict, sample: Mapping, owner: str = "") -> str:
    """What a Dict sample lacks (and has in excess) against ``space``, with the expected entries."""
    missing, unknown = sorted(set(space.spaces) - set(sample)), sorted(set(sample) - set(space.spaces))
    problems = [f"missing entries {missing}"] if missing else []
    problems += [f"unknown entries {unknown}"] if unknown else []
    owner = f"{owner}: " if owner else ""
    return (
        f"{owner}the Dict observation has {' and '.join(problems)}; expected the entries {sorted(space.spaces)}, "
        f"got {sorted(sample)}"
    )


def _concatenate(parts: list[jax.Array], space: spaces.Space) -> jax.Array:
    batch_shapes = {p.shape[:-1] for p in parts}
    if len(batch_shapes) > 1:
        raise ValueError(
            f"entries of a {type(space).__name__} sample have different batch shapes {sorted(batch_shapes)}"
        )
    if any(jnp.issubdtype(p.dtype, jnp.floating) for p in parts):
        parts = [p.astype(jnp.float32) for p in parts]
    return jnp.concatenate(parts, axis=-1)


def sample_space(space: Any, key: jax.Array, batch_shape: tuple[int, ...] = ()) -> Any:
    """Draw a sample of ``space`` as JAX arrays, purely from ``key`` (jit- and vmap-safe).

    Box bounds that are infinite are replaced by a standard normal draw; Discrete and
    MultiDiscrete values are uniform over their ranges (honouring ``start``).

    Returns:
        Arrays of shape ``(*batch_shape, *entry_shape)``, or a dict / tuple of them.
    """
    if isinstance(space, spaces.Dict):
        keys = jax.random.split(key, len(space.spaces))
        return {k: sample_space(space[k], sub, batch_shape) for k, sub in zip(sorted(space.spaces), keys)}
    if isinstance(space, spaces.Tuple):
        keys = jax.random.split(key, len(space.spaces))
        return tuple(sample_space(s, sub, batch_shape) for s, sub in zip(space.spaces, keys))
    check_space(space)
    shape = (*batch_shape, *_sample_shape(space))
    if isinstance(space, spaces.Box):
        if not np.issubdtype(space.dtype, np.floating):
            return jax.random.randint(key, shape, space.low, space.high.astype(np.int64) + 1).astype(jnp.int32)
        low = np.broadcast_to(space.low, space.shape).astype(np.float32)
        high = np.broadcast_to(space.high, space.shape).astype(np.float32)
        bounded = np.isfinite(low) & np.isfinite(high)
        uniform_key, normal_key = jax.random.split(key)
        uniform = jax.random.uniform(
            uniform_key, shape, minval=np.where(bounded, low, 0.0), maxval=np.where(bounded, high, 1.0)
        )
        normal = jax.random.normal(normal_key, shape)
        lower_only = np.isfinite(low) & ~np.isfinite(high)
        upper_only = ~np.isfinite(low) & np.isfinite(high)
        unbounded = jnp.where(lower_only, low + jnp.abs(normal), jnp.where(upper_only, high - jnp.abs(normal), normal))
        return jnp.where(bounded, uniform, unbounded)
    if isinstance(space, spaces.Discrete):
        return jax.random.randint(key, shape, int(space.start), int(space.start + space.n)).astype(jnp.int32)
    if isinstance(space, spaces.MultiDiscrete):
        start = np.broadcast_to(space.start, space.nvec.shape)
        return jax.random.randint(key, shape, start, start + space.nvec).astype(jnp.int32)
    # MultiBinary
    return jax.random.bernoulli(key, 0.5, shape).astype(jnp.int32)
