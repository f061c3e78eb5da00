"""Does a value that reads the privileged state help? ``examples/asymmetric_cartpole.py`` with the value on
the whole state (``--value full``) and on the policy's observations only (``--value observations``), seed
by seed, one run at a time; prints the mean return of the last 20 episodes per seed, the mean and the
worst of each, and writes them to benchmarks/results/asymmetric_value.json.

Run: python benchmarks/asymmetric_value.py [--seeds 5] [--timesteps 12500] [--table]
(``--table`` prints the table from the results file, running nothing)
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import read_results, write_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FINAL_LINE = re.compile(r"mean return of the last 20 episodes: (-?[\d.]+)")
NUM_ENVS = 8  # examples/asymmetric_cartpole.py's vectorised environments
VALUES = {
    "full": "observations and the whole state (`--value full`)",
    "observations": "the policy's observations only (`--value observations`)",
}


def table(result: dict) -> list[str]:
    """The rows of a results record: each value's mean, worst and per-seed last-20 return, then the seeds,
    the budget, the commit and the date."""
    lines = ["| the value reads | mean | worst | per seed |", "| --- | --- | --- | --- |"]
    for value, label in VALUES.items():
        figure = result[value]
        per_seed = ", ".join(f"{final:.1f}" for final in figure["finals"])
        lines.append(f"| {label} | {figure['mean']:.1f} | {figure['worst']:.1f} | {per_seed} |")
    seeds = len(result["full"]["finals"])
    lines.append(
        f"| seeds 0-{seeds - 1}, {result['timesteps'] * NUM_ENVS:,} env steps each | commit {result['commit']} | "
        f"{result['date'][:10]} | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=12_500, help="trainer steps (x 8 environments)")
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("asymmetric_value"))))
        return
    figures = {}
    for value in VALUES:
        finals = []
        for seed in range(args.seeds):
            start = time.perf_counter()
            completed = subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "examples" / "asymmetric_cartpole.py"),
                    "--value",
                    value,
                    "--seed",
                    str(seed),
                    "--timesteps",
                    str(args.timesteps),
                ],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            finals.append(float(FINAL_LINE.findall(completed.stdout)[-1]))
            print(f"value {value} seed {seed}: {finals[-1]:.1f} ({time.perf_counter() - start:.0f} s)", flush=True)
        figures[value] = {"finals": finals, "mean": float(np.mean(finals)), "worst": float(np.min(finals))}
    write_results("asymmetric_value", {"timesteps": args.timesteps, "num_envs": NUM_ENVS, **figures})
    print()
    print("\n".join(table(read_results("asymmetric_value"))))


if __name__ == "__main__":
    main()
