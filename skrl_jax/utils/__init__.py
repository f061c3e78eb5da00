"""skrl's ``skrl.utils`` paths, on the top floor (above agents and trainers): ``runner.Runner``,
``model_instantiators``, ``distributed``, ``spaces`` and ``set_seed`` (skrl's ``skrl.utils.set_seed``).

The helpers the lower layers share (spaces, validation, checkpoint files, multi-process runs) live in
``skrl_jax.core``; ``utils.spaces`` and ``utils.distributed`` re-export theirs under skrl's paths."""

from skrl_jax.config import set_seed

__all__ = ["set_seed"]
