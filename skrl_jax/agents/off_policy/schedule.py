"""skrl 2.x's ``exploration_scheduler(timestep, timesteps) -> float`` inside a compiled ``act``.

skrl calls the scheduler on the host at every step; here ``act`` is traced once, so the
scheduler becomes a function of the traced timestep: the scheduler itself when it traces with
``jax.numpy`` (``lambda t, T: jnp.maximum(1 - t / T, 1e-2)``), else a table of its values at
``0 .. timesteps - 1``, computed once on the host (skrl's examples use ``max`` and ``math.exp``,
which need a Python number).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def compiled_schedule(
    scheduler: Callable[[int, int], float], timesteps: int, owner: str
) -> Callable[[jax.Array], jax.Array]:
    """``schedule(timestep) -> float32 scalar`` equal to ``scheduler(timestep, timesteps)``.

    A table is indexed at ``clip(timestep, 0, timesteps - 1)``. ``timesteps`` is the trainer's;
    a scheduler that needs the table needs it known (> 0).
    """
    if not callable(scheduler):
        raise TypeError(
            f"{owner}: cfg exploration_scheduler must be a function (timestep, timesteps) -> float, got "
            f"{type(scheduler).__name__}"
        )

    def traced(timestep: jax.Array) -> jax.Array:
        return jnp.asarray(scheduler(timestep, timesteps), jnp.float32).reshape(())

    try:
        jax.eval_shape(traced, jax.ShapeDtypeStruct((), jnp.int32))
        return traced
    except Exception:  # noqa: BLE001 (any failure to trace falls back to the host table, which reports real errors)
        pass
    if not timesteps:
        raise ValueError(
            f"{owner}: cfg exploration_scheduler needs Python numbers (it does not trace with jax.numpy), so its "
            "values are tabulated over the run's timesteps; the run's timesteps are unknown here (0): train with a "
            "trainer (its cfg timesteps), or write the scheduler with jax.numpy"
        )
    try:
        table = np.asarray([float(scheduler(timestep, timesteps)) for timestep in range(int(timesteps))], np.float32)
    except Exception as error:
        raise ValueError(f"{owner}: cfg exploration_scheduler(timestep, timesteps) failed: {error!r}") from error
    table = jnp.asarray(table)

    def tabulated(timestep: jax.Array) -> jax.Array:
        return table[jnp.clip(jnp.asarray(timestep, jnp.int32), 0, table.shape[0] - 1)]

    return tabulated
