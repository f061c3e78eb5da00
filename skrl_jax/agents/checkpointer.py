"""``Checkpointer``: skrl's agent checkpoints (``checkpoints/agent_<timestep>.ckpt``, ``best_agent.ckpt``).

It writes and reads the pytree an agent hands it (its state and key) through
``skrl_jax.core.checkpoints``: atomic writes, no pickle, every leaf checked against the agent's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


class Checkpointer:
    """Where and when an agent's checkpoints are written, and the best mean return seen so far.

    interval: timesteps between two checkpoints (0: none); store_separately: also each model's
    parameters in a file of its own (skrl's ``store_separately``).
    """

    def __init__(self, agent_name: str) -> None:
        self.agent_name = agent_name
        self.directory: Path | None = None
        self.interval = 0
        self.store_separately = False
        self.best_return = -np.inf

    def configure(self, experiment_dir: Path, interval: int, store_separately: bool) -> None:
        self.directory = Path(experiment_dir) / "checkpoints"
        self.interval = interval
        self.store_separately = store_separately
        self.best_return = -np.inf

    def due(self, timestep: int) -> bool:
        """Whether a checkpoint follows ``timestep`` steps done."""
        return self.interval > 0 and not timestep % self.interval

    def save(self, path: str | os.PathLike, tree: Any, meta: Mapping[str, Any]) -> Path:
        """Write ``tree`` to ``path`` atomically (an existing file stays whole until the new one is)."""
        from skrl_jax.core.checkpoints import save_checkpoint

        return save_checkpoint(path, tree, "agent", {"agent": self.agent_name, **meta})

    def load(self, path: str | os.PathLike, like: Any) -> tuple[Any, dict[str, Any]]:
        """The tree saved at ``path``, checked against ``like`` (same structure, shapes and dtypes), and its meta."""
        from skrl_jax.core.checkpoints import CheckpointError, load_checkpoint

        tree, meta = load_checkpoint(path, like, "agent")
        if meta.get("agent") != self.agent_name:
            raise CheckpointError(f"{path} is a {meta.get('agent')} checkpoint, not a {self.agent_name} one")
        return tree, meta

    def write(
        self,
        timestep: int,
        tree: Any,
        meta: Mapping[str, Any],
        mean_return: float,
        models: Mapping[str, Any],
    ) -> Path:
        """``agent_<timestep>.ckpt``, each model's ``<key>_<timestep>.ckpt`` with ``store_separately``,
        and ``best_agent.ckpt`` when ``mean_return`` (of the last episodes) is the best so far (as skrl)."""
        if self.directory is None:
            raise RuntimeError("the experiment directory is not set: call agent.init() (or train) first")
        path = self.save(self.directory / f"agent_{timestep}.ckpt", tree, meta)
        if self.store_separately:
            for name, model in models.items():
                model.save(self.directory / f"{name}_{timestep}.ckpt")
        if np.isfinite(mean_return) and mean_return > self.best_return:
            self.best_return = float(mean_return)
            self.save(self.directory / "best_agent.ckpt", tree, meta)
        return path
