"""Refactor speed check: the library at a baseline revision against the current work tree, side by side.

A refactor must lose no speed: every figure below must be at least 0.97x of the baseline's (speed ratio,
current / baseline; > 1 is faster now). The baseline (default ``17c6249``, main before the refactor) is
materialised with ``git archive REV | tar -x`` in a temporary directory (removed at the end); the current side
is the work tree this script lives in, uncommitted edits included. Each measurement is one subprocess, one at a
time, running that tree's own copy of the script with that tree's ``skrl_jax`` (``PYTHONPATH=<tree root>``, the
tree root and the script's folder first on ``sys.path``; the child prints the ``skrl_jax`` file it imported and
this script checks it lies in the expected tree, since the venv's editable install points at the current tree).
Rounds are interleaved: round i runs every script on both sides, the side that goes first alternating per round.
The figure of a side is the median of its ``--runs`` rounds (min and max shown); the ratio is of the medians,
and the median of the per-round ratios (the two sides measured back to back) is shown beside it.

The figures (env steps per second):

- ``compiled_shared`` / ``compiled_separate``: ``benchmarks/compiled_speed.py``, CompiledTrainer PPO on gymnax
  CartPole-v1 (PureJaxRL's settings, 499,712 env steps), the shared 2x64 trunk and separate policy / value
  networks; the script times the compiled programs apart from compilation (compile excluded); per child, the
  median of its ``--repeats`` runs, read from its results JSON (``500,000 / seconds``, as the script reports).
- ``compiled_reference``: the same script's hand-written PPO (``benchmarks/reference_ppo.py``, no skrl_jax): a
  control for the machine's drift, expected at ~1.00x, not gated.
- ``host_separate`` / ``host_shared``: ``benchmarks/host_speed.py``, the SequentialTrainer host loop on gymnasium
  CartPole-v1 with skrl's CartPole PPO settings (4 envs), separate models (skrl's example) and one shared model;
  the whole ``trainer.train()`` timed, compilation included (as the script does). The skrl side of that script
  is skipped (``SKRL_PYTHON`` removed from the child's environment; it only runs if skrl imports in this venv).
- ``sac_host``: ``examples/sac_pendulum.py``, SAC on gymnasium Pendulum-v1 (skrl's example settings, twin critics
  on one trunk), host loop, the ``N env steps/s`` line it prints (whole ``trainer.train()``, compilation and the
  1,000 learning-free first steps included), at ``--timesteps`` below the example's 15,000.

Budgets (per child): default compiled ``--repeats 3 --seeds 1 --skip-skrl``, host ``--env-steps 80000`` (at 20,000 compilation is two
thirds of the run and its jitter swamps the loop), SAC ``--timesteps 8000``; 5 rounds take ~25 minutes on a 2-core CPU. ``--quick``: compiled ``--repeats 1``, host
``--env-steps 2000``, SAC ``--timesteps 1500``, 2 rounds (a smoke check, ~5 minutes idle; its figures mean little).

Run: python benchmarks/refactor_speed.py [--baseline 17c6249] [--runs 5] [--quick] [--only compiled|host|sac]
Writes benchmarks/results/refactor_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _results import write_results  # noqa: E402

REPO = HERE.parent
DEFAULT_BASELINE = "17c6249"
THRESHOLD = 0.97
CHILD_TIMEOUT = 30 * 60  # seconds; a child that hangs fails the run instead of stalling it
IMPORT_MARKER = "REFACTOR_SPEED_SKRL_JAX_FILE="

# runs in the child (python -c): the script's folder and the tree root first on sys.path (as PYTHONPATH does, but
# independent of the cwd), the benchmarks' results redirected to a scratch folder (so that the current tree's
# benchmarks/results/*.json of other runs are not overwritten), then the script as __main__
CHILD = f"""
import runpy, sys
from pathlib import Path
root, script, results = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
sys.path[:0] = [str(script.parent), str(root)]
import skrl_jax
print("{IMPORT_MARKER}" + str(Path(skrl_jax.__file__).resolve()), flush=True)
if (script.parent / "_results.py").exists():
    import _results
    _results.RESULTS = Path(results)
sys.argv = [str(script), *sys.argv[4:]]
runpy.run_path(str(script), run_name="__main__")
"""


@dataclass
class Job:
    """One script of the check: where it lives in a tree, its budget options, and the figures it yields."""

    name: str
    script: str
    args: list[str]
    figures: tuple[str, ...]
    gated: tuple[str, ...]
    parse: Callable[[str, Path], dict[str, float]] = field(repr=False)  # (stdout, results folder) -> figures


class ChildError(RuntimeError):
    pass


def _load_json(results: Path, name: str, stdout: str) -> dict:
    path = results / f"{name}.json"
    if not path.exists():
        raise ChildError(f"{name}.json was not written (stdout tail:\n{stdout[-2000:]})")
    return json.loads(path.read_text())


def parse_compiled(stdout: str, results: Path) -> dict[str, float]:
    record = _load_json(results, "compiled_speed", stdout)
    env_steps = record["env_steps"]
    return {
        f"compiled_{name}": env_steps / statistics.median(record["run_seconds"][name])
        for name in ("shared", "separate", "reference")
    }


def parse_host(stdout: str, results: Path) -> dict[str, float]:
    speeds = _load_json(results, "host_speed", stdout)["steps_per_second"]
    return {"host_separate": float(speeds["ours_separate"]), "host_shared": float(speeds["ours_shared"])}


def parse_sac(stdout: str, results: Path) -> dict[str, float]:
    matches = re.findall(r"^\s*([\d.]+) env steps/s\s*$", stdout, flags=re.MULTILINE)
    if len(matches) != 1:
        raise ChildError(f"expected one 'N env steps/s' line, found {len(matches)} (stdout tail:\n{stdout[-2000:]})")
    return {"sac_host": float(matches[0])}


def make_jobs(quick: bool) -> list[Job]:
    """The three scripts with their budgets: full (default) or tiny (``quick``)."""
    return [
        Job(
            "compiled",
            "benchmarks/compiled_speed.py",
            ["--repeats", "1" if quick else "3", "--seeds", "1", "--skip-skrl"],
            ("compiled_shared", "compiled_separate", "compiled_reference"),
            ("compiled_shared", "compiled_separate"),
            parse_compiled,
        ),
        Job(
            "host",
            "benchmarks/host_speed.py",
            ["--env-steps", "2000" if quick else "80000"],
            ("host_separate", "host_shared"),
            ("host_separate", "host_shared"),
            parse_host,
        ),
        Job(
            "sac",
            "examples/sac_pendulum.py",
            ["--timesteps", "1500" if quick else "8000"],
            ("sac_host",),
            ("sac_host",),
            parse_sac,
        ),
    ]


def git(*args: str, cwd: Path = REPO) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}  # never take the index lock others may be using
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True, env=env).stdout


def materialise(revision: str, into: Path) -> str:
    """Extract ``revision``'s tree into ``into`` with ``git archive`` (nothing is left in the repo's metadata)."""
    commit = git("rev-parse", "--verify", f"{revision}^{{commit}}").strip()
    archive = subprocess.Popen(["git", "-C", str(REPO), "archive", commit], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(into)], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {commit} failed")
    return commit


def run_child(root: Path, job: Job, scratch: Path) -> tuple[dict[str, float], float]:
    """Runs ``job``'s script of the tree at ``root`` in a subprocess; returns its figures and wall seconds."""
    script = root / job.script
    if not script.exists():
        raise ChildError(f"{script} does not exist in this tree")
    results = Path(tempfile.mkdtemp(prefix="results-", dir=scratch))
    env = {key: value for key, value in os.environ.items() if key != "SKRL_PYTHON"}
    env["PYTHONPATH"] = str(root)
    command = [sys.executable, "-c", CHILD, str(root), str(script), str(results), *job.args]
    start = time.perf_counter()
    child = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    seconds = time.perf_counter() - start

    def fail(reason: str) -> ChildError:
        return ChildError(
            f"{job.name} in {root}: {reason}\n--- command: {' '.join(command[:2])} <child> {' '.join(command[3:])}"
            f"\n--- stdout (tail):\n{child.stdout[-3000:]}\n--- stderr (tail):\n{child.stderr[-5000:]}"
        )

    if child.returncode != 0:
        raise fail(f"exit status {child.returncode}")
    imported = [line[len(IMPORT_MARKER) :] for line in child.stdout.splitlines() if line.startswith(IMPORT_MARKER)]
    if len(imported) != 1 or not Path(imported[0]).is_relative_to(root.resolve()):
        raise fail(f"skrl_jax was imported from {imported}, not from under {root.resolve()}")
    try:
        figures = job.parse(child.stdout, results)
    except (ChildError, KeyError, ValueError, TypeError) as error:
        raise fail(f"figure missing: {error!r}") from error
    missing = [name for name in job.figures if not isinstance(figures.get(name), float) or figures[name] <= 0]
    if missing:
        raise fail(f"figures missing or not positive: {missing} in {figures}")
    shutil.rmtree(results, ignore_errors=True)
    return figures, seconds


def summarise(runs: dict[str, dict[str, list[float]]], jobs: list[Job]) -> dict[str, dict]:
    """Median, min, max per side, the ratio of the medians and the median of the per-round ratios."""
    summary = {}
    for job in jobs:
        for name in job.figures:
            base, current = runs["baseline"][name], runs["current"][name]
            if not base or not current:
                continue
            rounds = min(len(base), len(current))
            summary[name] = {
                "script": job.script,
                "gated": name in job.gated,
                "baseline": {"median": statistics.median(base), "min": min(base), "max": max(base), "runs": base},
                "current": {
                    "median": statistics.median(current),
                    "min": min(current),
                    "max": max(current),
                    "runs": current,
                },
                "ratio": statistics.median(current) / statistics.median(base),
                "paired_ratio": statistics.median(current[i] / base[i] for i in range(rounds)),
            }
    return summary


def table(summary: dict[str, dict], runs: int) -> str:
    lines = [
        f"| figure (env steps/s) | baseline median of {runs} [min, max] | current median of {runs} [min, max] "
        f"| current / baseline | per-round ratio (median) | >= {THRESHOLD} |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in summary.items():
        base, current = row["baseline"], row["current"]
        verdict = ("ok" if row["ratio"] >= THRESHOLD else "BELOW") if row["gated"] else "control, not gated"
        lines.append(
            f"| {name} | {base['median']:,.0f} [{base['min']:,.0f}, {base['max']:,.0f}] "
            f"| {current['median']:,.0f} [{current['min']:,.0f}, {current['max']:,.0f}] "
            f"| {row['ratio']:.3f}x | {row['paired_ratio']:.3f}x | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="git revision of the 'before' side")
    parser.add_argument("--runs", type=int, default=None, help="interleaved rounds (default 5, --quick 2)")
    parser.add_argument("--quick", action="store_true", help="tiny budgets, a smoke check")
    parser.add_argument(
        "--only", action="append", choices=("compiled", "host", "sac"), help="run only this script (repeatable)"
    )
    args = parser.parse_args()
    runs_count = args.runs if args.runs is not None else (2 if args.quick else 5)
    if runs_count < 1:
        parser.error("--runs must be >= 1")
    jobs = [job for job in make_jobs(args.quick) if not args.only or job.name in args.only]

    scratch = Path(tempfile.mkdtemp(prefix="refactor_speed-"))
    try:
        baseline_root = scratch / "baseline"
        baseline_root.mkdir()
        commit = materialise(args.baseline, baseline_root)
        head = git("rev-parse", "HEAD").strip()
        dirty = bool(git("status", "--porcelain", "--untracked-files=no").strip())
        sides = {"baseline": baseline_root, "current": REPO}
        print(f"baseline: {args.baseline} ({commit[:10]}) extracted in {baseline_root}", flush=True)
        print(f"current:  work tree {REPO} (HEAD {head[:10]}{', with uncommitted changes' if dirty else ''})")
        commands = "; ".join(" ".join([job.script, *job.args]) for job in jobs)
        print(f"{runs_count} interleaved rounds of: {commands}", flush=True)

        runs: dict[str, dict[str, list[float]]] = {
            side: {name: [] for job in jobs for name in job.figures} for side in sides
        }
        child_seconds: dict[str, dict[str, list[float]]] = {side: {job.name: [] for job in jobs} for side in sides}
        start = time.perf_counter()
        for round_index in range(runs_count):
            order = ("baseline", "current") if round_index % 2 == 0 else ("current", "baseline")
            for job in jobs:
                for side in order:
                    figures, seconds = run_child(sides[side], job, scratch)
                    for name in job.figures:
                        runs[side][name].append(figures[name])
                    child_seconds[side][job.name].append(seconds)
                    shown = ", ".join(f"{name} {figures[name]:,.0f}" for name in job.figures)
                    print(
                        f"round {round_index + 1}/{runs_count} {job.name:8s} {side:8s} {seconds:5.0f} s: {shown}",
                        flush=True,
                    )
        total = time.perf_counter() - start
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    summary = summarise(runs, jobs)
    print(f"\nbaseline {args.baseline} ({commit[:10]}) vs current work tree, {runs_count} interleaved rounds\n")
    print(table(summary, runs_count))
    gated = [row["ratio"] >= THRESHOLD for row in summary.values() if row["gated"]]
    print(f"\nall gated figures >= {THRESHOLD}x: {'yes' if all(gated) else 'NO'}; {total / 60:.1f} min of measuring")

    write_results(
        "refactor_speed",
        {
            "cpus": os.cpu_count(),
            "baseline": {"revision": args.baseline, "commit": commit},
            "current": {"head": head, "uncommitted_changes": dirty},
            "quick": args.quick,
            "rounds": runs_count,
            "budgets": {job.name: [job.script, *job.args] for job in jobs},
            "threshold": THRESHOLD,
            "all_gated_at_least_threshold": all(gated),
            "figures": summary,
            "child_seconds": child_seconds,
            "total_seconds": total,
        },
    )


if __name__ == "__main__":
    main()
