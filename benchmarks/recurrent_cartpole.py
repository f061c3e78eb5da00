"""Recurrent vs feed-forward shared trunks on CartPole with hidden velocities, beside PureJaxRL's ppo_rnn.py.

Three runs on the same task and budget, one after another in this process, each ``--seeds`` seeds vmapped in one
compiled call (compiled first, then timed alone with ``block_until_ready``):
- PureJaxRL's ``ppo_rnn.py`` (``benchmarks/peers/purejaxrl_ppo_rnn.py``: its network and settings, with the
  gymnax 1.x shims its docstring lists);
- ours, PPO_RNN with a shared recurrent trunk (``examples/rnn_cartpole_hidden_velocity.py``: the same network,
  Dense(128)-ReLU -> GRU(128) -> heads Dense(128)-ReLU-Dense, and PureJaxRL's settings in skrl's cfg);
- ours, PPO with the GRU replaced by nothing (the same embedding, heads and settings, feed-forward);
- on request (``--runs ...,peer-replay-fixed``), PureJaxRL's script with its update replaying the episode ends
  where its rollout had them (``--replay-resets previous`` of the peer script; PureJaxRL's own replay resets one
  step early);
- ours, PPO_RNN as above without the value standardisation (skrl's ``value_preprocessor``), which PureJaxRL does
  not have: the one setting in which our runs differ from PureJaxRL's (besides skrl's formulas: advantages
  standardised over the whole rollout, the value loss unclipped).
Budget: 976 updates of 4 envs x 128 steps (499,712 env steps per seed), PureJaxRL's 500,000.

Measure: the return of the last 20 training episodes of each seed (PureJaxRL's, from gymnax's LogWrapper; ours,
from the per-update mean returns and episode counts of the compiled trainer, the last updates holding >= 20
episodes), mean and worst over seeds. Speed: after the learning runs, every run again ``--speed-repeats`` times,
the runs interleaved within a repeat, each at ``--speed-timesteps`` (the same program at a shorter budget: an
update costs the same at any budget), compiled first, then timed; env steps/s = seeds x env steps / run seconds,
the median over the repeats.

``--task memory-chain`` runs the same three on gymnax's ``MemoryChain-bsuite`` instead (a sign is shown at the
first step and must be answered at the sixth: +1 or -1; a feed-forward policy can only guess, 0 on average),
``--timesteps 24576`` (~100k env steps) is enough there.

Run: python benchmarks/recurrent_cartpole.py [--seeds 8] [--timesteps 124928] [--task hidden-velocity-cartpole]
Writes benchmarks/results/recurrent_cartpole.json and benchmarks/figures/recurrent_cartpole.png
(recurrent_memory_chain.* for the memory chain); ``--table`` prints the table from the results file, running nothing.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import read_results, write_results  # noqa: E402

from skrl_jax.envs import hidden_velocity_cartpole, wrap_env  # noqa: E402

rnn_example = load_example("rnn_cartpole_hidden_velocity")
NUM_ENVS, ROLLOUTS, last_episodes_return, make_trainer = (
    rnn_example.NUM_ENVS,
    rnn_example.ROLLOUTS,
    rnn_example.last_episodes_return,
    rnn_example.make_trainer,
)


@functools.cache  # one module object for the program and the reading of its results
def load_peer():
    spec = importlib.util.spec_from_file_location("purejaxrl_ppo_rnn", HERE / "peers" / "purejaxrl_ppo_rnn.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def timed(function, keys):
    start = time.perf_counter()
    executable = jax.jit(jax.vmap(function)).lower(keys).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    outputs = jax.block_until_ready(executable(keys))
    return outputs, compile_seconds, time.perf_counter() - start


def compiled_run(function, keys):
    """``seconds() -> float``: one timed run of ``function`` vmapped over ``keys``, compiled once, here."""
    executable = jax.jit(jax.vmap(function)).lower(keys).compile()

    def seconds() -> float:
        start = time.perf_counter()
        jax.block_until_ready(executable(keys))
        return time.perf_counter() - start

    return seconds


TASKS = {  # our name -> PureJaxRL peer's --env
    "hidden-velocity-cartpole": "CartPole-v1-hidden-velocity",
    "memory-chain": "MemoryChain-bsuite",
}


def make_env(task: str):
    if task == "memory-chain":
        import gymnax

        return wrap_env(gymnax.make("MemoryChain-bsuite")[0])
    return wrap_env(hidden_velocity_cartpole("gymnax"))


def peer_program(task: str, seeds: int, env_steps: int, replay_previous_done: bool = False):
    """``(statistics(key) -> (finished, returns), keys, config)``: PureJaxRL's run."""
    peer = load_peer()
    config = peer.default_config(TASKS[task], env_steps)
    config["REPLAY_PREVIOUS_DONE"] = replay_previous_done
    train = peer.make_train(config)

    def statistics(key):
        metric = train(key)["metric"]
        return metric["returned_episode"], metric["returned_episode_returns"]

    return statistics, jax.random.split(jax.random.PRNGKey(0), seeds), config


def run_peer(task: str, seeds: int, env_steps: int, replay_previous_done: bool = False) -> dict:
    peer = load_peer()
    statistics, keys, config = peer_program(task, seeds, env_steps, replay_previous_done)
    (finished, returns), compile_seconds, seconds = timed(statistics, keys)
    finished, returns = np.asarray(finished), np.asarray(returns)
    finals = [peer.last_episodes(finished[i], returns[i]) for i in range(seeds)]
    # per update: the mean return of the episodes that finished in it, for the curves
    done = finished.reshape(seeds, finished.shape[1], -1)
    totals = (returns.reshape(done.shape) * done).sum(-1)
    curves = np.where(done.sum(-1) > 0, totals / np.maximum(done.sum(-1), 1), np.nan)
    steps = config["NUM_UPDATES"] * config["NUM_STEPS"] * config["NUM_ENVS"]
    return dict(finals=finals, compile_seconds=compile_seconds, seconds=seconds, env_steps=steps, curves=curves)


def our_program(task: str, seeds: int, timesteps: int, recurrent: bool, value_scaler: bool = True):
    """``(train(key) -> (runner, metrics), keys)``: our compiled trainer's run."""
    trainer = make_trainer(
        timesteps, recurrent=recurrent, progress=False, env=make_env(task), value_scaler=value_scaler
    )
    return trainer.make_train(), jax.random.split(jax.random.key(0), seeds)


def run_ours(task: str, seeds: int, timesteps: int, recurrent: bool, value_scaler: bool = True) -> dict:
    train, keys = our_program(task, seeds, timesteps, recurrent, value_scaler)
    (_, metrics), compile_seconds, seconds = timed(train, keys)
    metrics = jax.device_get(metrics)
    finals = [last_episodes_return({name: value[i] for name, value in metrics.items()}) for i in range(seeds)]
    steps = (timesteps // ROLLOUTS) * ROLLOUTS * NUM_ENVS
    curves = np.asarray(metrics["episode_return"])
    return dict(finals=finals, compile_seconds=compile_seconds, seconds=seconds, env_steps=steps, curves=curves)


def plot(runs: dict, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    for label, run in runs.items():
        curves = np.asarray(run["curves"], np.float64)
        x = (np.arange(curves.shape[1]) + 1) * run["env_steps"] / curves.shape[1]
        mean = np.nanmean(curves, axis=0)
        window = max(1, min(20, curves.shape[1] // 5))  # updates
        smooth = np.convolve(np.nan_to_num(mean), np.ones(window) / window, mode="valid")
        axis.plot(x[window - 1 :], smooth, label=label)
    axis.set_xlabel("env steps per seed")
    axis.set_ylabel("training episode return (mean over seeds)")
    axis.set_title(title)
    axis.legend()
    figure.tight_layout()
    path.parent.mkdir(exist_ok=True)
    figure.savefig(path, dpi=100)
    print(f"written: {path}")


LABELS = {
    "peer": "PureJaxRL ppo_rnn.py (GRU)",
    "gru": "ours PPO_RNN, shared GRU trunk",
    "feed-forward": "ours PPO, feed-forward trunk",
    "peer-replay-fixed": "PureJaxRL ppo_rnn.py, replay resets where the rollout did (--replay-resets previous)",
    "gru-no-scaler": "ours PPO_RNN, shared GRU trunk, no value scaler (as PureJaxRL)",
}


def learning_run(name: str, task: str, seeds: int, timesteps: int) -> dict:
    env_steps = timesteps * NUM_ENVS
    if name in ("peer", "peer-replay-fixed"):
        return run_peer(task, seeds, env_steps, replay_previous_done=name == "peer-replay-fixed")
    return run_ours(task, seeds, timesteps, recurrent=name != "feed-forward", value_scaler=name != "gru-no-scaler")


def speed_run(name: str, task: str, seeds: int, timesteps: int):
    """``(seconds() -> float, env steps per seed)``: the run ``name`` compiled at ``timesteps``."""
    if name in ("peer", "peer-replay-fixed"):
        statistics, keys, config = peer_program(task, seeds, timesteps * NUM_ENVS, name == "peer-replay-fixed")
        return compiled_run(statistics, keys), config["NUM_UPDATES"] * config["NUM_STEPS"] * config["NUM_ENVS"]
    train, keys = our_program(task, seeds, timesteps, name != "feed-forward", name != "gru-no-scaler")
    return compiled_run(train, keys), (timesteps // ROLLOUTS) * ROLLOUTS * NUM_ENVS


def results_name(task: str) -> str:
    return "recurrent_cartpole" if task == "hidden-velocity-cartpole" else f"recurrent_{task.replace('-', '_')}"


def table(result: dict) -> list[str]:
    """The rows of a results record: median env steps/s over the interleaved speed runs, the ratio of
    the medians to PureJaxRL's (and the range of the ratios within each timing round), the learning
    runs' last-20 returns."""
    peer = next((row for row in result["runs"] if row["run"] == LABELS["peer"]), None)
    lines = [
        "| run | env steps/s | / PureJaxRL (range over the timing runs) | last-20 return: mean | worst | per seed |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in result["runs"]:
        ratio = "no peer run"
        if peer:
            each = [ours / theirs for ours, theirs in zip(row["speed_runs"], peer["speed_runs"])]
            ratio = (
                f"{row['env_steps_per_second'] / peer['env_steps_per_second']:.2f}x ({min(each):.2f}-{max(each):.2f})"
            )
        lines.append(
            f"| {row['run']} | {row['env_steps_per_second']:,.0f} | {ratio} | {row['last20_mean']:.1f} | "
            f"{row['last20_worst']:.1f} | " + ", ".join(f"{v:.0f}" for v in row["last20_per_seed"]) + " |"
        )
    lines.append(
        f"| {result['seeds']} seeds x {result['runs'][0]['env_steps_per_seed']:,} env steps; speed: median of "
        f"{result['speed_repeats']} interleaved runs of {result['speed_env_steps_per_seed']:,} env steps | "
        f"commit {result['commit']} | {result['date'][:10]} | | | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=124_928, help="steps of the 4 vectorised envs per seed")
    parser.add_argument("--task", choices=sorted(TASKS), default="hidden-velocity-cartpole")
    parser.add_argument("--runs", default="peer,gru,feed-forward,gru-no-scaler", help="which runs, in this order")
    parser.add_argument("--speed-repeats", type=int, default=3, help="interleaved timing runs of every run")
    parser.add_argument(
        "--speed-timesteps", type=int, default=None, help="the timing runs' budget (default: --timesteps / 8)"
    )
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    name = results_name(args.task)
    if args.table:
        print("\n".join(table(read_results(name))))
        return
    names = args.runs.split(",")
    speed_timesteps = args.speed_timesteps or max(ROLLOUTS, args.timesteps // 8)
    print(
        f"jax {jax.__version__}, {jax.devices()}; {args.seeds} seeds x {args.timesteps * NUM_ENVS:,} env steps each, "
        "one run at a time"
    )
    runs = {}
    for run in names:
        runs[run] = result = learning_run(run, args.task, args.seeds, args.timesteps)
        print(
            f"{LABELS[run]}: compile {result['compile_seconds']:.1f} s, run {result['seconds']:.1f} s, "
            f"last-20 return mean {np.mean(result['finals']):.1f}, worst {np.min(result['finals']):.1f}",
            flush=True,
        )
    timers = {run: speed_run(run, args.task, args.seeds, speed_timesteps) for run in names}
    speeds = {run: [] for run in names}
    for repeat in range(args.speed_repeats):
        for run, (seconds, env_steps) in timers.items():
            speeds[run].append(args.seeds * env_steps / seconds())
            print(f"speed run {repeat} {LABELS[run]}: {speeds[run][-1]:,.0f} env steps/s", flush=True)
    rows = []
    for run, result in runs.items():
        finals = np.asarray(result["finals"])
        rows.append(
            dict(
                run=LABELS[run],
                env_steps_per_second=statistics.median(speeds[run]),
                speed_runs=speeds[run],
                learning_run_env_steps_per_second=args.seeds * result["env_steps"] / result["seconds"],
                compile_seconds=result["compile_seconds"],
                seconds=result["seconds"],
                last20_mean=float(finals.mean()),
                last20_worst=float(finals.min()),
                last20_per_seed=finals.tolist(),
                env_steps_per_seed=result["env_steps"],
            )
        )
    record = {
        "task": args.task,
        "seeds": args.seeds,
        "speed_repeats": args.speed_repeats,
        "speed_env_steps_per_seed": timers[names[0]][1],
        "runs": rows,
    }
    write_results(name, record)
    print()
    print("\n".join(table(read_results(name))))
    title = {"hidden-velocity-cartpole": "CartPole-v1 with hidden velocities", "memory-chain": "MemoryChain-bsuite"}
    plot({LABELS[run]: result for run, result in runs.items()}, HERE / "figures" / f"{name}.png", title[args.task])


if __name__ == "__main__":
    main()
