"""PPO on brax environments: brax's own ``ppo.train`` on its settings beside our CompiledTrainer PPO.

brax's settings for its small locomotion tasks (issue 23's protocol): 128 environments, unroll 20,
4 epochs x 4 minibatches of 32 sequences (one unroll per environment), discount 0.97, GAE 0.95,
lr 3e-4, entropy 1e-2, clip 0.3, reward scaling 10, observation normalisation; brax's default
networks (policy 4 x 32, value 5 x 256, swish, lecun_uniform) and its tanh-squashed Normal on both
sides (ours: ``TanhGaussianHead``, built by ``examples/playground_ppo.py``'s
``make_brax_style_trainer``, with brax's advantage estimate, ``recompute_advantages``, and its
entropy weight per action dimension); episodes of 1,000 steps with cached resets (brax's
``AutoResetWrapper``; ours ``BraxWrapper(reset="cached")``); the ``spring`` backend.

Timing excludes compilation and evaluation: brax's own ``training/sps`` of its last epoch; ours the
compiled run timed alone. The physics floor is the same environment stepped alone with random
actions through ``BraxWrapper`` (``playground_physics.wrapped_floor``). Greedy returns: brax's
deterministic evaluation (128 episodes), ours ``make_evaluate`` over as many (128 episodes of 1,000
steps; results before 2026-12-07 06:00 used 16).

Run: python benchmarks/brax_ppo.py [--envs inverted_pendulum hopper ant] [--env-steps 1003520] [--seeds 3]
Writes benchmarks/results/brax_ppo_<environment>.json after each seed (a stopped run keeps the seeds it
finished), then prints the table of the environments named; ``--table`` prints it from those files without running anything.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _examples import load_example  # noqa: E402
from _results import RESULTS, interleaved, mean_difference_interval, write_results  # noqa: E402
from playground_physics import timed, wrapped_floor  # noqa: E402
from playground_ppo import train_with_brax  # noqa: E402

from skrl_jax.envs import BraxWrapper  # noqa: E402

playground_ppo = load_example("playground_ppo")
BACKEND = "spring"
EVAL_EPISODES = 128  # brax's evaluation: num_eval_envs=128 episodes


def brax_settings(env_steps: int) -> dict:
    return dict(
        num_timesteps=env_steps,
        num_evals=3,
        episode_length=1000,
        normalize_observations=True,
        reward_scaling=10.0,
        action_repeat=1,
        unroll_length=20,
        num_minibatches=4,
        num_updates_per_batch=4,
        discounting=0.97,
        gae_lambda=0.95,
        learning_rate=3e-4,
        entropy_cost=1e-2,
        clipping_epsilon=0.3,
        num_envs=128,
        batch_size=32,
        deterministic_eval=True,
    )


def run_brax(name: str, settings: dict, seed: int) -> tuple[float, float]:
    from brax import envs

    return train_with_brax(envs.get_environment(name, backend=BACKEND), settings, seed)


def run_ours(name: str, settings: dict, seed: int) -> tuple[float, float]:
    from brax import envs

    env = BraxWrapper(envs.get_environment(name, backend=BACKEND), episode_length=1000, reset="cached")
    trainer = playground_ppo.make_brax_style_trainer(env, settings, progress=False)
    return playground_ppo.train_and_evaluate(trainer, settings["episode_length"], seed, EVAL_EPISODES)


def table(results: dict[str, dict]) -> list[str]:
    """The table of ``{environment: its results record}`` (``brax_ppo_<environment>.json``): median
    env steps/s over the seeds, greedy returns' mean and worst, and the difference of the mean
    returns with its bootstrap interval (``mean_difference_interval``)."""
    lines = [
        "| environment | env steps x seeds | physics floor | brax ppo.train | ours | ours / brax | ours / floor "
        "| greedy return, brax: mean [worst] | ours: mean [worst] | ours - brax [95% interval] | commit |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, result in results.items():
        runs = [result["runs"][system] for system in ("brax ppo.train", "skrl_jax PPO")]
        brax, ours = (statistics.median(row[0] for row in rows) for rows in runs)
        returns = [[row[1] for row in rows] for rows in runs]
        difference, low, high = mean_difference_interval(returns[1], returns[0])
        lines.append(
            f"| {name} | {result['settings']['num_timesteps']:,} x {len(returns[0])} | {result['floor']:,.0f} | "
            f"{brax:,.0f} | {ours:,.0f} | {ours / brax:.2f}x | {ours / result['floor']:.2f}x | "
            f"{np.mean(returns[0]):.1f} [{min(returns[0]):.1f}] | {np.mean(returns[1]):.1f} [{min(returns[1]):.1f}] | "
            f"{difference:+.1f} [{low:+.1f}, {high:+.1f}] | {result.get('commit', 'unknown')} |"
        )
    return lines


def read_results(names: list[str]) -> dict[str, dict]:
    return {name: json.loads((RESULTS / f"brax_ppo_{name}.json").read_text()) for name in names}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--envs", nargs="+", default=["inverted_pendulum"])
    parser.add_argument("--env-steps", type=int, default=1_003_520)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--table", action="store_true", help="print the table of the results files of --envs; run nothing"
    )
    args = parser.parse_args()
    if not args.table:
        for name in args.envs:
            run_environment(name, brax_settings(args.env_steps), args.seeds)
    print(f"\n{BACKEND} backend, median env steps/s over the seeds\n")
    print("\n".join(table(read_results(args.envs))))


def run_environment(name: str, settings: dict, seeds: int) -> None:
    """Seeds interleaved, one job at a time; writes ``brax_ppo_<name>.json``."""
    from brax import envs

    floor_env = BraxWrapper(envs.get_environment(name, backend=BACKEND), episode_length=1000, reset="cached")
    floor, _ = timed(*wrapped_floor(floor_env, settings["num_envs"], 200), settings["num_envs"], 200)
    print(f"{name}: physics floor {floor:,.0f} env steps/s", flush=True)
    systems = {
        "brax ppo.train": lambda seed: run_brax(name, settings, seed),
        "skrl_jax PPO": lambda seed: run_ours(name, settings, seed),
    }
    interleaved(
        systems,
        seeds,
        name,
        after_seed=lambda rows: write_results(
            f"brax_ppo_{name}", {"settings": settings, "backend": BACKEND, "floor": floor, "runs": rows}
        ),
    )


if __name__ == "__main__":
    main()
