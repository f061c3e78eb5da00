"""Does a value that reads the privileged state help? ``examples/asymmetric_cartpole.py`` with the value on
the whole state (``--value full``) and on the policy's observations only (``--value observations``), seed
by seed, one run at a time; prints the mean return of the last 20 episodes per seed, the mean and the
worst of each, and writes them to benchmarks/results/asymmetric_value.json.

Run: python benchmarks/asymmetric_value.py [--seeds 5] [--timesteps 12500]
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from _results import write_results

ROOT = Path(__file__).resolve().parents[1]
FINAL_LINE = re.compile(r"mean return of the last 20 episodes: (-?[\d.]+)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=12_500)
    args = parser.parse_args()
    figures = {}
    for value in ("full", "observations"):
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
    print("\n| value reads | mean | worst | per seed |\n| --- | --- | --- | --- |")
    for value, figure in figures.items():
        per_seed = ", ".join(f"{final:.1f}" for final in figure["finals"])
        print(f"| {value} | {figure['mean']:.1f} | {figure['worst']:.1f} | {per_seed} |")
    write_results("asymmetric_value", {"timesteps": args.timesteps, **figures})


if __name__ == "__main__":
    main()
