"""Multi-process runs: one process per host (or per accelerator), joined by ``jax.distributed``.

Every process runs the same script. ``initialize`` connects them; afterwards ``jax.devices()``
lists every process's devices, and ``CompiledTrainer(cfg={"devices": jax.device_count()})`` splits
the environments over all of them, each process stepping the environments on its own devices.
Only process 0 writes TensorBoard events and checkpoints (``is_writer``). Users import it from
``skrl_jax.utils.distributed`` (skrl's path); the trainers, below ``utils``, import it from here.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import numpy as np

ENVIRONMENT = {
    "coordinator_address": "SKRL_JAX_COORDINATOR_ADDRESS",
    "num_processes": "SKRL_JAX_NUM_PROCESSES",
    "process_id": "SKRL_JAX_PROCESS_ID",
}


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    timeout_seconds: int = 300,
) -> None:
    """Join this process to a multi-process run (``jax.distributed.initialize``), before any jax work.

    Arguments not given are read from ``SKRL_JAX_COORDINATOR_ADDRESS`` (``host:port`` of process
    0), ``SKRL_JAX_NUM_PROCESSES`` and ``SKRL_JAX_PROCESS_ID``; when none of the three is set
    anywhere, jax detects a SLURM or Open MPI launch itself. On CPUs the processes talk through gloo.

    Raises:
        ValueError: a setting is missing or malformed.
        RuntimeError: the coordinator was not reached within ``timeout_seconds``.
    """
    given = {"coordinator_address": coordinator_address, "num_processes": num_processes, "process_id": process_id}
    for name, variable in ENVIRONMENT.items():
        if given[name] is None and os.environ.get(variable):
            given[name] = os.environ[variable]
    if any(value is not None for value in given.values()):
        missing = [f"{name} (or {ENVIRONMENT[name]})" for name, value in given.items() if value is None]
        if missing:
            raise ValueError(f"skrl_jax.utils.distributed.initialize: missing {', '.join(missing)}")
        try:
            given["num_processes"], given["process_id"] = int(given["num_processes"]), int(given["process_id"])
        except ValueError as error:
            raise ValueError(
                f"skrl_jax.utils.distributed.initialize: num_processes and process_id must be ints: {error}"
            ) from None
        if not 0 <= given["process_id"] < given["num_processes"]:
            raise ValueError(
                f"skrl_jax.utils.distributed.initialize: process_id={given['process_id']} is not in "
                f"[0, num_processes={given['num_processes']})"
            )
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if given["coordinator_address"] is not None and given["process_id"] != 0:
        # jax's client aborts the whole process (no Python exception) when the coordinator stays
        # unreachable, so reach it first and fail with a message instead
        _wait_for(given["coordinator_address"], given["process_id"], given["num_processes"], timeout_seconds)
    try:
        jax.distributed.initialize(**given, initialization_timeout=timeout_seconds)
    except Exception as error:  # jax raises an XLA runtime error whose text is long; keep its first line
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RuntimeError(
            f"process {given['process_id']} of {given['num_processes']} could not join the run at "
            f"{given['coordinator_address']} within {timeout_seconds:g} s: is process 0 running, and is the "
            f"address reachable from this host? ({first_line})"
        ) from error


def _wait_for(address: str, process_id: int, num_processes: int, timeout_seconds: float) -> None:
    import socket
    import time

    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(
            f"skrl_jax.utils.distributed.initialize: coordinator_address must be host:port, got {address!r}"
        )
    deadline = time.monotonic() + timeout_seconds
    while True:
        try:
            with socket.create_connection((host, int(port)), timeout=min(5.0, timeout_seconds)):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"process {process_id} of {num_processes} could not join the run at {address} within "
                    f"{timeout_seconds:g} s: is process 0 running, and is the address reachable from this host? "
                    f"({error})"
                ) from None
            time.sleep(0.5)


def is_writer() -> bool:
    """Whether this process writes logs and checkpoints (process 0; the only one when not distributed)."""
    return jax.process_index() == 0


def host_copy(tree: Any) -> Any:
    """``tree`` with every array whole and on this host: replicated arrays as their local copy,
    arrays split over several processes gathered (a collective: every process must call it)."""
    from jax.experimental import multihost_utils

    def whole(leaf: Any) -> Any:
        if not isinstance(leaf, jax.Array) or leaf.is_fully_addressable:
            return leaf
        if leaf.is_fully_replicated:
            return leaf.addressable_data(0)
        return np.asarray(multihost_utils.process_allgather(leaf, tiled=True))

    return jax.tree.map(whole, tree)


def place(tree: Any, shardings: Any) -> Any:
    """``tree`` (whole arrays on this host, the same in every process) placed with ``shardings``,
    which may span other processes' devices (where ``jax.device_put`` refuses)."""

    def put(leaf: Any, sharding: Any) -> Any:
        if sharding.is_fully_addressable:
            return jax.device_put(leaf, sharding)
        if jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
            data = np.asarray(jax.random.key_data(leaf))
            placed = jax.make_array_from_callback(data.shape, sharding, lambda index: data[index])
            return jax.random.wrap_key_data(placed, impl=jax.random.key_impl(leaf))
        data = np.asarray(leaf)
        return jax.make_array_from_callback(data.shape, sharding, lambda index: data[index])

    return jax.tree.map(put, tree, shardings)
