"""Trainers: the host loop (SequentialTrainer)."""

from skrl_jax.trainers.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG, SequentialTrainer

__all__ = ["SEQUENTIAL_TRAINER_DEFAULT_CONFIG", "SequentialTrainer"]
