"""Learning figures of PPO with shared models (host loop, gymnasium environments).

- CartPole-v1, shared Categorical + value, 8 envs: mean return of the last 20 episodes >= 475
  within 100,000 env steps, for 3 of 3 seeds.
- Pendulum-v1, the seed's shared Gaussian + value, 4 envs: mean return of the last 20 episodes
  >= -250 within 200,000 env steps, for 3 of 3 seeds.

Run: python benchmarks/ppo_learning.py [--seeds 0 1 2] [--task cartpole pendulum]
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ppo_cartpole  # noqa: E402
import ppo_pendulum  # noqa: E402
from _results import RESULTS, write_results  # noqa: E402

TASKS = {
    "cartpole": {"module": ppo_cartpole, "env_steps": 100_000, "target": 475.0},
    "pendulum": {"module": ppo_pendulum, "env_steps": 200_000, "target": -250.0},
}
WINDOW = 20


def first_reach(agent, num_envs: int, target: float) -> tuple[int | None, float]:
    """Env steps when the mean of the last WINDOW episode returns first reached ``target``; best such mean."""
    returns = np.asarray(agent.episode_returns)
    ends = np.asarray(agent.episode_end_timesteps) * num_envs
    rolling = np.convolve(returns, np.ones(WINDOW) / WINDOW, mode="valid")
    reached = np.nonzero(rolling >= target)[0]
    return (int(ends[WINDOW - 1 + reached[0]]) if len(reached) else None), float(rolling.max())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--task", nargs="+", default=list(TASKS), choices=list(TASKS))
    args = parser.parse_args()
    figures = {}
    for task in args.task:
        spec = TASKS[task]
        module = spec["module"]
        runs = []
        for seed in args.seeds:
            start = time.perf_counter()
            agent = module.train(seed=seed, timesteps=spec["env_steps"] // module.NUM_ENVS, progress=True)
            seconds = time.perf_counter() - start
            reached_at, best = first_reach(agent, module.NUM_ENVS, spec["target"])
            final = float(np.mean(agent.episode_returns[-WINDOW:]))
            runs.append(
                {
                    "seed": seed,
                    "reached_at_env_step": reached_at,
                    "best_mean20": best,
                    "final_mean20": final,
                    "seconds": seconds,
                }
            )
            print(
                f"{task} seed {seed}: target {spec['target']} reached at {reached_at} env steps; best mean-{WINDOW} {best:.1f}, final {final:.1f} ({seconds:.0f} s)"
            )
        passed = sum(run["reached_at_env_step"] is not None for run in runs)
        figures[task] = {
            "target": spec["target"],
            "budget_env_steps": spec["env_steps"],
            "window": WINDOW,
            "runs": runs,
            "seeds_reaching_target": f"{passed}/{len(runs)}",
        }
    print("\n| task | target | budget (env steps) | seeds reaching it | reached at (env steps) |")
    print("| --- | --- | --- | --- | --- |")
    for task, figure in figures.items():
        reached = ", ".join(str(run["reached_at_env_step"]) for run in figure["runs"])
        print(
            f"| {task} | {figure['target']} | {figure['budget_env_steps']} | {figure['seeds_reaching_target']} | {reached} |"
        )
    previous = RESULTS / "ppo_learning.json"
    if previous.exists():  # keep the tasks this run did not repeat
        kept = {
            task: value
            for task, value in json.loads(previous.read_text()).items()
            if task in TASKS and task not in figures
        }
        figures = {**kept, **figures}
    write_results("ppo_learning", figures)


if __name__ == "__main__":
    main()
