"""What the trunk controls and the gradient diagnostics cost, inside the compiled PPO update.

examples/compiled_cartpole.py's shared model and settings (PureJaxRL's CartPole config), 8 seeds
vmapped in one compiled call, each variant compiled once and then timed ``--repeats`` times,
the variants interleaved (one job at a time) so that a drift of the machine hits them alike:

- ``plain``: the default update (one ``value_and_grad``);
- ``diagnostics``: ``sharing_diagnostics=True`` (the policy's and the value's gradients from one
  forward pass, one batched backward pass, then the four trunk metrics);
- ``trunk weight``: ``trunk_value_loss_scale=0.25`` (the same split, without the metrics);
- ``lr scales``: ``role_learning_rate_scale={"trunk": 0.5, "value": 2.0}`` (optax.multi_transform).

Writes benchmarks/results/sharing_overhead.json, then prints its table: per variant the median run
seconds, env steps/s and the ratio to ``plain``, and the commit and date of the run.

Run: python benchmarks/sharing_overhead.py [--seeds 8] [--timesteps 24576] [--repeats 3] [--table]
``--table`` prints the table from the results file, running nothing (docs/sharing.md's table).
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
from _results import read_results, write_results  # noqa: E402

compiled_cartpole = load_example("compiled_cartpole")

VARIANTS = {
    "plain": {},
    "diagnostics": {"sharing_diagnostics": True},
    "trunk weight": {"trunk_value_loss_scale": 0.25},
    "lr scales": {"role_learning_rate_scale": {"trunk": 0.5, "value": 2.0}},
}


def cfg_text(changes: dict) -> str:
    """A variant's cfg changes as the docs write them: ``key=value, ...`` (none: the plain update)."""
    return ", ".join(f"`{key}={value!r}`".replace("'", '"') for key, value in changes.items()) or "none of the keys"


def table(result: dict) -> list[str]:
    """The rows of a results record: per variant the median run seconds, env steps/s and time / plain."""
    median, ratio = result["median_seconds"], result["ratio_to_plain"]
    env_steps = result["seeds"] * result["env_steps_per_seed"]
    lines = ["| variant | cfg | run seconds | env steps/s | time / plain |", "| --- | --- | --- | --- | --- |"]
    for name, seconds in median.items():
        changes = cfg_text(result["variants"][name])
        lines.append(f"| {name} | {changes} | {seconds:.2f} | {env_steps / seconds:,.0f} | {ratio[name]:.3f} |")
    repeats = len(next(iter(result["seconds"].values())))
    lines.append(
        f"| {result['seeds']} seeds x {result['env_steps_per_seed']:,} env steps vmapped, median of {repeats} "
        f"interleaved runs | commit {result['commit']} | {result['date'][:10]} | | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=24_576, help="steps of the 4 vectorised envs per seed")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("sharing_overhead"))))
        return
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
    write_results(
        "sharing_overhead",
        {
            "variants": VARIANTS,
            "seeds": args.seeds,
            "env_steps_per_seed": env_steps // args.seeds,
            "seconds": seconds,
            "median_seconds": median,
            "ratio_to_plain": {name: value / median["plain"] for name, value in median.items()},
        },
    )
    print()
    print("\n".join(table(read_results("sharing_overhead"))))


if __name__ == "__main__":
    main()
