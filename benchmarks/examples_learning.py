"""Does every training example reach its task's bar? Runs each example as a user would, once per
seed, and reads the figure its last line prints (the same figure the docs' tables give).

- host-loop examples (one seed per run): the mean return of the last 20 training episodes (DQN: the
  greedy policy's return over 10 episodes, as its last line prints);
- compiled examples (their seeds vmapped in one run): the figure of their last line, per seed.

Bars: CartPole-v1 >= 475, Pendulum-v1 >= -200; an example passes on >= 4 of 5 seeds.

Run: python benchmarks/examples_learning.py [--seeds 5] [--examples ppo_cartpole ppo_pendulum ...]
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
GREEDY_LINE = re.compile(r"greedy return \(10 episodes\): (-?[\d.]+)")
PER_SEED_LINE = re.compile(r"^\s*(\d+) \| +(-?[\d.]+)", re.MULTILINE)

# name -> (script arguments, bar, how the seeds run)
EXAMPLES = {
    "ppo_cartpole": ([], 475.0, "host"),
    "ppo_pendulum": ([], -200.0, "host"),
    "skrl_pendulum_ppo_port": ([], -200.0, "host"),
    "sac_pendulum": ([], -200.0, "host"),
    "dqn_cartpole": (["--settings", "tuned"], 475.0, "host-greedy"),
    "compiled_cartpole": ([], 475.0, "vmapped"),
    "compiled_pendulum": ([], -200.0, "vmapped"),
    # skrl 2.x's scripts beside 1.4's (docs/skrl-apis.md)
    "skrl2_pendulum_ppo_port": ([], -200.0, "host"),
    "skrl_shared_cartpole_ppo": ([], 475.0, "host"),
    "skrl2_shared_cartpole_ppo": ([], 475.0, "host"),
    "skrl_shared_cartpole_ppo_compiled": (["--compiled"], 475.0, "host"),
    "skrl2_shared_cartpole_ppo_compiled": (["--compiled"], 475.0, "host"),
    "skrl2_pendulum_td3_port": ([], -200.0, "host"),
    "skrl2_cartpole_dqn_port": ([], 475.0, "host"),
}


def script_of(name: str) -> str:
    """The example file a row runs (a ``_compiled`` row runs its script with ``--compiled``)."""
    return name.removesuffix("_compiled")


def run(script: str, arguments: list[str]) -> tuple[str, float]:
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{script_of(script)}.py"), *arguments],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return completed.stdout, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--examples", nargs="+", default=list(EXAMPLES), choices=list(EXAMPLES))
    args = parser.parse_args()
    figures = {}
    for name in args.examples:
        arguments, bar, mode = EXAMPLES[name]
        if mode.startswith("host"):
            finals, seconds = [], 0.0
            for seed in range(args.seeds):
                stdout, elapsed = run(name, [*arguments, "--seed", str(seed)])
                final_line = GREEDY_LINE if mode == "host-greedy" else FINAL_LINE
                finals.append(float(final_line.findall(stdout)[-1]))
                seconds += elapsed
                print(f"{name} seed {seed}: {finals[-1]:.1f} ({elapsed:.0f} s)", flush=True)
        else:
            stdout, seconds = run(name, [*arguments, "--seeds", str(args.seeds)])
            finals = [float(value) for _, value in PER_SEED_LINE.findall(stdout)][-args.seeds :]
            print(stdout.strip().splitlines()[-1])
        finals = np.asarray(finals)
        passed = int((finals >= bar).sum())
        figures[name] = {
            "arguments": arguments,
            "bar": bar,
            "finals": finals.round(1).tolist(),
            "mean": float(finals.mean()),
            "worst": float(finals.min()),
            "seeds_at_bar": f"{passed}/{len(finals)}",
            "meets": passed >= 0.8 * len(finals),
            "seconds": seconds,
        }
    print("\n| example | bar | seeds at the bar | mean | worst | per seed |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, figure in figures.items():
        per_seed = ", ".join(f"{value:.1f}" for value in figure["finals"])
        command = " ".join([f"{script_of(name)}.py", *figure["arguments"]])
        print(
            f"| `{command}` | {figure['bar']:g} | {figure['seeds_at_bar']} | {figure['mean']:.1f} | "
            f"{figure['worst']:.1f} | {per_seed} |"
        )
    write_results("examples_learning", figures)


if __name__ == "__main__":
    main()
