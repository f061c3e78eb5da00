"""The compiled trainer against a hand-written program, against separate networks, against skrl.

On gymnax CartPole-v1 with PureJaxRL's settings (4 envs x 128 steps, 4 epochs x 4 minibatches,
500,000 env steps), compile excluded and reported apart, 5 interleaved runs (medians; the overhead is
the median of the per-run ratios, each run timing the two programs back to back):

1. overhead: the library's CompiledTrainer (examples/compiled_cartpole.py) against
   benchmarks/reference_ppo.py (same math in plain flax + optax); must be <= 1.05x;
2. sharing pays: the shared 2x64 tanh trunk against separate policy and value networks of the
   same widths, same library;
3. against skrl: compiled steps/s over skrl 1.4.3's JAX PPO on gymnasium CartPole-v1 (its
   example settings, benchmarks/skrl_cartpole_ppo.py; skipped with ``--skip-skrl``) and over our
   SequentialTrainer with the same settings (run with ``--skip-skrl`` too: it needs no skrl);
4. learning: 16 seeds in one vmapped call; greedy return over 10 episodes per seed, and the
   training return over the last 10 updates averaged over seeds;
5. compile time of the whole training function at a fifth of the run (100,000 env steps) and at
   the whole run (500,000).

Writes benchmarks/results/compiled_speed.json, then prints its table (``table``), the run's commit
and date in the last row. ``--env-steps`` and ``--host-env-steps`` cut the budget for a smoke test.

Run: python benchmarks/compiled_speed.py [--skip-skrl] [--seeds 16] [--repeats 5] [--table]
``--table`` prints the table from the results file, running nothing (docs/benchmarks.md's table
is ``--skip-skrl``'s: skrl's figures need skrl 1.4.3, in another venv here).
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
from _results import read_results, write_results  # noqa: E402

compiled_cartpole = load_example("compiled_cartpole")

ENV_STEPS = 500_000
HOST_ENV_STEPS = 20_000


def compiled(function, *args):
    start = time.perf_counter()
    executable = jax.jit(function).lower(*args).compile()
    return executable, time.perf_counter() - start


def timed(executable, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(executable(*args))
    return time.perf_counter() - start


def met(target: str, ok: bool) -> str:
    return f"{target} ({'met' if ok else 'not met'})"


def table(result: dict) -> list[str]:
    """The rows of a results record (skrl's rows only when the run measured skrl)."""
    runs, median, compile_seconds = result["run_seconds"], result["median_seconds"], result["compile_seconds"]
    ratios = [shared / reference for shared, reference in zip(runs["shared"], runs["reference"])]
    repeats, seeds, env_steps = len(ratios), result["vmapped_seeds"], result["env_steps"]
    overhead = result["overhead_library_over_reference"]
    lines = ["| figure | value | target |", "| --- | --- | --- |"]
    lines.append(
        f"| compiled trainer / hand-written PureJaxRL-style PPO (`reference_ppo.py`), gymnax CartPole, {env_steps:,} env "
        f"steps, 1 seed per run, compile excluded: median of the per-run ratios over {repeats} interleaved runs "
        f"| {overhead:.3f}x ({median['shared']:.2f} s vs {median['reference']:.2f} s, medians); per-run ratios "
        f"{min(ratios):.2f}-{max(ratios):.2f} | {met('<= 1.05x', overhead <= 1.05)} |"
    )
    sharing = result["separate_over_shared"]
    lines.append(
        f"| separate networks / shared 2x64 trunk, run time (1 seed per run, medians of the {repeats} interleaved runs) "
        f"| {sharing:.2f}x | {met('> 1', sharing > 1)} |"
    )
    lines.append(
        f"| compiled env steps/s: 1 seed / {seeds} seeds in one vmapped call "
        f"| {result['compiled_steps_per_second']:,.0f} / {result['vmapped_steps_per_second']:,.0f} | |"
    )
    if result.get("skrl_jax_host_steps_per_second"):
        skrl = result["skrl_jax_host_steps_per_second"]
        lines.append(
            f"| compiled / skrl 1.4.3's JAX PPO (host loop, {skrl:,.0f} env steps/s in the same run): 1 seed / "
            f"{seeds} seeds | {result['ratio_to_skrl']:,.0f}x / {result['ratio_to_skrl_vmapped_seeds']:,.0f}x "
            "| >= 200x |"
        )
    if result.get("sequential_trainer_steps_per_second"):
        host_steps = result.get("sequential_trainer_env_steps", HOST_ENV_STEPS)
        lines.append(
            f"| compiled (1 seed) / our SequentialTrainer (host loop, skrl's CartPole settings, {host_steps:,} env "
            f"steps, {result['sequential_trainer_steps_per_second']:,.0f} env steps/s) "
            f"| {result['ratio_to_sequential_trainer']:,.0f}x | |"
        )
    at_bar = result["seeds_greedy_at_least_475"]
    lines.append(
        f"| {seeds} seeds, {env_steps:,} env steps: seeds whose greedy return (10 episodes) >= 475 | {at_bar}/{seeds} "
        f"| {met(f'>= {seeds - seeds // 16}/{seeds}', at_bar >= seeds - seeds // 16)} |"
    )
    training = result["training_return_last10_mean"]
    lines.append(
        f"| {seeds} seeds: training return over the last 10 updates, mean of seeds | {training:.1f} "
        f"| {met('>= 450', training >= 450)} |"
    )
    lines.append(
        f"| compile (s): reference / shared / separate | {compile_seconds['reference']:.1f} / "
        f"{compile_seconds['shared']:.1f} / {compile_seconds['separate']:.1f} | |"
    )
    short = result.get("short_env_steps", 100_000)
    lines.append(
        f"| compile (s) of the whole training function at {short:,} / {env_steps:,} env steps "
        f"| {compile_seconds['shared_100k_env_steps']:.1f} / {compile_seconds['shared']:.1f} | no growth |"
    )
    lines.append(f"| compile (s) of {seeds} vmapped seeds | {compile_seconds['vmapped_seeds']:.1f} | |")
    skrl_note = ""
    if not result.get("skrl_jax_host_steps_per_second"):
        skrl_note = "; skrl not run (`--skip-skrl`)" if result.get("skip_skrl") else "; skrl not found"
    lines.append(f"| recorded with commit {result['commit']} on {result['date'][:10]}{skrl_note} | | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-skrl", action="store_true", help="run without skrl's JAX PPO (not installed here)")
    parser.add_argument("--env-steps", type=int, default=ENV_STEPS, help="each compiled run's length (a smoke test)")
    parser.add_argument("--host-env-steps", type=int, default=HOST_ENV_STEPS, help="the host-loop runs' length")
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if args.table:
        print("\n".join(table(read_results("compiled_speed"))))
        return
    key = jax.random.key(0)
    env_steps = args.env_steps
    per_update = compiled_cartpole.NUM_ENVS * compiled_cartpole.ROLLOUTS
    timesteps = (env_steps // per_update) * compiled_cartpole.ROLLOUTS  # whole updates, as PureJaxRL rounds

    print("compiling: reference, library (shared), library (separate) ...", flush=True)
    reference, reference_compile = compiled(
        reference_ppo.make_train(dict(reference_ppo.CONFIG, total_env_steps=env_steps)), key
    )
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
    compiled_steps_per_second = env_steps / median["shared"]

    print("compile time of the training function at two lengths ...", flush=True)
    short_env_steps = env_steps // 5
    short_trainer = compiled_cartpole.make_trainer(
        max(short_env_steps // per_update, 1) * compiled_cartpole.ROLLOUTS, progress=False
    )
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

    skrl = None
    if not args.skip_skrl:
        print(f"skrl's JAX PPO on gymnasium CartPole-v1, {args.host_env_steps:,} env steps ...", flush=True)
        skrl = host_speed.run_skrl(args.host_env_steps)
    print(f"our SequentialTrainer on gymnasium CartPole-v1, {args.host_env_steps:,} env steps ...", flush=True)
    host = host_speed.run_ours(shared=True, env_steps=args.host_env_steps)

    vmapped_steps_per_second = args.seeds * env_steps / many_seconds
    write_results(
        "compiled_speed",
        {
            "env_steps": env_steps,
            "run_seconds": runs,
            "median_seconds": median,
            "overhead_library_over_reference": overhead,
            "separate_over_shared": sharing,
            "compiled_steps_per_second": compiled_steps_per_second,
            "vmapped_seeds": args.seeds,
            "vmapped_steps_per_second": vmapped_steps_per_second,
            "skip_skrl": args.skip_skrl,
            "skrl_jax_host_steps_per_second": skrl,
            "sequential_trainer_steps_per_second": host,
            "sequential_trainer_env_steps": args.host_env_steps,
            "ratio_to_skrl": compiled_steps_per_second / skrl if skrl else None,
            "ratio_to_skrl_vmapped_seeds": vmapped_steps_per_second / skrl if skrl else None,
            "ratio_to_sequential_trainer": compiled_steps_per_second / host if host else None,
            "greedy_returns": greedy.tolist(),
            "seeds_greedy_at_least_475": int((greedy >= 475).sum()),
            "training_return_last10_per_seed": training.tolist(),
            "training_return_last10_mean": float(training.mean()),
            "short_env_steps": short_env_steps,
            "compile_seconds": {
                "reference": reference_compile,
                "shared": shared_compile,
                "separate": separate_compile,
                "shared_100k_env_steps": compile_short,
                "vmapped_seeds": many_compile,
            },
        },
    )
    print()
    print("\n".join(table(read_results("compiled_speed"))))


if __name__ == "__main__":
    main()
