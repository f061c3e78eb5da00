"""Training metrics (arrays with one entry per update, or per seed and update) as a table or a plot."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

DEFAULT_COLUMNS = ("episode_return", "episode_length", "policy_loss", "value_loss", "kl_divergence", "learning_rate")


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """``np.nanmean`` without the warning for updates in which no episode ended (they stay nan)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def metrics_table(
    metrics: Mapping[str, Any],
    columns: Sequence[str] = DEFAULT_COLUMNS,
    every: int | None = None,
    env_steps_per_update: int | None = None,
) -> str:
    """A Markdown table of the metrics, one row per ``every`` updates (about 10 rows by default).

    Metrics of several seeds (shape ``(seeds, updates)``) are averaged over the seeds, ignoring
    updates in which no episode ended (nan).
    """
    columns = [name for name in columns if name in metrics]
    values = {name: np.asarray(metrics[name], np.float64) for name in columns}
    values = {name: _nanmean(v, axis=0) if v.ndim == 2 else v for name, v in values.items()}
    updates = len(next(iter(values.values())))
    every = every or max(1, updates // 10)
    header = ["update"] + (["env steps"] if env_steps_per_update else []) + columns
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for index in range(every - 1, updates, every):
        window = slice(index + 1 - every, index + 1)
        row = [str(index + 1)] + ([str((index + 1) * env_steps_per_update)] if env_steps_per_update else [])
        for name in columns:
            chunk = values[name][window]
            row.append(f"{_nanmean(chunk):.4g}" if np.isfinite(chunk).any() else "-")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def plot_metrics(
    metrics: Mapping[str, Any],
    name: str = "episode_return",
    env_steps_per_update: int | None = None,
    ax: Any = None,
    label: str | None = None,
) -> Any:
    """Plot one metric over training; with several seeds, one thin line each and their mean.

    Returns the matplotlib axes (matplotlib is imported here, not by the library).
    """
    import matplotlib.pyplot as plt

    values = np.asarray(metrics[name], np.float64)
    values = values[None] if values.ndim == 1 else values
    x = np.arange(1, values.shape[1] + 1) * (env_steps_per_update or 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    if values.shape[0] > 1:
        for seed_values in values:
            ax.plot(x, seed_values, color="tab:blue", alpha=0.2, linewidth=0.8)
    ax.plot(
        x,
        _nanmean(values, axis=0),
        color="tab:blue",
        linewidth=2,
        label=label or (f"mean of {values.shape[0]} seeds" if values.shape[0] > 1 else name),
    )
    ax.set_xlabel("environment steps" if env_steps_per_update else "update")
    ax.set_ylabel(name.replace("_", " "))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def last_episodes_return(metrics: Mapping[str, Any], count: int = 20) -> np.ndarray:
    """The mean return of the last ``count`` episodes of a compiled run, per seed.

    The compiled trainer reports, per update, the mean return of the episodes that ended in it
    (``episode_return``) and how many did (``episodes``); going back from the last update, whole
    updates are taken until ``count`` episodes are covered (an update's episodes are not split, so
    a few more may be counted). The host loop's figure is ``mean(agent.episode_returns[-count:])``.

    Args:
        metrics: ``trainer.train``'s or ``make_train``'s metrics, shaped ``(updates,)`` or
            ``(seeds, updates)``.
        count: how many of the last episodes to average.

    Returns:
        ``()`` or ``(seeds,)``: the mean return (nan when no episode ended).
    """
    returns = np.asarray(metrics["episode_return"], np.float64)
    episodes = np.asarray(metrics["episodes"], np.float64)
    if returns.shape != episodes.shape:
        raise ValueError(
            f"metrics['episode_return'] has shape {returns.shape} but metrics['episodes'] {episodes.shape}"
        )
    flat_returns = returns.reshape(-1, returns.shape[-1])[:, ::-1]
    flat_episodes = episodes.reshape(-1, episodes.shape[-1])[:, ::-1]
    means = []
    for seed_returns, seed_episodes in zip(flat_returns, flat_episodes):
        covered = np.cumsum(seed_episodes)
        taken = np.arange(len(covered)) <= np.searchsorted(covered, count)
        weights = np.where(taken & (seed_episodes > 0), seed_episodes, 0.0)
        total = weights.sum()
        means.append(np.nansum(np.where(weights > 0, seed_returns, 0.0) * weights) / total if total else np.nan)
    return np.asarray(means).reshape(returns.shape[:-1])
