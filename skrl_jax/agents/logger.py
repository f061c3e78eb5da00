"""``ExperimentLogger``: episode statistics and TensorBoard data, as skrl's agents keep and write them.

The host side of a run's bookkeeping: it never touches the agent's state or its compiled calls.
An agent holds one (``agent.logger``) and keeps skrl's names for it (``agent.track_data``,
``agent.episode_returns``, ``agent.write_tracking_data``, ...); the trainers use them.
"""

from __future__ import annotations

import collections
import datetime
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

# how many finished episodes the running statistics (and the "best" checkpoint) look back over, as skrl
RECENT_EPISODES = 100


def resolve_interval(value: Any, timesteps: int, fraction: int) -> int:
    """skrl's ``write_interval`` / ``checkpoint_interval``: "auto" is ``timesteps / fraction``; 0 turns it off."""
    return int(timesteps / fraction) if value == "auto" else int(value or 0)


def experiment_directory(experiment: Mapping[str, Any], agent_name: str) -> Path:
    """``<directory>/<experiment_name>``: skrl's defaults are ``./runs`` and a timestamp with the agent's name."""
    directory = experiment.get("directory") or os.path.join(os.getcwd(), "runs")
    name = experiment.get("experiment_name") or f"{datetime.datetime.now():%y-%m-%d_%H-%M-%S-%f}_{agent_name}"
    return Path(directory) / name


class ExperimentLogger:
    """Episode returns and lengths per environment, tracked values by TensorBoard tag, and the writer.

    ``configure`` sets the experiment directory and ``write_interval`` (before that, values are
    tracked but nothing is written).
    """

    def __init__(self) -> None:
        self.experiment_dir: Path | None = None
        self.write_interval = 0
        self.tracking_data: dict[str, list[float]] = collections.defaultdict(list)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.episode_end_timesteps: list[int] = []
        self.recent_returns: collections.deque = collections.deque(maxlen=RECENT_EPISODES)
        self.recent_lengths: collections.deque = collections.deque(maxlen=RECENT_EPISODES)
        self._cumulative_rewards: np.ndarray | None = None
        self._cumulative_timesteps: np.ndarray | None = None
        self._writer: Any = None

    def configure(self, experiment_dir: Path, write_interval: int) -> None:
        self.experiment_dir = experiment_dir
        self.write_interval = write_interval
        self._writer = None

    def track_episodes(self, rewards: Any, terminated: Any, truncated: Any, timestep: int) -> None:
        """Add a step's ``rewards`` ``(num_envs, 1)``; an episode that ended (``terminated | truncated``)
        adds its return and length to the statistics, as skrl tracks them."""
        rewards = np.asarray(rewards, np.float64).reshape(-1)
        done = (np.asarray(terminated) | np.asarray(truncated)).reshape(-1)
        if self._cumulative_rewards is None:
            self._cumulative_rewards = np.zeros_like(rewards)
            self._cumulative_timesteps = np.zeros(rewards.shape, np.int64)
        self._cumulative_rewards += rewards
        self._cumulative_timesteps += 1
        if not done.any():
            return
        finished_returns = self._cumulative_rewards[done].tolist()
        finished_lengths = self._cumulative_timesteps[done].tolist()
        self.episode_returns.extend(finished_returns)
        self.episode_lengths.extend(finished_lengths)
        self.episode_end_timesteps.extend([timestep + 1] * len(finished_returns))
        self.recent_returns.extend(finished_returns)
        self.recent_lengths.extend(finished_lengths)
        self._cumulative_rewards[done] = 0.0
        self._cumulative_timesteps[done] = 0
        for tag, values in (
            ("Reward / Total reward", self.recent_returns),
            ("Episode / Total timesteps", self.recent_lengths),
        ):
            self.track_data(f"{tag} (max)", np.max(values))
            self.track_data(f"{tag} (min)", np.min(values))
            self.track_data(f"{tag} (mean)", np.mean(values))

    @property
    def mean_episode_return(self) -> float:
        """Mean return of the last (up to) 100 finished episodes; nan before the first one."""
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")

    def track_data(self, tag: str, value: float) -> None:
        self.tracking_data[tag].append(float(value))

    @property
    def writer(self) -> Any:
        """The TensorBoard writer (tensorboardX) of the experiment directory, made on first use."""
        if self._writer is None:
            if self.experiment_dir is None:
                raise RuntimeError("the experiment directory is not set: call agent.init() (or train) first")
            from tensorboardX import SummaryWriter

            self._writer = SummaryWriter(log_dir=str(self.experiment_dir))
        return self._writer

    def add_scalar(self, tag: str, value: float, timestep: int) -> None:
        """One TensorBoard scalar under skrl's tag as it is (tensorboardX's ``add_scalar`` would
        rewrite "Loss / Policy loss" as "Loss_/_Policy_loss")."""
        from tensorboardX.proto.summary_pb2 import Summary

        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self.writer._get_file_writer().add_summary(summary, timestep)

    def write_tracking_data(self, timestep: int) -> None:
        """Write the mean of each tracked value since the last write (skrl's tags) and start anew."""
        for tag, values in self.tracking_data.items():
            if values:
                self.add_scalar(tag, float(np.mean(values)), timestep)
        self.writer.flush()
        self.tracking_data.clear()

    def close_writer(self) -> None:
        """Write out the queued TensorBoard events (a later write opens a new event file)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
