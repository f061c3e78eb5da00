"""A PyTorch model's ``state_dict`` mapped onto a flax parameter tree, by layer shape and name.

skrl's PyTorch models and their skrl_jax ports hold the same layers under different names and
layouts: ``net.0.weight`` ``(out, in)`` and ``net.0.bias`` are ``net/layers_0/kernel`` ``(in, out)``
and ``net/layers_0/bias``; a bare parameter (``log_std_parameter``) is a bare parameter. The
mapping pairs dense layers by their ``(in, out)`` shape and bare parameters by theirs: a shape
held by one layer on each side pairs those two; layers that share a shape pair by name
(``net.0`` and ``net/layers_0`` are the same name), and where the names do not tell them apart the
mapping is refused, listing the candidates. Convolutions and recurrent cells are refused: their
layouts (channels-first flattening, gate order) differ in ways shapes cannot check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from skrl_jax.core.checkpoints import CheckpointError


class Entry(NamedTuple):
    """One layer or bare parameter: its name, a normalised name to compare, its shape, its arrays."""

    name: str
    key: str
    shape: tuple[int, ...]
    arrays: dict[str, Any]


def _normalise(name: str) -> str:
    return re.sub(r"(^|\.)layers_(\d+)", r"\1\2", name.replace("/", "."))


def flax_entries(params: Mapping[str, Any], prefix: str = "") -> tuple[list[Entry], list[Entry]]:
    """The dense layers (``kernel`` + optional ``bias``) and bare parameters of a flax tree, in order."""
    layers, bare = [], []
    for name, value in params.items():
        path = f"{prefix}/{name}" if prefix else name
        if isinstance(value, Mapping):
            if "kernel" in value:
                kernel = np.shape(value["kernel"])
                if len(kernel) != 2 or set(value) - {"kernel", "bias"}:
                    raise CheckpointError(
                        f"{path}: only dense layers map from PyTorch by shape (this is a {len(kernel)}-d kernel with "
                        f"{sorted(value)}); load its weights by hand"
                    )
                layers.append(
                    Entry(
                        path, _normalise(path), kernel, {"kernel": None, **({"bias": None} if "bias" in value else {})}
                    )
                )
            else:
                inner_layers, inner_bare = flax_entries(value, path)
                layers += inner_layers
                bare += inner_bare
        else:
            bare.append(Entry(path, _normalise(path), tuple(np.shape(value)), {}))
    return layers, bare


def torch_entries(state: Mapping[str, np.ndarray]) -> tuple[list[Entry], list[Entry]]:
    """The ``Linear`` layers (``weight`` ``(out, in)`` + optional ``bias``) and bare parameters of a
    PyTorch ``state_dict``, in order; layer shapes are given as flax's ``(in, out)``."""
    layers: dict[str, dict[str, np.ndarray]] = {}
    bare = []
    for name, value in state.items():
        prefix, _, leaf = name.rpartition(".")
        if prefix and leaf in ("weight", "bias"):
            layers.setdefault(prefix, {})[leaf] = value
        else:
            bare.append(Entry(name, _normalise(name), tuple(np.shape(value)), {"value": value}))
    entries = []
    for prefix, arrays in layers.items():
        weight = arrays.get("weight")
        if weight is None or weight.ndim != 2:
            shape = None if weight is None else weight.shape
            raise CheckpointError(
                f"{prefix}: only Linear layers map onto flax by shape (found weight {shape}); load its weights by hand"
            )
        entries.append(Entry(prefix, _normalise(prefix), (weight.shape[1], weight.shape[0]), arrays))
    return entries, bare


def pair(ours: list[Entry], theirs: list[Entry], what: str, source: str) -> list[tuple[Entry, Entry]]:
    """Our entries paired with theirs: by shape, and by name among entries of one shape."""
    shapes = sorted({entry.shape for entry in ours} | {entry.shape for entry in theirs})
    pairs = []
    for shape in shapes:
        mine = [entry for entry in ours if entry.shape == shape]
        other = [entry for entry in theirs if entry.shape == shape]
        if len(mine) != len(other):
            raise CheckpointError(
                f"{source}: {len(mine)} of our {what} have shape {list(shape)} "
                f"({[entry.name for entry in mine]}), {len(other)} of the checkpoint's "
                f"({[entry.name for entry in other]}): the models differ"
            )
        if len(mine) == 1:
            pairs.append((mine[0], other[0]))
            continue
        by_name = {entry.key: entry for entry in other}
        if {entry.key for entry in mine} != set(by_name):
            raise CheckpointError(
                f"{source}: {what} {[entry.name for entry in mine]} and the checkpoint's {[entry.name for entry in other]} "
                f"all have shape {list(shape)} and their names do not say which is which (ambiguous): keep the "
                "PyTorch attribute names in the port (net.0 <-> net/layers_0, mean_layer <-> mean_layer)"
            )
        pairs += [(entry, by_name[entry.key]) for entry in mine]
    return pairs


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split("/")
    for name in parents:
        tree = tree.setdefault(name, {})
    tree[leaf] = value


def map_torch_state(
    state: Mapping[str, np.ndarray], params: Mapping[str, Any], source: str
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``state`` (a PyTorch ``state_dict`` as numpy arrays) as a tree shaped like ``params``, and the
    mapping ``[(our path, their name), ...]``."""
    our_layers, our_bare = flax_entries(params)
    their_layers, their_bare = torch_entries(state)
    tree: dict[str, Any] = {}
    mapping = []
    for mine, other in pair(our_layers, their_layers, "dense layers", source):
        if ("bias" in mine.arrays) != ("bias" in other.arrays):
            raise CheckpointError(f"{source}: {mine.name} and {other.name} differ in having a bias")
        _set(tree, f"{mine.name}/kernel", np.asarray(other.arrays["weight"]).T)
        mapping.append((f"{mine.name}/kernel", f"{other.name}.weight (transposed)"))
        if "bias" in mine.arrays:
            _set(tree, f"{mine.name}/bias", np.asarray(other.arrays["bias"]))
            mapping.append((f"{mine.name}/bias", f"{other.name}.bias"))
    for mine, other in pair(our_bare, their_bare, "bare parameters", source):
        _set(tree, mine.name, np.asarray(other.arrays["value"]))
        mapping.append((mine.name, other.name))
    return tree, mapping
