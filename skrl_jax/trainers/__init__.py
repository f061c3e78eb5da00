"""Trainers: the host loop (SequentialTrainer) and the whole run compiled (CompiledTrainer)."""

from skrl_jax.models.greedy import greedy_actions
from skrl_jax.trainers.compiled import COMPILED_TRAINER_DEFAULT_CONFIG, CompiledTrainer, RunnerState
from skrl_jax.trainers.metrics import last_episodes_return, metrics_table, plot_metrics
from skrl_jax.trainers.sequential import SEQUENTIAL_TRAINER_DEFAULT_CONFIG, SequentialTrainer, SequentialTrainerCfg

__all__ = [
    "COMPILED_TRAINER_DEFAULT_CONFIG",
    "SEQUENTIAL_TRAINER_DEFAULT_CONFIG",
    "CompiledTrainer",
    "RunnerState",
    "SequentialTrainer",
    "SequentialTrainerCfg",
    "greedy_actions",
    "last_episodes_return",
    "metrics_table",
    "plot_metrics",
]
