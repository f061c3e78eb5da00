"""The compiled trainer against a hand-written program, against separate networks, against skrl.

On gymnax CartPole-v1 with PureJaxRL's settings (4 envs x 128 steps, 4 epochs x 4 minibatches,
500,000 env steps), compile excluded and reported apart, 5 interleaved runs (medians; the overhead is
the median of the per-run ratios, each run timing the two programs back to back):

1. overhead: the library's CompiledTrainer (examples/compiled_cartpole.py) against
   benchmarks/reference_ppo.py (same math in plain flax + optax); must be <= 1.05x;
2. sharing pays: the shared 2x64 tanh trunk against separate policy and value networks of the
   same widths, same library;
3. against skrl: compiled steps/s over skrl 1.4.3's JAX PPO on gymnasium CartPole-v1 (its
   example settings, benchmarks/skrl_cartpole_ppo.py) and over our SequentialTrainer with the
   same settings;
4. learning: 16 seeds in one vmapped call; greedy return over 10 episodes per seed, and the
   training return over the last 10 updates averaged over seeds;
5. compile time of the whole training function at 100,000 and 500,000 env steps.

Run: python benchmarks/compiled_speed.py [--skip-skrl] [--seeds 16]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import host_speed  # noqa: E402
import reference_ppo  # noqa: E402
from _examples import load_example  # noqa: E402
from _results import write_results  # noqa: E402

compiled_cartpole = load_example("compiled_cartpole")

ENV_STEPS = 500_000


def compiled(function, *args):
    start = time.perf_counter()
    executable = jax.jit(function).lower(*args).compile()
    return executable, time.perf_counter() - start


def timed(executable, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(executable(*args))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-skrl", action="store_true")
    args = parser.parse_args()
    key = jax.random.key(0)
    per_update = compiled_cartpole.NUM_ENVS * compiled_cartpole.ROLLOUTS
    timesteps = (ENV_STEPS // per_update) * compiled_cartpole.ROLLOUTS  # whole updates, as PureJaxRL rounds

    print("compiling: reference, library (shared), library (separate) ...", flush=True)
    reference, reference_compile = compiled(reference_ppo.make_train(), key)
    shared_trainer = compiled_cartpole.make_trainer(timesteps, shared=True, progress=False)
    shared, shared_compile = compiled(shared_trainer.make_train(), key)
    separate, separate_compile = compiled(
        compiled_cartpole.make_trainer(timesteps, shared=False, progress=False).make_train(), key
    )
    runs = {"reference": [], "shared": [], "separate": []}
    for repeat in range(args.repeats):
        run_key = jax.random.key(repeat)
        for name, executable in (("reference", reference), ("shared", shared), ("separate", separate)):
            runs[name].append(timed(executable, run_key))
        print(
            f"run {repeat + 1}/{args.repeats}: "
            + ", ".join(f"{name} {times[-1]:.2f} s" for name, times in runs.items()),
            flush=True,
        )
    median = {name: statistics.median(times) for name, times in runs.items()}
    # each repeat times the two programs back to back: the median of those ratios drifts less with the machine
    overhead = statistics.median(shared / reference for shared, reference in zip(runs["shared"], runs["reference"]))
    sharing = median["separate"] / median["shared"]
    compiled_steps_per_second = ENV_STEPS / median["shared"]

    print("compile time of the training function at two lengths ...", flush=True)
    short_trainer = compiled_cartpole.make_trainer((100_000 // per_update) * compiled_cartpole.ROLLOUTS, progress=False)
    _, compile_short = compiled(short_trainer.make_train(), key)

    print(f"learning: {args.seeds} seeds in one vmapped call ...", flush=True)
    keys = jax.random.split(jax.random.key(42), args.seeds)
    many, many_compile = compiled(jax.vmap(shared_trainer.make_train()), keys)
    start = time.perf_counter()
    runners, metrics = jax.block_until_ready(many(keys))
    many_seconds = time.perf_counter() - start
    evaluate = jax.jit(jax.vmap(shared_trainer.make_evaluate(num_episodes=10, max_steps=500)))
    greedy = np.asarray(evaluate(runners.agent_state, jax.random.split(jax.random.key(7), args.seeds))).mean(axis=1)
    training = np.nanmean(np.asarray(metrics["episode_return"])[:, -10:], axis=1)

    skrl = host = None
    if not args.skip_skrl:
        print(
            "skrl's JAX PPO and our SequentialTrainer on gymnasium CartPole-v1, 20,000 env steps each ...", flush=True
        )
        skrl = host_speed.run_skrl(20_000)
        host = host_speed.run_ours(shared=True, env_steps=20_000)

    print("\n| figure | value | target |\n| --- | --- | --- |")
    print(f"| reference PPO run (s, median of {args.repeats}) | {median['reference']:.2f} | |")
    print(f"| library compiled trainer run (s) | {median['shared']:.2f} | |")
    print(f"| overhead: library / reference (median of per-run ratios) | {overhead:.3f}x | <= 1.05x |")
    print(f"| separate networks / shared trunk (run time) | {sharing:.2f}x | > 1 |")
    print(f"| compiled env steps/s (1 seed) | {compiled_steps_per_second:,.0f} | |")
    print(f"| compiled env steps/s ({args.seeds} seeds vmapped) | {args.seeds * ENV_STEPS / many_seconds:,.0f} | |")
    if skrl:
        print(
            f"| compiled (1 seed) / skrl JAX PPO (host, {skrl:,.0f} steps/s) | {compiled_steps_per_second / skrl:,.0f}x | >= 200x |"
        )
        print(
            f"| compiled ({args.seeds} seeds vmapped) / skrl JAX PPO | {args.seeds * ENV_STEPS / many_seconds / skrl:,.0f}x | >= 200x |"
        )
    if host:
        print(
            f"| compiled / our SequentialTrainer ({host:,.0f} steps/s) | {compiled_steps_per_second / host:,.0f}x | |"
        )
    print(f"| seeds with greedy return >= 475 | {(greedy >= 475).sum()}/{args.seeds} | >= 15/16 |")
    print(f"| training return, last 10 updates, mean of seeds | {training.mean():.1f} | >= 450 |")
    print(
        f"| compile (s): reference / shared / separate | {reference_compile:.1f} / {shared_compile:.1f} / {separate_compile:.1f} | |"
    )
    print(
        f"| compile (s) of the training function: 100k / 500k env steps | {compile_short:.1f} / {shared_compile:.1f} | no growth |"
    )
    print(f"| compile (s) of {args.seeds} vmapped seeds | {many_compile:.1f} | |")
    write_results(
        "compiled_speed",
        {
            "env_steps": ENV_STEPS,
            "run_seconds": runs,
            "median_seconds": median,
            "overhead_library_over_reference": overhead,
            "separate_over_shared": sharing,
            "compiled_steps_per_second": compiled_steps_per_second,
            "vmapped_seeds": args.seeds,
            "vmapped_steps_per_second": args.seeds * ENV_STEPS / many_seconds,
            "skrl_jax_host_steps_per_second": skrl,
            "sequential_trainer_steps_per_second": host,
            "ratio_to_skrl": compiled_steps_per_second / skrl if skrl else None,
            "ratio_to_skrl_vmapped_seeds": args.seeds * ENV_STEPS / many_seconds / skrl if skrl else None,
            "ratio_to_sequential_trainer": compiled_steps_per_second / host if host else None,
            "greedy_returns": greedy.tolist(),
            "seeds_greedy_at_least_475": int((greedy >= 475).sum()),
            "training_return_last10_per_seed": training.tolist(),
            "training_return_last10_mean": float(training.mean()),
            "compile_seconds": {
                "reference": reference_compile,
                "shared": shared_compile,
                "separate": separate_compile,
                "shared_100k_env_steps": compile_short,
                "vmapped_seeds": many_compile,
            },
        },
    )


if __name__ == "__main__":
    main()
