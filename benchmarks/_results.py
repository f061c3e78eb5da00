"""Where the benchmarks write their figures."""

import json
import platform
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def code_version() -> str:
    """The commit the figures come from, ``+changes`` when the working tree's code differs from it (a
    results file or an image written by an earlier run is not code, and does not count)."""
    root = RESULTS.parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True)
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True
        )
    except OSError:
        return "unknown (no git)"
    if commit.returncode:
        return "unknown (not a git checkout)"
    outputs = ("benchmarks/results/", "benchmarks/figures/")
    code = [line for line in changed.stdout.splitlines() if not line[3:].startswith(outputs)]
    return commit.stdout.strip() + ("+changes" if code else "")


def write_results(name: str, figures: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    record = {
        "benchmark": name,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "jax": jax.__version__,
        "commit": code_version(),
        "devices": [str(d) for d in jax.devices()],
        **figures,
    }
    path.write_text(json.dumps(record, indent=2))
    print(f"written: {path}")
    return path


def read_results(name: str) -> dict:
    """The record ``write_results(name, ...)`` wrote, for a benchmark's ``--table``."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        raise SystemExit(f"no results file {path}: run the benchmark without --table first")
    return json.loads(path.read_text())


def greedy_row(row: tuple[float, float]) -> str:
    steps_per_second, greedy = row
    return f"{steps_per_second:,.0f} env steps/s, greedy return {greedy:.1f}"


def interleaved(
    systems: dict[str, Callable[[int], Any]],
    seeds: int,
    label: str,
    describe: Callable[[Any], str] = greedy_row,
    after_seed: Callable[[dict[str, list]], Any] | None = None,
) -> dict[str, list]:
    """Each system run once per seed, the systems interleaved within a seed, one job at a time:
    ``{system: [what its run returned, per seed]}``, each run printed (``describe``) as it ends
    (by default a run returns ``(env steps/s, greedy return)``). ``after_seed(rows)`` is called
    when a seed's runs are done (to write what has been measured so far)."""
    rows = {name: [] for name in systems}
    for seed in range(seeds):
        for name, run in systems.items():
            rows[name].append(run(seed))
            print(f"{label} seed {seed} {name}: {describe(rows[name][-1])}", flush=True)
        # every seed compiles new programs, which jax's caches would keep for the whole process:
        # after ~35 brax-sized programs LLVM ran out of mappable memory (a 20-seed hopper run died)
        jax.clear_caches()
        if after_seed is not None:
            after_seed(rows)
    return rows


def mean_difference_interval(
    ours: list[float], peer: list[float], level: float = 0.95, resamples: int = 10_000
) -> tuple[float, float, float]:
    """``(mean(ours) - mean(peer), low, high)``: the difference of the two means and its percentile
    bootstrap interval at ``level`` (each side's seeds resampled apart, a fixed generator so the
    table prints the same interval every time). An interval that holds 0 does not separate them."""
    rng = np.random.default_rng(0)
    ours_means = rng.choice(np.asarray(ours), (resamples, len(ours))).mean(axis=1)
    peer_means = rng.choice(np.asarray(peer), (resamples, len(peer))).mean(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(ours_means - peer_means, [tail, 100 - tail])
    return float(np.mean(ours) - np.mean(peer)), float(low), float(high)
