"""Why skrl's Pendulum PPO settings leave some seeds behind, and which change fixes it.

skrl's Pendulum PPO example (4 envs x 1024 steps, 10 epochs x 32 minibatches, discount 0.9, lr 1e-3
KL-adaptive, both scalers: examples/compiled_pendulum.py's trainer with skrl's discount) with the
seed's shared model, on gymnax Pendulum-v1 (the same dynamics
as gymnasium's), 10 seeds vmapped in one compiled call per setting. Each row changes one thing;
the figure is each seed's mean return of its last 20 episodes (``last_episodes_return``), against
the bar -200.

Run: python benchmarks/pendulum_settings.py [--seeds 10] [--settings skrl gamma_0.95 ...] [--timesteps-scale 1] [--table]
(``--table`` prints the table from the results file, running nothing)
"""

import argparse
import sys
import time
from pathlib import Path

import jax

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _examples import load_example  # noqa: E402
from _results import read_results, write_results  # noqa: E402

from skrl_jax.trainers import CompiledTrainer, last_episodes_return  # noqa: E402

compiled_pendulum = load_example("compiled_pendulum")

NUM_ENVS, ROLLOUTS = compiled_pendulum.NUM_ENVS, compiled_pendulum.ROLLOUTS
# name -> (cfg changes, parameter_init, env steps)
SETTINGS = {
    "skrl": ({}, "flax", 200_000),
    "skrl_400k": ({}, "flax", 400_000),
    "pytorch_init": ({}, "pytorch", 200_000),
    "in_order_minibatches": ({"shuffle_minibatches": False}, "flax", 200_000),
    "max_lr_1e-3": ({"learning_rate_scheduler_kwargs": {"kl_threshold": 0.008, "max_lr": 1e-3}}, "flax", 200_000),
    "constant_lr_3e-4": ({"learning_rate": 3e-4, "learning_rate_scheduler": None}, "flax", 200_000),
    "8_minibatches": ({"mini_batches": 8}, "flax", 200_000),
    "gamma_0.95": ({"discount_factor": 0.95}, "flax", 200_000),
    "gamma_0.95_400k": ({"discount_factor": 0.95}, "flax", 400_000),
    "gamma_0.99_400k": ({"discount_factor": 0.99}, "flax", 400_000),
}
# the table's name of each setting: the change to skrl's settings
LABELS = {
    "skrl": "none (discount 0.9)",
    "skrl_400k": "none, skrl's own budget",
    "pytorch_init": "PyTorch initialisation",
    "in_order_minibatches": "in-order minibatches",
    "max_lr_1e-3": "KL-adaptive rate capped at 1e-3",
    "constant_lr_3e-4": "constant rate 3e-4",
    "8_minibatches": "8 minibatches instead of 32",
    "gamma_0.95": "discount 0.95",
    "gamma_0.95_400k": "discount 0.95, skrl's budget (`ppo_pendulum.py`'s settings)",
    "gamma_0.99_400k": "discount 0.99, skrl's budget",
}
BAR = -200.0


def make_trainer(changes: dict, parameter_init: str, env_steps: int) -> CompiledTrainer:
    """compiled_pendulum.py's trainer with skrl's discount (0.9), then ``changes``."""
    updates = env_steps // (NUM_ENVS * ROLLOUTS)
    return compiled_pendulum.make_trainer(
        updates * ROLLOUTS, progress=False, parameter_init=parameter_init, **{"discount_factor": 0.9, **changes}
    )


def table(result: dict) -> list[str]:
    """The rows of a results record: per setting, its env steps, the seeds at the bar, the mean and the worst
    last-20 return; then the seeds, the commit and the date."""
    lines = [
        f"| change to skrl's settings | env steps | seeds >= {result['bar']:g} | mean | worst |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, figure in result["settings"].items():
        lines.append(
            f"| {LABELS[name]} | {figure['env_steps']:,} | {figure['seeds_at_bar']} | {figure['mean']:.1f} | "
            f"{figure['worst']:.1f} |"
        )
    lines.append(
        f"| {result['seeds']} seeds vmapped, last 20 episodes | commit {result['commit']} | {result['date'][:10]} | | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument(
        "--timesteps-scale", type=float, default=1.0, help="every setting's env steps times this (smoke tests)"
    )
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("pendulum_settings"))))
        return
    keys = jax.random.split(jax.random.key(0), args.seeds)
    figures = {}
    for name in args.settings:
        changes, parameter_init, env_steps = SETTINGS[name]
        trainer = make_trainer(changes, parameter_init, int(env_steps * args.timesteps_scale))
        start = time.perf_counter()
        _, metrics = jax.block_until_ready(jax.jit(jax.vmap(trainer.make_train()))(keys))
        finals = last_episodes_return(metrics, 20)
        figures[name] = {
            "changes": {key: str(value) for key, value in SETTINGS[name][0].items()},
            "parameter_init": SETTINGS[name][1],
            "env_steps": trainer.num_updates * ROLLOUTS * NUM_ENVS,
            "finals": finals.round(1).tolist(),
            "mean": float(finals.mean()),
            "worst": float(finals.min()),
            "seeds_at_bar": f"{int((finals >= BAR).sum())}/{args.seeds}",
            "seconds": time.perf_counter() - start,
        }
        print(
            f"{name}: {figures[name]['seeds_at_bar']} >= {BAR:g}, mean {finals.mean():.1f}, worst {finals.min():.1f}",
            flush=True,
        )
    write_results("pendulum_settings", {"seeds": args.seeds, "bar": BAR, "settings": figures})
    print()
    print("\n".join(table(read_results("pendulum_settings"))))


if __name__ == "__main__":
    main()
