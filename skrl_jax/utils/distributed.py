"""skrl's ``skrl.utils.distributed`` path: multi-process runs (``skrl_jax.core.distributed``), re-exported.

Every process runs the same script. ``initialize`` connects them; afterwards ``jax.devices()``
lists every process's devices, and ``CompiledTrainer(cfg={"devices": jax.device_count()})`` splits
the environments over all of them, each process stepping the environments on its own devices.
Only process 0 writes TensorBoard events and checkpoints (``is_writer``).
"""

from skrl_jax.core.distributed import ENVIRONMENT, host_copy, initialize, is_writer, place

__all__ = ["ENVIRONMENT", "host_copy", "initialize", "is_writer", "place"]
