"""RPO: ``RPO`` and ``RPO_DEFAULT_CONFIG`` (skrl's names)."""

from skrl_jax.agents.rpo.rpo import RPO, RPO_DEFAULT_CONFIG, RPO_RNN

__all__ = ["RPO", "RPO_DEFAULT_CONFIG", "RPO_RNN"]
