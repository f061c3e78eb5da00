"""What the trunk controls and the gradient diagnostics cost, inside the compiled PPO update.

examples/compiled_cartpole.py's shared model and settings (PureJaxRL's CartPole config), 8 seeds
vmapped in one compiled call, each variant compiled once and then timed ``--repeats`` times,
the variants interleaved (one job at a time) so that a drift of the machine hits them alike:

- ``plain``: the default update (one ``value_and_grad``);
- ``diagnostics``: ``sharing_diagnostics=True`` (the policy's and the value's gradients from one
  forward pass, one batched backward pass, then the four trunk metrics);
- ``trunk weight``: ``trunk_value_loss_scale=0.25`` (the same split, without the metrics);
- ``lr scales``: ``role_learning_rate_scale={"trunk": 0.5, "value": 2.0}`` (optax.multi_transform).

Prints the median run seconds, env steps/s and the ratio to ``plain``; writes
benchmarks/results/sharing_overhead.json.

Run: python benchmarks/sharing_overhead.py [--seeds 8] [--timesteps 24576] [--repeats 3]
"""

import argparse
import sys
import time
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import write_results  # noqa: E402

compiled_cartpole = load_example("compiled_cartpole")

VARIANTS = {
    "plain": {},
    "diagnostics": {"sharing_diagnostics": True},
    "trunk weight": {"trunk_value_loss_scale": 0.25},
    "lr scales": {"role_learning_rate_scale": {"trunk": 0.5, "value": 2.0}},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=24_576, help="steps of the 4 vectorised envs per seed")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    keys = jax.random.split(jax.random.key(0), args.seeds)
    compiled, env_steps = {}, 0
    for name, changes in VARIANTS.items():
        trainer = compiled_cartpole.make_trainer(args.timesteps, progress=False, **changes)
        env_steps = trainer.num_updates * compiled_cartpole.ROLLOUTS * compiled_cartpole.NUM_ENVS * args.seeds
        start = time.perf_counter()
        compiled[name] = jax.jit(jax.vmap(trainer.make_train())).lower(keys).compile()
        print(f"{name}: compiled in {time.perf_counter() - start:.1f} s")
    seconds = {name: [] for name in VARIANTS}
    for repeat in range(args.repeats):
        for name, train in compiled.items():
            start = time.perf_counter()
            jax.block_until_ready(train(keys))
            seconds[name].append(time.perf_counter() - start)
        print(f"repeat {repeat + 1}/{args.repeats}: " + ", ".join(f"{n} {s[-1]:.2f} s" for n, s in seconds.items()))
    median = {name: float(np.median(values)) for name, values in seconds.items()}
    print(f"\n{args.seeds} seeds x {env_steps // args.seeds:,} env steps, median of {args.repeats} runs")
    print("| variant | run seconds | env steps/s | time / plain |")
    print("| --- | --- | --- | --- |")
    for name, value in median.items():
        print(f"| {name} | {value:.2f} | {env_steps / value:,.0f} | {value / median['plain']:.3f} |")
    write_results(
        "sharing_overhead",
        {
            "seeds": args.seeds,
            "env_steps_per_seed": env_steps // args.seeds,
            "seconds": seconds,
            "median_seconds": median,
            "ratio_to_plain": {name: value / median["plain"] for name, value in median.items()},
        },
    )


if __name__ == "__main__":
    main()
