"""Checkpoints: pytrees in flax's msgpack format, written atomically, checked when read.

A file holds ``{"format": "skrl_jax", "version": 1, "kind": ..., "meta": {...}, "state": ...}``.
Writing goes to a temporary file in the same folder, is flushed to disk, then renamed over the
target, so a crash during a save leaves the previous checkpoint as it was. Reading never uses
pickle (msgpack only) and compares the tree's structure, shapes and dtypes with what the caller
expects, naming every difference. PRNG keys are stored as their raw key data.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

FORMAT = "skrl_jax"
VERSION = 1


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint, or not one of what the caller expects."""


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _keys_to_data(tree: Any) -> Any:
    return jax.tree.map(lambda x: jax.random.key_data(x) if _is_key(x) else x, tree)


def _state_dict(tree: Any) -> Any:
    return flax.serialization.to_state_dict(jax.device_get(_keys_to_data(tree)))


def _dataclass_to_state_dict(node: Any) -> dict:
    return {
        field.name: flax.serialization.to_state_dict(getattr(node, field.name)) for field in dataclasses.fields(node)
    }


def _dataclass_from_state_dict(node: Any, state: Mapping[str, Any]) -> Any:
    values = {
        field.name: flax.serialization.from_state_dict(getattr(node, field.name), state[field.name])
        for field in dataclasses.fields(node)
    }
    return dataclasses.replace(node, **values)


def register_dataclass_nodes(tree: Any) -> None:
    """Let checkpoints hold the dataclass pytree nodes found in ``tree`` that flax does not know
    (MJX's ``Data``, for one: a Playground environment's state), field by field."""
    if dataclasses.is_dataclass(tree) and not isinstance(tree, type):
        try:
            flax.serialization.register_serialization_state(
                type(tree), _dataclass_to_state_dict, _dataclass_from_state_dict
            )
        except ValueError:  # flax knows it already (flax.struct dataclasses, brax's states)
            pass
        for field in dataclasses.fields(tree):
            register_dataclass_nodes(getattr(tree, field.name))
    elif isinstance(tree, Mapping):
        for value in tree.values():
            register_dataclass_nodes(value)
    elif isinstance(tree, (list, tuple)):
        for value in tree:
            register_dataclass_nodes(value)


def _check_writable_path(path: Path) -> None:
    """Refuse, naming it, a path that is a folder or lies under a file (mkdir's bare
    ``FileExistsError`` / ``NotADirectoryError`` name neither the target nor what is in the way)."""
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder; pass a file path, e.g. {path / 'model.ckpt'}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(
                    f"cannot save to {path}: {parent} is a file, not a folder, so nothing can be written under it"
                )
            return


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    _check_writable_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def save_checkpoint(path: str | os.PathLike, tree: Any, kind: str, meta: Mapping[str, Any] | None = None) -> Path:
    """Save ``tree`` (any pytree of arrays: params, optimizer state, NamedTuples, keys) to ``path``."""
    payload = {"format": FORMAT, "version": VERSION, "kind": kind, "meta": dict(meta or {}), "state": _state_dict(tree)}
    return write_atomically(path, flax.serialization.msgpack_serialize(payload))


def read_payload(path: str | os.PathLike) -> Any:
    """The msgpack content of ``path``, or a ``CheckpointError`` saying why it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    data = path.read_bytes()
    try:
        return flax.serialization.msgpack_restore(data)
    except Exception as error:  # msgpack raises several types for truncated or foreign bytes
        raise CheckpointError(
            f"{path} is not a readable checkpoint ({len(data)} bytes; truncated or corrupt?): {error}"
        ) from None


def _shape_and_dtype(x: Any) -> tuple[tuple[int, ...], np.dtype]:
    if hasattr(x, "shape") and hasattr(x, "dtype"):  # arrays, and jax.ShapeDtypeStruct from eval_shape
        return tuple(x.shape), np.dtype(x.dtype)
    array = np.asarray(x)
    return array.shape, array.dtype


def tree_differences(
    expected: Any, found: Any, prefix: str = "", source: str = "the file", dtypes: bool = True
) -> list[str]:
    """Human-readable differences between two state dicts (structure, shapes and, with ``dtypes``,
    dtypes); ``source`` names where ``found`` comes from."""
    if isinstance(expected, Mapping) or isinstance(found, Mapping):
        if not (isinstance(expected, Mapping) and isinstance(found, Mapping)):
            return [
                f"{prefix or '/'}: expected {'a subtree' if isinstance(expected, Mapping) else 'an array'}, found "
                f"{'a subtree' if isinstance(found, Mapping) else 'an array'}"
            ]
        differences = [f"{prefix}/{key}: missing from {source}" for key in expected if key not in found]
        differences += [f"{prefix}/{key}: in {source} but not expected" for key in found if key not in expected]
        for key in expected:
            if key in found:
                differences += tree_differences(expected[key], found[key], f"{prefix}/{key}", source, dtypes)
        return differences
    if expected is None or found is None:
        return [] if expected is None and found is None else [f"{prefix}: expected {expected!r}, found {found!r}"]
    (expected_shape, expected_dtype), (found_shape, found_dtype) = _shape_and_dtype(expected), _shape_and_dtype(found)
    if expected_shape != found_shape or (dtypes and expected_dtype != found_dtype):
        return [f"{prefix}: expected {expected_dtype}{list(expected_shape)}, found {found_dtype}{list(found_shape)}"]
    return []


def summarize_differences(differences: list[str], limit: int = 12) -> str:
    """The first ``limit`` differences, one per indented line, and how many more there are."""
    shown = "\n  ".join(differences[:limit])
    more = f"\n  ... and {len(differences) - limit} more" if len(differences) > limit else ""
    return f"\n  {shown}{more}"


def restore(target: Any, state: Any, source: str) -> Any:
    """``target``'s tree with ``state``'s values, after checking that they match."""
    expected = _state_dict(target)
    differences = tree_differences(expected, state)
    if differences:
        raise CheckpointError(f"{source} does not match what it is loaded into:{summarize_differences(differences)}")
    restored = flax.serialization.from_state_dict(_keys_to_data(target), state)
    return jax.tree.map(
        lambda old, new: (
            jax.random.wrap_key_data(jnp.asarray(new), impl=jax.random.key_impl(old))
            if _is_key(old)
            else jnp.asarray(new)
        ),
        target,
        restored,
    )


def load_checkpoint(path: str | os.PathLike, target: Any, kind: str) -> tuple[Any, dict[str, Any]]:
    """Read a checkpoint of ``kind`` saved by ``save_checkpoint``: ``(tree like target, meta)``."""
    payload = read_payload(path)
    if not isinstance(payload, Mapping) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a skrl_jax checkpoint (no 'format': '{FORMAT}' header)")
    if payload.get("kind") != kind:
        raise CheckpointError(f"{path} holds a {payload.get('kind')!r} checkpoint, expected a {kind!r} one")
    return restore(target, payload["state"], str(path)), dict(payload.get("meta", {}))
