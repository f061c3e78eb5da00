"""Why skrl's Pendulum PPO settings leave some seeds behind, and which change fixes it.

skrl's Pendulum PPO example (4 envs x 1024 steps, 10 epochs x 32 minibatches, discount 0.9, lr 1e-3
KL-adaptive, both scalers: examples/compiled_pendulum.py's trainer with skrl's discount) with the
seed's shared model, on gymnax Pendulum-v1 (the same dynamics
as gymnasium's), 10 seeds vmapped in one compiled call per setting. Each row changes one thing;
the figure is each seed's mean return of its last 20 episodes (``last_episodes_return``), against
the bar -200.

Run: python benchmarks/pendulum_settings.py [--seeds 10] [--settings skrl gamma_0.95 ...]
"""

import argparse
import time

import jax
from _examples import load_example
from _results import write_results

from skrl_jax.trainers import CompiledTrainer, last_episodes_return

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
BAR = -200.0


def make_trainer(changes: dict, parameter_init: str, env_steps: int) -> CompiledTrainer:
    """compiled_pendulum.py's trainer with skrl's discount (0.9), then ``changes``."""
    updates = env_steps // (NUM_ENVS * ROLLOUTS)
    return compiled_pendulum.make_trainer(
        updates * ROLLOUTS, progress=False, parameter_init=parameter_init, **{"discount_factor": 0.9, **changes}
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    keys = jax.random.split(jax.random.key(0), args.seeds)
    figures = {}
    for name in args.settings:
        trainer = make_trainer(*SETTINGS[name])
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
    print("\n| setting | env steps | seeds >= -200 | mean | worst |")
    print("| --- | --- | --- | --- | --- |")
    for name, figure in figures.items():
        print(
            f"| {name} | {figure['env_steps']:,} | {figure['seeds_at_bar']} | {figure['mean']:.1f} | "
            f"{figure['worst']:.1f} |"
        )
    write_results("pendulum_settings", figures)


if __name__ == "__main__":
    main()
