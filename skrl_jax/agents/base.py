"""``Agent``: skrl's agent API (act / record_transition / pre- and post-interaction) and its bookkeeping."""

from __future__ import annotations

import collections
import copy
import datetime
import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def merge_config(defaults: Mapping[str, Any], cfg: Mapping[str, Any] | None, owner: str) -> dict[str, Any]:
    """``defaults`` updated with ``cfg``; a key ``defaults`` does not have is a typo and an error."""
    merged = copy.deepcopy(dict(defaults))
    for key, value in (cfg or {}).items():
        if key not in merged:
            close = difflib.get_close_matches(key, list(merged), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {sorted(merged)}"
            raise KeyError(f"unknown {owner} cfg key {key!r}{hint}")
        if isinstance(merged[key], dict) and merged[key] and isinstance(value, Mapping):
            merged[key] = merge_config(merged[key], value, f"{owner}['{key}']")
        else:
            merged[key] = value
    return merged


class Agent:
    """Common bookkeeping: the merged cfg, the models, and the episode statistics skrl tracks."""

    def __init__(
        self,
        models: Mapping[str, Any],
        memory: Any = None,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        cfg: Mapping[str, Any] | None = None,
    ) -> None:
        self.models = dict(models)
        self.memory = memory[0] if isinstance(memory, (tuple, list)) else memory
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = device
        self.cfg = dict(cfg or {})
        self.training = False
        self.timestep = 0  # timesteps done (saved in checkpoints)
        self.resume_timestep = 0  # where the next SequentialTrainer.train() starts (set by load)
        self.tracking_data: dict[str, list[float]] = collections.defaultdict(list)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.episode_end_timesteps: list[int] = []
        self._track_rewards: collections.deque = collections.deque(maxlen=100)
        self._track_timesteps: collections.deque = collections.deque(maxlen=100)
        self._cumulative_rewards: np.ndarray | None = None
        self._cumulative_timesteps: np.ndarray | None = None

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        """Resolve skrl's ``experiment`` settings: "auto" intervals are a hundredth (writing)
        and a tenth (checkpoints) of the trainer's ``timesteps``; 0 turns them off."""
        self.trainer_cfg = dict(trainer_cfg or {})
        experiment = dict(self.cfg.get("experiment", {}))
        timesteps = int(self.trainer_cfg.get("timesteps", 0))

        def interval(value: Any, fraction: int) -> int:
            return int(timesteps / fraction) if value == "auto" else int(value or 0)

        self.write_interval = interval(experiment.get("write_interval", "auto"), 100)
        self.checkpoint_interval = interval(experiment.get("checkpoint_interval", "auto"), 10)
        self.store_separately = bool(experiment.get("store_separately", False))
        directory = experiment.get("directory") or os.path.join(os.getcwd(), "runs")
        name = experiment.get("experiment_name") or (
            f"{datetime.datetime.now():%y-%m-%d_%H-%M-%S-%f}_{type(self).__name__}"
        )
        self.experiment_dir = Path(directory) / name
        self.best_return = -np.inf
        self._writer = None

    def track_data(self, tag: str, value: float) -> None:
        self.tracking_data[tag].append(float(value))

    @property
    def writer(self) -> Any:
        """The TensorBoard writer (tensorboardX) of the experiment directory, made on first use."""
        if self._writer is None:
            from tensorboardX import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.experiment_dir))
        return self._writer

    def add_scalar(self, tag: str, value: float, timestep: int) -> None:
        """One TensorBoard scalar under skrl's tag as it is (tensorboardX's ``add_scalar`` would
        rewrite "Loss / Policy loss" as "Loss_/_Policy_loss")."""
        from tensorboardX.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self.writer._get_file_writer().add_summary(summary, timestep)

    def write_tracking_data(self, timestep: int, timesteps: int) -> None:
        """Write the mean of each tracked value since the last write (skrl's tags) and start anew."""
        for tag, values in self.tracking_data.items():
            if values:
                self.add_scalar(tag, float(np.mean(values)), timestep)
        self.writer.flush()
        self.tracking_data.clear()

    def close_writer(self) -> None:
        """Write out the queued TensorBoard events (a later write opens a new event file)."""
        if getattr(self, "_writer", None) is not None:
            self._writer.close()
            self._writer = None

    def checkpoint_state(self) -> dict[str, Any]:
        """The pytree a checkpoint holds (subclasses add their train state)."""
        return {}

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"agent": type(self).__name__, "timestep": self.timestep}

    def restore_checkpoint(self, state: dict[str, Any], meta: Mapping[str, Any]) -> None:
        pass

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything needed to continue training to ``path`` (atomically)."""
        from skrl_jax.utils.checkpoints import save_checkpoint

        return save_checkpoint(path, self.checkpoint_state(), "agent", self.checkpoint_meta())

    def load(self, path: str | os.PathLike) -> None:
        """Continue from a checkpoint written by ``save`` (checked against this agent's trees)."""
        from skrl_jax.utils.checkpoints import CheckpointError, load_checkpoint

        state, meta = load_checkpoint(path, self.checkpoint_state(), "agent")
        if meta.get("agent") != type(self).__name__:
            raise CheckpointError(f"{path} is a {meta.get('agent')} checkpoint, not a {type(self).__name__} one")
        self.restore_checkpoint(state, meta)
        self.timestep = self.resume_timestep = int(meta.get("timestep", 0))

    def write_checkpoint(self, timestep: int, timesteps: int) -> Path:
        """``checkpoints/agent_<timestep>.ckpt`` in the experiment directory, and ``best_agent.ckpt``
        when the mean return of the last episodes is the best so far (as skrl)."""
        folder = self.experiment_dir / "checkpoints"
        path = self.save(folder / f"agent_{timestep}.ckpt")
        if self.store_separately:
            for name, model in self.models.items():
                if model is not None and model.params is not None:
                    model.save(folder / f"{name}_{timestep}.ckpt")
        if self._track_rewards and np.mean(self._track_rewards) > self.best_return:
            self.best_return = float(np.mean(self._track_rewards))
            self.save(folder / "best_agent.ckpt")
        return path

    def set_mode(self, mode: str) -> None:
        self.training = mode == "train"

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        """Write TensorBoard data and checkpoints at skrl's intervals."""
        timestep += 1
        self.timestep = timestep
        if getattr(self, "write_interval", 0) > 0 and timestep > 1 and not timestep % self.write_interval:
            self.write_tracking_data(timestep, timesteps)
        if getattr(self, "checkpoint_interval", 0) > 0 and not timestep % self.checkpoint_interval:
            self.write_checkpoint(timestep, timesteps)

    def record_transition(
        self,
        states: Any,
        actions: Any,
        rewards: Any,
        next_states: Any,
        terminated: Any,
        truncated: Any,
        infos: Any,
        timestep: int,
        timesteps: int,
    ) -> None:
        """Episode returns and lengths per environment, as skrl tracks them."""
        rewards = np.asarray(rewards, np.float64).reshape(-1)
        done = (np.asarray(terminated) | np.asarray(truncated)).reshape(-1)
        if self._cumulative_rewards is None:
            self._cumulative_rewards = np.zeros_like(rewards)
            self._cumulative_timesteps = np.zeros(rewards.shape, np.int64)
        self._cumulative_rewards += rewards
        self._cumulative_timesteps += 1
        if done.any():
            finished_returns = self._cumulative_rewards[done].tolist()
            finished_lengths = self._cumulative_timesteps[done].tolist()
            self.episode_returns.extend(finished_returns)
            self.episode_lengths.extend(finished_lengths)
            self.episode_end_timesteps.extend([timestep + 1] * len(finished_returns))
            self._track_rewards.extend(finished_returns)
            self._track_timesteps.extend(finished_lengths)
            self._cumulative_rewards[done] = 0.0
            self._cumulative_timesteps[done] = 0
            self.track_data("Reward / Total reward (max)", np.max(self._track_rewards))
            self.track_data("Reward / Total reward (min)", np.min(self._track_rewards))
            self.track_data("Reward / Total reward (mean)", np.mean(self._track_rewards))
            self.track_data("Episode / Total timesteps (max)", np.max(self._track_timesteps))
            self.track_data("Episode / Total timesteps (min)", np.min(self._track_timesteps))
            self.track_data("Episode / Total timesteps (mean)", np.mean(self._track_timesteps))

    @property
    def mean_episode_return(self) -> float:
        """Mean return of the last (up to) 100 finished episodes; nan before the first one."""
        return float(np.mean(self._track_rewards)) if self._track_rewards else float("nan")
