"""Does sharing a trunk between policy and value pay? Shared and separate models side by side, many seeds.

stable-baselines3 dropped shared networks for its on-policy agents (DLR-RM/stable-baselines3#1161),
asking for evidence that sharing helps. Here each task is trained with a SHARED model (one trunk, the
heads on top of it) and with SEPARATE models of the same layers, ``--seeds`` seeds each (the same keys
for both), the seeds vmapped in one compiled call per variant (``jax.jit(jax.vmap(trainer.make_train()))``,
compiled with ``.lower(keys).compile()`` and timed apart from the run), one job at a time.

Tasks (``--tasks``, all by default; benchmarks/sharing_tasks.py builds them):
- ``cartpole_ppo``: gymnax CartPole-v1, PPO, examples/compiled_cartpole.py's ``make_trainer`` (500k env steps);
- ``pendulum_ppo``: gymnax Pendulum-v1, PPO, examples/compiled_pendulum.py's (the seed's SharedModel,
  or a Gaussian and a value model with its layers; 401k env steps);
- ``pendulum_sac``: gymnax Pendulum-v1, SAC, examples/sac_pendulum.py's ``make_compiled_trainer`` (twin
  critics on one trunk, or four separate critics; 50k env steps);
- ``breakout_minatar_ppo``: gymnax Breakout-MinAtar, PPO with a small CNN (conv 16 3x3, dense 128),
  PureJaxRL-like MinAtar settings (32 envs x 128 steps, lr 5e-4 annealed), 999,424 env steps, return bar 2.5;
  its seeds run one after another through one compiled program (8 vmapped seeds of the separate CNNs hung
  in XLA's CPU runtime, see sharing_tasks.py);
- ``brax``: not implemented here, printed as skipped with the reason.

Per task and variant: the number of trained parameters (targets excluded); env steps/s of the vmapped
run (all seeds' env steps / run seconds, compile excluded) and compile seconds; time to the task's return
bar (per seed, the first env step at which the mean return of its last 20 finished episodes reaches the
bar: the median over seeds, a seed that never does counting as never; and what that median is in wall
seconds of the vmapped run, median steps / the per-seed env steps/s); the final return (each seed's mean return of its last
20 episodes, ``last_episodes_return``): mean, worst and t-based 95% interval of the mean; and Welch's t-test
p-value of shared against separate on the final return. Learning curves (the last-20-episode return against
env steps, mean over seeds with a t-based 95% band), one panel per task: benchmarks/figures/does_sharing_pay.png.

Each finished task and variant is cached (per-seed figures and curves) in
benchmarks/results/does_sharing_pay_runs.json and not trained again for the same seeds, budget and settings
line (``Task.settings``; ``--rerun`` trains it again), so an interrupted run resumes; ``--report-only``
redraws the table and figure from that cache. The table, the JSON and the figure cover every task with
cached runs for ``--seeds`` and ``--timesteps-scale``, whatever ``--tasks`` trains. A run with
``--timesteps-scale`` other than 1 (a smoke test) writes does_sharing_pay_scale<scale>.json and its figure
under benchmarks/results/ instead.

The figures are written to benchmarks/results/does_sharing_pay.json (kept in git: docs/sharing.md's table is
printed from it). A run ends with every figure (``format_table``) and then the page's table (``table``: per
task and variant the parameters, env steps/s, env steps and seconds to the bar with the seeds that reach it,
the final return's mean, worst and interval, Welch's p; its last row the seeds, commit and date), read back
from that file; ``--table`` prints the page's table from the file alone, training nothing (with
``--timesteps-scale``, from that scale's file).

Run: python benchmarks/does_sharing_pay.py [--seeds 8] [--tasks cartpole_ppo pendulum_ppo pendulum_sac
     breakout_minatar_ppo brax] [--timesteps-scale 1] [--report-only] [--rerun] [--table]
Smoke test: python benchmarks/does_sharing_pay.py --seeds 2 --timesteps-scale 0.02
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

import jax
import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import RESULTS, read_results, write_results  # noqa: E402
from sharing_tasks import SKIPPED, TASKS, Task  # noqa: E402

from skrl_jax.trainers import CompiledTrainer, last_episodes_return  # noqa: E402

NAME = "does_sharing_pay"
WINDOW = 20  # episodes in the final return and in the curves
CURVE_POINTS = 200  # points kept per learning curve
VARIANTS = ("shared", "separate")
RUNS_FILE = RESULTS / f"{NAME}_runs.json"
FIGURE = HERE / "figures" / f"{NAME}.png"
INTERVAL = "t-based 95% interval of the mean"


# --- measures -----------------------------------------------------------------------------------


def parameter_count(trainer: CompiledTrainer) -> int:
    """The parameters the agent trains: every model the learner holds (one tree per model instance, so a
    shared model counts once), target copies excluded."""
    params = jax.eval_shape(trainer.init, jax.random.key(0)).agent_state.learner.params
    trained = {name: tree for name, tree in params.items() if not name.startswith("target_")}
    return int(sum(math.prod(leaf.shape) for leaf in jax.tree.leaves(trained)))


def env_steps_per_update(trainer: CompiledTrainer) -> int:
    return trainer.update_interval * trainer.num_envs


def rolling_return(metrics: Mapping, count: int = WINDOW) -> np.ndarray:
    """Per seed and update: the mean return of the last ``count`` finished episodes, taking whole updates
    back from that one as ``last_episodes_return`` does; nan until ``count`` episodes have finished."""
    returns = np.asarray(metrics["episode_return"], np.float64)
    episodes = np.asarray(metrics["episodes"], np.float64)
    returns, episodes = np.atleast_2d(returns), np.atleast_2d(episodes)
    out = np.full(returns.shape, np.nan)
    for seed, (seed_returns, seed_episodes) in enumerate(zip(returns, episodes)):
        weighted = np.where(seed_episodes > 0, np.nan_to_num(seed_returns) * seed_episodes, 0.0)
        total = np.concatenate([[0.0], np.cumsum(weighted)])
        counted = np.concatenate([[0.0], np.cumsum(seed_episodes)])
        # the window of update i is updates j..i, j the last index with counted[j] <= counted[i + 1] - count
        start = np.searchsorted(counted, counted[1:] - count, side="right") - 1
        start = np.clip(start, 0, None)
        ready = counted[1:] >= count
        with np.errstate(invalid="ignore", divide="ignore"):
            means = (total[1:] - total[start]) / (counted[1:] - counted[start])
        out[seed] = np.where(ready, means, np.nan)
    return out


def steps_to_threshold(rolling: np.ndarray, steps_per_update: int, threshold: float) -> list[float | None]:
    """Per seed: env steps at the end of the first update whose rolling return reaches ``threshold``."""
    found = []
    for seed_curve in rolling:
        reached = np.nonzero(np.nan_to_num(seed_curve, nan=-np.inf) >= threshold)[0]
        found.append(float((reached[0] + 1) * steps_per_update) if reached.size else None)
    return found


def interval95(values) -> tuple[float, float]:
    """t-based 95% interval of the mean (nan for fewer than 2 values)."""
    values = np.asarray(values, np.float64)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    half = float(stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / np.sqrt(n))
    return float(values.mean() - half), float(values.mean() + half)


def welch_p(a, b) -> float:
    """Welch's t-test p-value (nan when it is undefined, e.g. both samples constant)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def median_steps(per_seed: list[float | None]) -> float:
    """Median over all seeds; a seed that never reached the bar counts as never (inf)."""
    return float(np.median([np.inf if s is None else s for s in per_seed]))


# --- one run ----------------------------------------------------------------------------------------


def run_variant(task: Task, variant: str, seeds: int, timesteps: int, trainer: CompiledTrainer | None = None) -> dict:
    """Train ``seeds`` seeds of one task and variant in one vmapped compiled call; the record the table,
    the figure and the cache use. ``trainer`` (optional) is ``task.build(timesteps, variant == "shared")``."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    trainer = trainer if trainer is not None else task.build(timesteps, variant == "shared")
    keys = jax.random.split(jax.random.key(0), seeds)
    names = ("episode_return", "episodes", "params_finite")
    start = time.perf_counter()
    if task.vmap_seeds:
        executable = jax.jit(jax.vmap(trainer.make_train())).lower(keys).compile()
    else:
        executable = jax.jit(trainer.make_train()).lower(keys[0]).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    if task.vmap_seeds:
        _, metrics = jax.block_until_ready(executable(keys))
        metrics = {name: np.asarray(metrics[name]) for name in names}
    else:  # one compiled program, the seeds one after another
        runs = [jax.block_until_ready(executable(key))[1] for key in keys]
        metrics = {name: np.stack([np.asarray(run[name]) for run in runs]) for name in names}
    run_seconds = time.perf_counter() - start

    per_update = env_steps_per_update(trainer)
    env_steps = trainer.num_updates * per_update
    finals = np.asarray(last_episodes_return(metrics, WINDOW), np.float64)
    rolling = rolling_return(metrics, WINDOW)
    # once WINDOW episodes have ended, the curve's last point is the final return (rolling_return's check)
    ready = np.isfinite(rolling[:, -1])
    np.testing.assert_allclose(rolling[ready, -1], finals[ready], rtol=1e-6)
    points = np.unique(np.linspace(0, trainer.num_updates - 1, min(CURVE_POINTS, trainer.num_updates)).round())
    points = points.astype(int)
    return {
        "task": task.name,
        "variant": variant,
        "label": task.labels[variant],
        "settings": task.settings,
        "seeds": seeds,
        "timesteps": timesteps,
        "env_steps": env_steps,
        "env_steps_per_update": per_update,
        "parameters": parameter_count(trainer),
        "compile_seconds": compile_seconds,
        "run_seconds": run_seconds,
        "env_steps_per_second": seeds * env_steps / run_seconds,
        "seeds_vmapped": task.vmap_seeds,
        "threshold": task.threshold,
        "params_finite": bool(metrics["params_finite"].all()),
        "final": [None if not np.isfinite(v) else float(v) for v in finals],
        "steps_to_threshold": steps_to_threshold(rolling, per_update, task.threshold),
        "curve": {
            "env_steps": ((points + 1) * per_update).tolist(),
            "per_seed": [
                [None if not np.isfinite(v) else round(float(v), 3) for v in row] for row in rolling[:, points]
            ],
        },
    }


def summarize(record: dict) -> dict:
    finals = np.array([np.nan if v is None else v for v in record["final"]], np.float64)
    median = median_steps(record["steps_to_threshold"])
    # the wall-clock rate of one seed: vmapped seeds advance together, sequential ones one at a time
    vmapped = record.get("seeds_vmapped", True)
    per_seed_rate = record["env_steps_per_second"] / record["seeds"] if vmapped else record["env_steps_per_second"]
    low, high = interval95(finals)
    return {
        "parameters": record["parameters"],
        "env_steps_per_second": record["env_steps_per_second"],
        "compile_seconds": record["compile_seconds"],
        "run_seconds": record["run_seconds"],
        "seeds_reached": sum(s is not None for s in record["steps_to_threshold"]),
        "median_steps_to_threshold": median if np.isfinite(median) else None,
        "seconds_to_threshold": median / per_seed_rate if np.isfinite(median) else None,
        "final_mean": float(np.mean(finals)),
        "final_worst": float(np.min(finals)),
        "final_ci95": [low, high],
        "final_per_seed": [round(float(v), 1) for v in finals],
    }


# --- report -----------------------------------------------------------------------------------------


def _number(value, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}"


def format_table(records: Mapping[tuple[str, str], dict]) -> str:
    """A Markdown table, one row per (task, variant) record; Welch's p on each task's separate row."""
    header = [
        "task",
        "variant",
        "env steps per seed x seeds",
        "parameters",
        "env steps/s",
        "compile s",
        "run s",
        "return bar",
        "seeds at bar",
        "median env steps to bar",
        "s to bar (wall)",
        f"final return (last {WINDOW} episodes): mean",
        "worst",
        "95% interval (t)",
        "Welch p, shared vs separate",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for (task_name, variant), record in records.items():
        row = summarize(record)
        other = records.get((task_name, "shared"))
        p = None
        if variant == "separate" and other is not None:
            p = welch_p(record["final"], other["final"])
        low, high = row["final_ci95"]
        lines.append(
            "| "
            + " | ".join(
                [
                    task_name,
                    variant,
                    f"{record['env_steps']:,} x {record['seeds']}",
                    f"{row['parameters']:,}",
                    _number(row["env_steps_per_second"], 0),
                    _number(row["compile_seconds"]),
                    _number(row["run_seconds"]),
                    f"{record['threshold']:g}",
                    f"{row['seeds_reached']}/{record['seeds']}",
                    _number(row["median_steps_to_threshold"], 0),
                    _number(row["seconds_to_threshold"]),
                    _number(row["final_mean"]),
                    _number(row["final_worst"]),
                    f"[{_number(low)}, {_number(high)}]",
                    "" if variant == "shared" else _number(p, 3),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def table(result: dict) -> list[str]:
    """The rows of a results record (what ``main`` wrote with ``write_results``): per task and variant the
    trained parameters, env steps/s (the faster variant's in bold), the median env steps to the bar with its
    wall seconds and the seeds that reach it, the final return's mean, worst seed and interval, and Welch's p
    on the separate row; a row per skipped task; the last row the seeds, commit and date."""
    lines = [
        "| task (settings) | variant | parameters | env steps/s | env steps to bar (s); seeds at bar "
        f"| final return (last {result['window']} episodes): mean | worst | 95% interval | Welch p |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    seeds = result["seeds"]
    for name, entry in result["tasks"].items():
        variants = [variant for variant in VARIANTS if variant in entry]
        fastest = max(variants, key=lambda v: entry[v]["env_steps_per_second"]) if len(variants) > 1 else None
        task_cell = (
            f"{entry.get('title', name)}: {entry['settings']}; {entry['env_steps']:,} env steps per seed, "
            f"bar {entry['threshold']:g}"
        )
        for index, variant in enumerate(variants):
            row = entry[variant]
            speed = _number(row["env_steps_per_second"], 0)
            if variant == fastest:
                speed = f"**{speed}**"
            steps, seconds = row["median_steps_to_threshold"], row["seconds_to_threshold"]
            to_bar = "median not reached" if steps is None else f"{steps:,.0f} ({seconds:.1f} s)"
            low, high = row["final_ci95"]
            p = entry.get("welch_p_final") if variant == "separate" else None
            cells = [
                task_cell if index == 0 else "",
                f"{variant} ({row['label']})",
                f"{row['parameters']:,}",
                speed,
                f"{to_bar}; {row['seeds_reached']}/{seeds}",
                _number(row["final_mean"]),
                _number(row["final_worst"]),
                f"[{_number(low)}, {_number(high)}]",
                "" if p is None else ("-" if not np.isfinite(p) else f"{p:.2g}"),
            ]
            lines.append("| " + " | ".join(cells) + " |")
    for name in result.get("skipped", {}):
        lines.append(f"| {name} | skipped | | | | | | | |")
    scale = result.get("timesteps_scale", 1)
    lines.append(
        f"| {seeds} seeds per variant, the same keys for both"
        + ("" if scale == 1 else f", budgets scaled by {scale:g} (smoke test)")
        + f"; final return: {result['interval']} | commit {result['commit']} | {result['date'][:10]} | | | | | | |"
    )
    return lines


def curve_band(record: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(env steps, mean, low, high) over the seeds, t-based 95% band, where every seed has a value."""
    steps = np.asarray(record["curve"]["env_steps"], np.float64)
    values = np.array([[np.nan if v is None else v for v in row] for row in record["curve"]["per_seed"]], np.float64)
    keep = np.isfinite(values).all(axis=0)
    steps, values = steps[keep], values[:, keep]
    mean = values.mean(axis=0)
    n = len(values)
    half = stats.t.ppf(0.975, n - 1) * values.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(mean)
    return steps, mean, mean - half, mean + half


def plot_task(ax, task: Task, records: Mapping[tuple[str, str], dict]) -> None:
    """One panel: the shared and separate learning curves of ``task`` with their bands and the bar."""
    colors = {"shared": "tab:blue", "separate": "tab:orange"}
    budget = None
    for variant in VARIANTS:
        record = records.get((task.name, variant))
        if record is None:
            continue
        budget = f"{record['seeds']} seeds"
        steps, mean, low, high = curve_band(record)
        marker = "o" if len(steps) < 5 else None  # a smoke test's curve of one or two points still shows
        ax.plot(steps, mean, color=colors[variant], marker=marker, label=f"{variant}: {record['label']}")
        ax.fill_between(steps, low, high, color=colors[variant], alpha=0.2)
    ax.axhline(task.threshold, color="grey", linestyle=":", linewidth=1)
    ax.set_title(f"{task.title}" + (f" ({budget})" if budget else ""))
    ax.set_xlabel("env steps per seed")
    ax.set_ylabel(f"return, last {WINDOW} episodes")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="lower right")


def plot(records: Mapping[tuple[str, str], dict], task_names: list[str], path: Path | None = None):
    """Every task's panel in one figure; saved to ``path`` when given. Returns the figure."""
    import matplotlib.pyplot as plt

    names = [name for name in task_names if any((name, v) in records for v in VARIANTS)]
    columns = min(2, max(1, len(names)))
    rows = max(1, math.ceil(len(names) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 4.2 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        plot_task(ax, TASKS[name], records)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"Shared vs separate trunks: mean over seeds, {INTERVAL} as the band")
    fig.tight_layout()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=120)
        print(f"written: {path}")
    return fig


# --- cache ------------------------------------------------------------------------------------------


def cache_key(task_name: str, variant: str, seeds: int, timesteps: int) -> str:
    return f"{task_name}|{variant}|seeds={seeds}|timesteps={timesteps}"


def load_runs(path: Path = RUNS_FILE) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def save_runs(runs: dict, path: Path = RUNS_FILE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(runs))
    os.replace(temporary, path)  # a crash mid-write leaves the previous cache whole


# --- main -------------------------------------------------------------------------------------------


def results_name(scale: float) -> str:
    return NAME if scale == 1 else f"{NAME}_scale{scale:g}"


def cached_record(runs: dict, task: Task, variant: str, seeds: int, timesteps: int) -> dict | None:
    """The cached run of this task, variant, seeds and budget, if it was trained with the task's settings."""
    record = runs.get(cache_key(task.name, variant, seeds, timesteps))
    return record if record is not None and record["settings"] == task.settings else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--tasks", nargs="+", default=[*TASKS, *SKIPPED], choices=[*TASKS, *SKIPPED])
    parser.add_argument("--timesteps-scale", type=float, default=1.0, help="shrink every budget (smoke tests)")
    parser.add_argument("--report-only", action="store_true", help="table and figure from the cache, no training")
    parser.add_argument("--rerun", action="store_true", help="train again what the cache holds")
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results(results_name(args.timesteps_scale)))))
        return

    print(f"jax {jax.__version__} on {jax.devices()}; {args.seeds} seeds per variant, scale {args.timesteps_scale:g}")
    runs = load_runs()
    started = time.perf_counter()
    for name in [] if args.report_only else args.tasks:
        if name in SKIPPED:
            print(f"{name}: skipped: {SKIPPED[name]}", flush=True)
            continue
        task = TASKS[name]
        timesteps = task.scaled_timesteps(args.timesteps_scale)
        for variant in VARIANTS:
            if not args.rerun and cached_record(runs, task, variant, args.seeds, timesteps) is not None:
                print(f"{name} / {variant}: cached", flush=True)
                continue
            print(
                f"{name} / {variant} ({task.labels[variant]}): {args.seeds} seeds x {timesteps:,} timesteps, "
                f"compiling and training ... (elapsed {time.perf_counter() - started:.0f} s)",
                flush=True,
            )
            record = run_variant(task, variant, args.seeds, timesteps)
            row = summarize(record)
            print(
                f"  {record['env_steps']:,} env steps per seed; compile {record['compile_seconds']:.1f} s, run "
                f"{record['run_seconds']:.1f} s, {record['env_steps_per_second']:,.0f} env steps/s; final return mean "
                f"{row['final_mean']:.1f}, worst {row['final_worst']:.1f}; {row['seeds_reached']}/{args.seeds} "
                f"seeds at {task.threshold:g}",
                flush=True,
            )
            if not record["params_finite"]:
                print("  WARNING: non-finite parameters in some seed", flush=True)
            runs[cache_key(name, variant, args.seeds, timesteps)] = record
            save_runs(runs)

    # the report covers every task with cached runs for these seeds and this scale, not only this call's
    # --tasks, so that a call that adds or reruns one task keeps the JSON and the figure whole
    records: dict[tuple[str, str], dict] = {}
    for name, task in TASKS.items():
        for variant in VARIANTS:
            record = cached_record(runs, task, variant, args.seeds, task.scaled_timesteps(args.timesteps_scale))
            if record is not None:
                records[(name, variant)] = record
            elif args.report_only:
                print(f"{name} / {variant}: no cached run for {args.seeds} seeds at this scale", flush=True)
    if not records:
        print("nothing to report")
        return
    every_figure = format_table(records)
    print(f"\nShared vs separate, {args.seeds} seeds per variant (final return: {INTERVAL})\n{every_figure}")
    for name in dict.fromkeys(task for task, _ in records):
        print(f"- {name}: {TASKS[name].settings}")
    for name, reason in SKIPPED.items():
        print(f"- {name}: skipped: {reason}")
    figures = {
        "seeds": args.seeds,
        "timesteps_scale": args.timesteps_scale,
        "window": WINDOW,
        "interval": INTERVAL,
        "table": every_figure,
        "skipped": dict(SKIPPED),
        "tasks": {},
    }
    for (name, variant), record in records.items():
        entry = figures["tasks"].setdefault(
            name,
            {
                "title": TASKS[name].title,
                "settings": record["settings"],
                "threshold": record["threshold"],
                "env_steps": record["env_steps"],
            },
        )
        entry[variant] = {"label": record["label"], **summarize(record)}
        if variant == "separate" and (name, "shared") in records:
            entry["welch_p_final"] = welch_p(record["final"], records[(name, "shared")]["final"])
    write_results(results_name(args.timesteps_scale), figures)
    print("\nThe table of docs/sharing.md (--table prints it again from the results file):")
    print("\n".join(table(read_results(results_name(args.timesteps_scale)))))
    figure_path = FIGURE if args.timesteps_scale == 1 else RESULTS / f"{results_name(args.timesteps_scale)}.png"
    plot(records, list(TASKS), figure_path)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    main()
