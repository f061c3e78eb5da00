"""Data parallelism for the compiled trainer: environments split over the devices of a mesh.

The run is the same ``jit``-ed program as on one device; only where its arrays live changes.
Every array with an environment axis (environment states, observations, the agent's memory) is
split along that axis over the mesh's ``"data"`` axis, everything else (parameters, optimizer
state, scalers, keys) is replicated, and XLA's SPMD partitioner inserts the all-reduces the
update needs (gradient means, scaler and advantage statistics, the KL). So a run on N devices
computes what the run on one device computes, up to the order of floating-point sums.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def resolve_devices(devices: int | Sequence[Any] | None, num_envs: int) -> list[Any] | None:
    """The devices a run is split over, or None for one device (the default).

    Args:
        devices: None or 1 (one device), an int N (the first N of ``jax.devices()``, every
            process's devices in a multi-process run), or a sequence of ``jax.Device``.
        num_envs: the environments of the whole run; each device gets ``num_envs / N``.
    """
    if devices is None:
        return None
    available = jax.devices()
    if isinstance(devices, (bool, str)) or not isinstance(devices, (int, Sequence)):
        raise TypeError(
            f"CompiledTrainer: cfg['devices'] must be None, a number of devices or a list of jax devices, got {devices!r}"
        )
    if isinstance(devices, int):
        if devices < 1:
            raise ValueError(f"CompiledTrainer: cfg['devices'] must be >= 1, got {devices}")
        if devices > len(available):
            raise ValueError(
                f"CompiledTrainer: cfg['devices']={devices} but jax sees {len(available)} device(s): {available}; on a "
                "CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N (set before jax starts) makes N"
            )
        chosen = list(available[:devices])
    else:
        chosen = list(devices)
        unknown = [device for device in chosen if device not in available]
        if unknown or not chosen:
            raise ValueError(f"CompiledTrainer: cfg['devices'] names devices jax does not have: {unknown or chosen}")
    if len(chosen) == 1:
        return None
    if num_envs % len(chosen):
        raise ValueError(
            f"CompiledTrainer: num_envs={num_envs} environments do not split evenly over {len(chosen)} devices; "
            f"pass a multiple of {len(chosen)}"
        )
    return chosen


def make_mesh(devices: Sequence[Any]) -> Mesh:
    return Mesh(np.asarray(devices, dtype=object), (DATA_AXIS,))


def environment_shardings(shapes: Callable[[int], Any], num_envs: int, mesh: Mesh) -> Any:
    """A ``NamedSharding`` per leaf of the pytree ``shapes(num_envs)`` returns: split along the axis
    whose size follows the number of environments, replicated for leaves without one.

    The axis is found by building the same pytree's shapes for twice the environments and
    comparing: no agent needs to declare where its memory keeps the environment axis.
    """
    these, doubled = shapes(num_envs), shapes(2 * num_envs)

    def sharding(leaf: Any, other: Any) -> NamedSharding:
        axes = [axis for axis, (a, b) in enumerate(zip(leaf.shape, other.shape)) if a != b]
        if not axes:
            return NamedSharding(mesh, PartitionSpec())
        spec = [None] * len(leaf.shape)
        spec[axes[0]] = DATA_AXIS
        return NamedSharding(mesh, PartitionSpec(*spec))

    return jax.tree.map(sharding, these, doubled)
