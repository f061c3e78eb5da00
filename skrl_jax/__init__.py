"""skrl_jax: skrl's models, agents and trainers in JAX/Flax, with explicit parameter sharing."""

__version__ = "0.1.0"
