"""The physics floor of MuJoCo Playground tasks on this machine, per MJX implementation.

Each task is stepped alone with uniform random actions and no learning: ``num_envs`` environments
vmapped inside one ``lax.scan`` of ``--steps`` steps, compiled once and timed on a second call.
No trainer on the same task and batch can run faster than this. Rows:

- ``raw``: Playground's own ``env.step`` (no episode cut, no reset), per implementation:
  ``jax`` (MJX written in JAX, what ``load_playground_env`` uses on CPU) and ``warp`` (MuJoCo
  Warp through MJX, Playground 0.2's default, built for NVIDIA GPUs; its CPU path runs here).
  ``cpp`` is not measured: Playground's resets call ``mjx.forward``, which needs ``jax`` or ``warp``.
- ``fresh`` / ``cached``: the same through ``PlaygroundWrapper`` (episode cut, auto-reset with
  either reset, episode statistics), ``jax`` only: the wrapper's cost over the raw floor.

Run: python benchmarks/playground_physics.py [--tasks CartpoleBalance CheetahRun] [--impls jax warp]
     [--num-envs 128] [--steps 200]   (needs the `playground` extra)
Writes benchmarks/results/playground_physics.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import write_results  # noqa: E402

from skrl_jax.envs import load_playground_env  # noqa: E402


def consumed(state, rewards) -> jax.Array:
    """One number that depends on the final state as well as on the rewards, so that XLA cannot drop
    the physics as dead code (a task whose reward is a constant, brax's inverted_pendulum, would)."""
    return rewards.sum() + sum(
        jnp.sum(leaf) for leaf in jax.tree.leaves(state) if jnp.issubdtype(leaf.dtype, jnp.floating)
    )


def timed(reset, steps_of, num_envs: int, steps: int) -> tuple[float, float]:
    """``(env steps/s, compile seconds)`` of ``steps_of(state, key)``, which makes ``steps`` steps of the
    ``num_envs`` environments ``reset(key)`` starts (the first reset is not timed: CheetahRun's
    settles the model for 200 physics steps)."""
    state = jax.block_until_ready(jax.jit(reset)(jax.random.key(0)))
    compiled = jax.jit(steps_of)
    start = time.perf_counter()
    compiled(state, jax.random.key(1)).block_until_ready()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    compiled(state, jax.random.key(2)).block_until_ready()
    return num_envs * steps / (time.perf_counter() - start), compile_seconds


def raw_floor(env, num_envs: int, steps: int) -> tuple:
    """Playground's ``reset`` / ``step`` alone, vmapped, with random actions in [-1, 1]."""

    def reset(key):
        return jax.vmap(env.reset)(jax.random.split(key, num_envs))

    def steps_of(state, key):
        def step(state, key):
            state = jax.vmap(env.step)(state, jax.random.uniform(key, (num_envs, env.action_size), minval=-1))
            return state, state.reward.sum()

        return consumed(*jax.lax.scan(step, state, jax.random.split(key, steps)))

    return reset, steps_of


def wrapped_floor(env, num_envs: int, steps: int) -> tuple:
    """The same through a ``PlaygroundWrapper`` (``env``), as the ``CompiledTrainer`` steps it (``batch_step``)."""
    size = env.action_space.shape[0]

    def reset(key):
        return jax.vmap(env.reset)(jax.random.split(key, num_envs))[1]

    def steps_of(state, key):
        def step(state, key):
            action_key, step_key = jax.random.split(key)
            actions = jax.random.uniform(action_key, (num_envs, size), minval=-1)
            _, state, reward, *_ = env.batch_step(jax.random.split(step_key, num_envs), state, actions)
            return state, reward.sum()

        return consumed(*jax.lax.scan(step, state, jax.random.split(key, steps)))

    return reset, steps_of


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", nargs="+", default=["CartpoleBalance", "PendulumSwingup", "CheetahRun"])
    parser.add_argument("--impls", nargs="+", default=["jax", "warp"])
    parser.add_argument("--num-envs", type=int, default=128)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    rows = {}
    for task in args.tasks:
        runs = [
            (
                f"raw/{impl}",
                lambda impl=impl, task=task: raw_floor(
                    load_playground_env(task, impl=impl).env.unwrapped, args.num_envs, args.steps
                ),
            )
            for impl in args.impls
        ]
        runs += [
            (
                f"{reset}/jax",
                lambda reset=reset, task=task: wrapped_floor(
                    load_playground_env(task, reset=reset), args.num_envs, args.steps
                ),
            )
            for reset in ("fresh", "cached")
        ]
        for name, make in runs:
            rate, compile_seconds = timed(*make(), args.num_envs, args.steps)
            rows[f"{task}/{name}"] = {"env_steps_per_second": rate, "compile_seconds": compile_seconds}
            print(f"{task:16s} {name:12s} {rate:12,.0f} env steps/s (compile {compile_seconds:.1f} s)", flush=True)
    print(f"\n| task | row | env steps/s ({args.num_envs} envs) | vs raw/jax |\n| --- | --- | --- | --- |")
    for key, row in rows.items():
        task, name = key.split("/", 1)
        base = rows[f"{task}/raw/jax"]["env_steps_per_second"] if f"{task}/raw/jax" in rows else None
        ratio = f"{row['env_steps_per_second'] / base:.2f}x" if base else "-"
        print(f"| {task} | {name} | {row['env_steps_per_second']:,.0f} | {ratio} |")
    write_results(
        "playground_physics",
        {"num_envs": args.num_envs, "steps": args.steps, "floor": rows},
    )


if __name__ == "__main__":
    main()
