"""The metadata file beside an exported policy (``<artefact>.json``): what it computes and for what.

It names the artefact's format and checksum, the policy kind, the observation and action spaces,
the artefact's inputs and outputs in order, whether the preprocessor's statistics are folded in,
and the versions that wrote it. Loading reads it first and checks it against the artefact's
bytes and against what the caller loads it for, so a mismatch is an error before anything runs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import gymnasium
import jax
import numpy as np

from skrl_jax.core.checkpoints import write_atomically

FORMAT = "skrl_jax.export"
VERSION = 1
ARTEFACT_FORMATS = ("stablehlo", "onnx")


class ExportError(ValueError):
    """An export that cannot be made, or an artefact that cannot be loaded for what it is asked."""


def metadata_path(artefact: str | os.PathLike) -> Path:
    """Where the metadata of ``artefact`` lives: ``<artefact>.json``."""
    return Path(f"{os.fspath(artefact)}.json")


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe_space(space: gymnasium.Space) -> dict[str, Any]:
    """A JSON description of a gymnasium space: its type, shape, dtype and bounds or sizes."""
    if isinstance(space, gymnasium.spaces.Dict):
        return {"type": "Dict", "spaces": {name: describe_space(space[name]) for name in sorted(space.spaces)}}
    if isinstance(space, gymnasium.spaces.Tuple):
        return {"type": "Tuple", "spaces": [describe_space(entry) for entry in space.spaces]}
    description: dict[str, Any] = {"type": type(space).__name__, "dtype": str(np.dtype(space.dtype))}
    if isinstance(space, gymnasium.spaces.Box):
        description.update(shape=list(space.shape), low=space.low.tolist(), high=space.high.tolist())
    elif isinstance(space, gymnasium.spaces.Discrete):
        description.update(n=int(space.n), start=int(space.start))
    elif isinstance(space, gymnasium.spaces.MultiDiscrete):
        description.update(nvec=space.nvec.tolist())
    elif isinstance(space, gymnasium.spaces.MultiBinary):
        description.update(n=np.asarray(space.n).tolist())
    else:
        raise ExportError(f"cannot describe a {type(space).__name__} space in an export's metadata: {space}")
    return description


def versions() -> dict[str, str]:
    """The versions of the packages an artefact was written with."""
    import skrl_jax

    found = {"skrl_jax": skrl_jax.__version__, "jax": jax.__version__}
    for package in ("jaxlib", "flax", "jax2onnx", "onnx"):
        try:
            found[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            pass
    return found


def write_metadata(artefact: Path, data: bytes, fields: Mapping[str, Any]) -> Path:
    """Write ``<artefact>.json`` with ``fields``, the format header, versions and ``data``'s checksum."""
    content = {"format": FORMAT, "version": VERSION, "sha256": checksum(data), **fields, "versions": versions()}
    return write_atomically(metadata_path(artefact), json.dumps(content, indent=1).encode())


def read_metadata(artefact: Path, data: bytes) -> dict[str, Any]:
    """The metadata of ``artefact`` (whose bytes are ``data``), checked to be ours and to describe these bytes."""
    path = metadata_path(artefact)
    if not path.is_file():
        raise ExportError(f"{artefact} has no metadata file beside it ({path}): export writes both; copy them together")
    try:
        content = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise ExportError(f"{path} is not readable JSON (truncated or corrupt?): {error}") from None
    if not isinstance(content, Mapping) or content.get("format") != FORMAT:
        raise ExportError(f"{path} is not the metadata of a skrl_jax export (no 'format': '{FORMAT}')")
    if content.get("version") != VERSION:
        raise ExportError(f"{path} is version {content.get('version')!r} of the export metadata; this reads {VERSION}")
    if content.get("sha256") != checksum(data):
        raise ExportError(
            f"{artefact} does not match its metadata's checksum ({len(data)} bytes): the file is truncated, "
            "corrupt or another artefact than the one exported with this metadata"
        )
    return dict(content)


def check_expected(content: Mapping[str, Any], source: Path, **expected: Any) -> None:
    """Refuse an artefact whose metadata differs from what it is loaded for: ``observation_space``,
    ``action_space`` (gymnasium spaces) or ``policy_kind`` / ``format`` (strings); None: not checked."""
    problems = []
    for name, value in expected.items():
        if value is None:
            continue
        wanted = describe_space(value) if isinstance(value, gymnasium.Space) else value
        if content.get(name) != wanted:
            problems.append(f"{name}: expected {_short(wanted)}, the artefact has {_short(content.get(name))}")
    if problems:
        raise ExportError(f"{source} was not exported for what it is loaded for:\n  " + "\n  ".join(problems))


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 160 else text[:157] + "..."
