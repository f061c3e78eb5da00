"""``Agent``: skrl's agent API (act / record_transition / pre- and post-interaction) and its bookkeeping."""

from __future__ import annotations

import collections
import copy
import difflib
from collections.abc import Mapping
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
        self.tracking_data: dict[str, list[float]] = collections.defaultdict(list)
        self.episode_returns: list[float] = []
        self.episode_lengths: list[int] = []
        self.episode_end_timesteps: list[int] = []
        self._track_rewards: collections.deque = collections.deque(maxlen=100)
        self._track_timesteps: collections.deque = collections.deque(maxlen=100)
        self._cumulative_rewards: np.ndarray | None = None
        self._cumulative_timesteps: np.ndarray | None = None

    def init(self, trainer_cfg: Mapping[str, Any] | None = None) -> None:
        self.trainer_cfg = dict(trainer_cfg or {})

    def track_data(self, tag: str, value: float) -> None:
        self.tracking_data[tag].append(float(value))

    def set_mode(self, mode: str) -> None:
        self.training = mode == "train"

    def pre_interaction(self, timestep: int, timesteps: int) -> None:
        pass

    def post_interaction(self, timestep: int, timesteps: int) -> None:
        pass

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
