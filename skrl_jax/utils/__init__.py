"""Helpers shared by models, agents and environments; ``set_seed`` as skrl's ``skrl.utils.set_seed``."""

from skrl_jax.config import set_seed

__all__ = ["set_seed"]
