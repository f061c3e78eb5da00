"""Learning parity: skrl 1.4.3 PyTorch PPO against skrl_jax's port of the same two scripts, over many seeds.

Tasks (``--tasks``), both gymnasium, host loop, 4 envs (``gym.make_vec(..., vectorization_mode="sync")``):
- ``pendulum``: skrl's Pendulum-v1 PPO example, line for line (``mixed_precision=True``: bf16 on
  both sides), 50,000 trainer timesteps = 200,000 env steps;
- ``cartpole``: CartPole-v1 with benchmarks/skrl_cartpole_ppo.py's settings (skrl's Isaac Lab cartpole
  PPO cfg), 25,000 trainer timesteps = 100,000 env steps.
skrl's side is benchmarks/peers/skrl_torch_ppo.py, run with the python named by SKRL_TORCH_PYTHON
(skipped with a note when unset); ours is benchmarks/skrl_parity_ports.py, in ``--variants``
(see that file): ``shipped``, ``skrl`` (PyTorch init + in-order minibatches), ``pytorch-init``, ``ordered``.
Every run is a subprocess of its own, one at a time; seeds 0 .. --seeds - 1.

Each finished run (library, task, variant, seed, env steps, skrl_jax source) is appended to
benchmarks/results/skrl_parity_runs.jsonl with every episode's return and end step; a run found
there is not run again, so an interrupted benchmark resumes. Then, per task, a table of the final
figure (mean return of the last 20 episodes) over seeds: mean, median, worst, best, t-based 95%
interval of the mean, seeds >= the bar (CartPole 475, Pendulum -200), median env steps/s of the
training call (ours includes jit compilation); written to benchmarks/results/skrl_parity.json, with
the learning curves (rolling 20-episode return against env steps, interpolated on a common grid,
mean over seeds and t-based 95% band) drawn in benchmarks/figures/skrl_parity.png (docs/porting.md's
figure). The tables, JSON and figure cover every (task, library / variant) with runs in the cache for
the chosen skrl_jax source and run length, seeds below --seeds; --tasks / --variants / --skip-torch
only choose what is run. docs/porting.md's rows need every variant: ``--variants shipped skrl
pytorch-init ordered`` (the default runs ``shipped skrl``). A whole run takes 1-2 h on a 2-core CPU.

Run: SKRL_TORCH_PYTHON=/work/benchvenv/bin/python python benchmarks/skrl_parity.py [--seeds 10]
     [--tasks cartpole pendulum] [--variants shipped skrl pytorch-init ordered] [--skip-torch]
     [--report-only] [--skrl-jax-rev REV] [--timesteps-scale 1.0]
"""

import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import RESULTS, write_results  # noqa: E402

TASKS = {
    "cartpole": {"title": "CartPole-v1", "timesteps": 25_000, "bar": 475.0, "milestone": 300.0},
    "pendulum": {"title": "Pendulum-v1", "timesteps": 50_000, "bar": -200.0, "milestone": -250.0},
}
VARIANTS = ("shipped", "skrl", "pytorch-init", "ordered")
TORCH = ("skrl-torch", "-")  # (library, variant) of skrl's own runs
NUM_ENVS = 4
WINDOW = 20
RUNS_FILE = RESULTS / "skrl_parity_runs.jsonl"
LABELS = {
    ("skrl-torch", "-"): "skrl 1.4.3 PyTorch",
    ("skrl_jax", "shipped"): "skrl_jax, shipped (flax init, shuffled)",
    ("skrl_jax", "skrl"): "skrl_jax, skrl (pytorch init, in order)",
    ("skrl_jax", "pytorch-init"): "skrl_jax, pytorch init, shuffled",
    ("skrl_jax", "ordered"): "skrl_jax, flax init, in order",
}


def run_key(run: dict) -> tuple:
    """(library, task, variant, seed, env steps, skrl_jax source: a commit, "working tree", or "-" for skrl)."""
    source = run.get("skrl_jax_source", "-") if run["library"] == "skrl_jax" else "-"
    return run["library"], run["task"], run.get("variant", "-"), run["seed"], run["env_steps"], source


def load_runs() -> dict:
    runs = {}
    if RUNS_FILE.exists():
        for line in RUNS_FILE.read_text().splitlines():
            if line.strip():
                run = json.loads(line)
                runs[run_key(run)] = run
    return runs


def resolve(rev: str) -> str:
    return subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
    ).stdout.strip()


def snapshot(commit: str) -> tuple[Path, str]:
    """skrl_jax's source at git commit ``commit``, extracted to a temporary directory (for PYTHONPATH)."""
    target = Path(tempfile.mkdtemp(prefix="skrl_parity_"))
    atexit.register(shutil.rmtree, target, True)
    archive = subprocess.run(["git", "archive", commit, "skrl_jax"], capture_output=True, check=True, cwd=HERE.parent)
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target, commit


def run_one(
    library: str, task: str, variant: str, seed: int, timesteps: int, source: tuple[Path, str] | None
) -> dict | None:
    env = dict(os.environ)
    if library == "skrl-torch":
        command = [os.environ["SKRL_TORCH_PYTHON"], str(HERE / "peers" / "skrl_torch_ppo.py")]
    else:
        command = [sys.executable, str(HERE / "skrl_parity_ports.py"), "--variant", variant]
        if source is not None:  # skrl_jax imported from the snapshot, ahead of the installed (editable) one
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source[0]), env.get("PYTHONPATH")]))
    command += ["--task", task, "--seed", str(seed), "--timesteps", str(timesteps)]
    start = time.perf_counter()
    output = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent, env=env)
    lines = [line for line in output.stdout.splitlines() if line.startswith("RESULT ")]
    if output.returncode or not lines:
        print(f"  failed ({output.returncode}): {output.stderr[-2000:]}", flush=True)
        return None
    run = json.loads(lines[-1][len("RESULT ") :])
    run.setdefault("variant", variant)
    if library != "skrl-torch":
        run["skrl_jax_source"] = source[1] if source is not None else "working tree"
    run["process_seconds"] = time.perf_counter() - start
    return run


def summarize(runs: list[dict], bar: float) -> dict:
    finals = np.array([r["last20"] for r in runs], np.float64)
    n = len(finals)
    mean = float(finals.mean())
    if n > 1:
        half = float(stats.t.ppf(0.975, n - 1) * finals.std(ddof=1) / np.sqrt(n))
    else:
        half = float("nan")
    return {
        "n": n,
        "mean": mean,
        "median": float(np.median(finals)),
        "worst": float(finals.min()),
        "best": float(finals.max()),
        "ci95": [mean - half, mean + half],
        "seeds_at_bar": int((finals >= bar).sum()),
        "env_steps_per_second": float(np.median([r["env_steps"] / r["seconds"] for r in runs])),
        "seconds_median": float(np.median([r["seconds"] for r in runs])),
        "per_seed": {str(r["seed"]): round(float(r["last20"]), 2) for r in runs},
    }


def first_reach(run: dict, level: float) -> float:
    """Env steps when the rolling mean of WINDOW episode returns first reached ``level`` (nan: never)."""
    rolling = np.convolve(np.asarray(run["episode_returns"], np.float64), np.ones(WINDOW) / WINDOW, mode="valid")
    reached = np.nonzero(rolling >= level)[0]
    return float(run["episode_end_steps"][WINDOW - 1 + reached[0]]) if reached.size else float("nan")


def how_they_got_there(runs: list[dict], reference: list[dict] | None, milestone: float) -> dict:
    """Per-seed figures of the whole run, and Welch's t-test against skrl's runs (``reference``)."""
    first = np.array([np.mean(r["episode_returns"][:WINDOW]) for r in runs])
    whole = np.array([np.mean(r["episode_returns"]) for r in runs])
    last = np.array([r["last20"] for r in runs])
    reach = np.array([first_reach(r, milestone) for r in runs])
    figures = {
        "first20_mean": float(first.mean()),
        "all_episodes_mean": float(whole.mean()),
        "milestone_reached": f"{int(np.isfinite(reach).sum())}/{len(runs)}",
        "milestone_median_env_steps": float(np.nanmedian(reach)) if np.isfinite(reach).any() else float("nan"),
    }
    if reference is not None:
        other_whole = [np.mean(r["episode_returns"]) for r in reference]
        other_last = [r["last20"] for r in reference]
        figures["welch_p_all_episodes"] = float(stats.ttest_ind(whole, other_whole, equal_var=False).pvalue)
        figures["welch_p_last20"] = float(stats.ttest_ind(last, other_last, equal_var=False).pvalue)
    return figures


def rolling_curve(run: dict, grid: np.ndarray) -> np.ndarray:
    returns = np.asarray(run["episode_returns"], np.float64)
    ends = np.asarray(run["episode_end_steps"], np.float64)
    rolling = np.convolve(returns, np.ones(WINDOW) / WINDOW, mode="valid")
    return np.interp(grid, ends[WINDOW - 1 :], rolling)  # constant before the first / after the last window


def curves(runs: list[dict], env_steps: int, points: int = 200) -> dict:
    start = max(r["episode_end_steps"][WINDOW - 1] for r in runs)
    grid = np.linspace(start, env_steps, points)
    values = np.stack([rolling_curve(r, grid) for r in runs])
    mean = values.mean(0)
    n = len(runs)
    half = stats.t.ppf(0.975, n - 1) * values.std(0, ddof=1) / np.sqrt(n) if n > 1 else np.zeros_like(mean)
    return {
        "env_steps": grid.tolist(),
        "mean": mean.tolist(),
        "low": (mean - half).tolist(),
        "high": (mean + half).tolist(),
    }


def table(task: str, summaries: dict, env_steps: int) -> None:
    spec = TASKS[task]
    print(
        f"\n{spec['title']}, {env_steps:,} env steps: mean return of the last {WINDOW} episodes\n"
        f"| library / variant | n | mean | median | worst | best | 95% interval of the mean | seeds >= {spec['bar']:g} "
        "| env steps/s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for (library, variant), s in summaries.items():
        print(
            f"| {LABELS[(library, variant)]} | {s['n']} | {s['mean']:.1f} | {s['median']:.1f} | {s['worst']:.1f} | "
            f"{s['best']:.1f} | [{s['ci95'][0]:.1f}, {s['ci95'][1]:.1f}] | {s['seeds_at_bar']}/{s['n']} | "
            f"{s['env_steps_per_second']:,.0f} |"
        )


def course_table(task: str, courses: dict) -> None:
    spec = TASKS[task]
    print(
        f"\n{spec['title']}: how the runs got there (mean over seeds; p: Welch's t-test against skrl PyTorch)\n"
        f"| library / variant | first {WINDOW} episodes | all episodes | rolling {WINDOW} reached {spec['milestone']:g} "
        f"| median env steps to it | p, all episodes | p, last {WINDOW} |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    for (library, variant), c in courses.items():
        p_all, p_last = c.get("welch_p_all_episodes"), c.get("welch_p_last20")
        print(
            f"| {LABELS[(library, variant)]} | {c['first20_mean']:.1f} | {c['all_episodes_mean']:.1f} | "
            f"{c['milestone_reached']} | {c['milestone_median_env_steps']:,.0f} | "
            f"{'-' if p_all is None else f'{p_all:.2f}'} | {'-' if p_last is None else f'{p_last:.3f}'} |"
        )


def plot(figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    for ax, task in zip(axes, ("cartpole", "pendulum")):
        spec = TASKS[task]
        ax.set_title(f"{spec['title']} PPO, 4 envs")
        ax.set_xlabel("env steps")
        ax.set_ylabel(f"return, rolling mean of {WINDOW} episodes")
        ax.axhline(spec["bar"], color="grey", linestyle=":", linewidth=1)
        for name, row in figures.get(task, {}).items():
            curve = row["curve"]
            line = ax.plot(curve["env_steps"], curve["mean"], label=f"{name} (n={row['summary']['n']})")[0]
            ax.fill_between(curve["env_steps"], curve["low"], curve["high"], color=line.get_color(), alpha=0.2)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("skrl 1.4.3 PyTorch vs skrl_jax: mean over seeds, 95% band (t)")
    fig.tight_layout()
    path.parent.mkdir(exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"written: {path}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--variants", nargs="+", default=["shipped", "skrl"], choices=VARIANTS)
    parser.add_argument("--skip-torch", action="store_true", help="our side only")
    parser.add_argument("--report-only", action="store_true", help="tables and plot from the cache, no runs")
    parser.add_argument(
        "--skrl-jax-rev",
        default=None,
        help="run our side on skrl_jax as committed at this git revision (e.g. HEAD), not the working tree",
    )
    parser.add_argument("--timesteps-scale", type=float, default=1.0, help="for quick checks: scale every run's length")
    args = parser.parse_args()

    torch_python = os.environ.get("SKRL_TORCH_PYTHON")
    rows = []
    if not args.skip_torch:
        if torch_python:
            rows.append(TORCH)
        else:
            print("skrl 1.4.3 PyTorch: SKRL_TORCH_PYTHON is not set, skipped")
    rows += [("skrl_jax", variant) for variant in args.variants]

    RESULTS.mkdir(exist_ok=True)
    cache = load_runs()
    commit = resolve(args.skrl_jax_rev) if args.skrl_jax_rev else None
    source = snapshot(commit) if commit and not args.report_only else None
    if source is not None:
        print(f"skrl_jax from commit {commit} (snapshot in {source[0]})")
    our_source = commit or "working tree"
    benchmark_start = time.perf_counter()
    if not args.report_only:
        # seeds outermost, so that an interrupted benchmark has its rows on equal footing
        for seed in range(args.seeds):
            for task in args.tasks:
                timesteps = int(TASKS[task]["timesteps"] * args.timesteps_scale)
                for library, variant in rows:
                    key = (
                        library,
                        task,
                        variant,
                        seed,
                        timesteps * NUM_ENVS,
                        our_source if library == "skrl_jax" else "-",
                    )
                    if key in cache:
                        continue
                    print(f"{LABELS[(library, variant)]}, {task}, seed {seed} ...", flush=True)
                    run = run_one(library, task, variant, seed, timesteps, source)
                    if run is None:
                        continue
                    print(
                        f"  last20 {run['last20']:.1f}, {run['episodes']} episodes, train {run['seconds']:.1f} s "
                        f"(process {run['process_seconds']:.1f} s; elapsed {time.perf_counter() - benchmark_start:.0f} s)",
                        flush=True,
                    )
                    with RUNS_FILE.open("a") as f:
                        f.write(json.dumps(run) + "\n")
                    cache[key] = run

    # the report covers every task and row with cached runs (same length, same skrl_jax source), not only
    # this call's --tasks / --variants, so that the JSON and the figure stay whole when a call adds a row
    report_rows = [TORCH] + [("skrl_jax", variant) for variant in VARIANTS]
    figures = {}
    for task in TASKS:
        env_steps = int(TASKS[task]["timesteps"] * args.timesteps_scale) * NUM_ENVS
        summaries, courses, task_figures, reference = {}, {}, {}, None
        for library, variant in report_rows:
            wanted = (library, task, variant)
            source = our_source if library == "skrl_jax" else "-"
            runs = [cache[k] for k in sorted(cache) if k[:3] == wanted and k[4:] == (env_steps, source)]
            runs = [r for r in runs if r["seed"] < args.seeds]
            if not runs:
                continue
            summaries[(library, variant)] = summarize(runs, TASKS[task]["bar"])
            courses[(library, variant)] = how_they_got_there(
                runs, reference if library != TORCH[0] else None, TASKS[task]["milestone"]
            )
            if library == TORCH[0]:
                reference = runs
            task_figures[LABELS[(library, variant)]] = {
                "summary": summaries[(library, variant)],
                "course": courses[(library, variant)],
                "curve": curves(runs, env_steps),
            }
        table(task, summaries, env_steps)
        course_table(task, courses)
        figures[task] = task_figures
    write_results(
        "skrl_parity",
        {
            "skrl_jax_source": our_source,
            "window": WINDOW,
            "num_envs": NUM_ENVS,
            "bars": {t: TASKS[t]["bar"] for t in TASKS},
            **figures,
        },
    )
    plot(figures, HERE / "figures" / "skrl_parity.png")


if __name__ == "__main__":
    main()
