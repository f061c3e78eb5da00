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
episodes), mean and worst over seeds; env steps/s = seeds x env steps / run seconds.

``--task memory-chain`` runs the same three on gymnax's ``MemoryChain-bsuite`` instead (a sign is shown at the
first step and must be answered at the sixth: +1 or -1; a feed-forward policy can only guess, 0 on average),
``--timesteps 24576`` (~100k env steps) is enough there.

Run: python benchmarks/recurrent_cartpole.py [--seeds 8] [--timesteps 124928] [--task hidden-velocity-cartpole]
Writes benchmarks/results/recurrent_cartpole.json and benchmarks/figures/recurrent_cartpole.png
(recurrent_memory_chain.* for the memory chain).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import jax
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import write_results  # noqa: E402

from skrl_jax.envs import hidden_velocity_cartpole, wrap_env  # noqa: E402

rnn_example = load_example("rnn_cartpole_hidden_velocity")
NUM_ENVS, ROLLOUTS, last_episodes_return, make_trainer = (
    rnn_example.NUM_ENVS,
    rnn_example.ROLLOUTS,
    rnn_example.last_episodes_return,
    rnn_example.make_trainer,
)


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


TASKS = {  # our name -> PureJaxRL peer's --env
    "hidden-velocity-cartpole": "CartPole-v1-hidden-velocity",
    "memory-chain": "MemoryChain-bsuite",
}


def make_env(task: str):
    if task == "memory-chain":
        import gymnax

        return wrap_env(gymnax.make("MemoryChain-bsuite")[0])
    return wrap_env(hidden_velocity_cartpole("gymnax"))


def run_peer(task: str, seeds: int, env_steps: int, replay_previous_done: bool = False) -> dict:
    peer = load_peer()
    config = peer.default_config(TASKS[task], env_steps)
    config["REPLAY_PREVIOUS_DONE"] = replay_previous_done
    train = peer.make_train(config)

    def statistics(key):
        metric = train(key)["metric"]
        return metric["returned_episode"], metric["returned_episode_returns"]

    keys = jax.random.split(jax.random.PRNGKey(0), seeds)
    (finished, returns), compile_seconds, seconds = timed(statistics, keys)
    finished, returns = np.asarray(finished), np.asarray(returns)
    finals = [peer.last_episodes(finished[i], returns[i]) for i in range(seeds)]
    # per update: the mean return of the episodes that finished in it, for the curves
    done = finished.reshape(seeds, finished.shape[1], -1)
    totals = (returns.reshape(done.shape) * done).sum(-1)
    curves = np.where(done.sum(-1) > 0, totals / np.maximum(done.sum(-1), 1), np.nan)
    steps = config["NUM_UPDATES"] * config["NUM_STEPS"] * config["NUM_ENVS"]
    return dict(finals=finals, compile_seconds=compile_seconds, seconds=seconds, env_steps=steps, curves=curves)


def run_ours(task: str, seeds: int, timesteps: int, recurrent: bool, value_scaler: bool = True) -> dict:
    env = make_env(task)
    trainer = make_trainer(timesteps, recurrent=recurrent, progress=False, env=env, value_scaler=value_scaler)
    keys = jax.random.split(jax.random.key(0), seeds)
    (_, metrics), compile_seconds, seconds = timed(trainer.make_train(), keys)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=124_928, help="steps of the 4 vectorised envs per seed")
    parser.add_argument("--task", choices=sorted(TASKS), default="hidden-velocity-cartpole")
    parser.add_argument("--runs", default="peer,gru,feed-forward,gru-no-scaler", help="which runs, in this order")
    args = parser.parse_args()
    env_steps = args.timesteps * NUM_ENVS
    print(
        f"jax {jax.__version__}, {jax.devices()}; {args.seeds} seeds x {env_steps:,} env steps each, one run at a time"
    )
    runs = {}
    choices = {
        "peer": ("PureJaxRL ppo_rnn.py (GRU)", lambda: run_peer(args.task, args.seeds, env_steps)),
        "gru": ("ours PPO_RNN, shared GRU trunk", lambda: run_ours(args.task, args.seeds, args.timesteps, True)),
        "feed-forward": (
            "ours PPO, feed-forward trunk",
            lambda: run_ours(args.task, args.seeds, args.timesteps, recurrent=False),
        ),
        "peer-replay-fixed": (
            "PureJaxRL ppo_rnn.py, replay resets where the rollout did (--replay-resets previous)",
            lambda: run_peer(args.task, args.seeds, env_steps, replay_previous_done=True),
        ),
        "gru-no-scaler": (
            "ours PPO_RNN, shared GRU trunk, no value scaler (as PureJaxRL)",
            lambda: run_ours(args.task, args.seeds, args.timesteps, True, value_scaler=False),
        ),
    }
    for label, run in (choices[name] for name in args.runs.split(",")):
        runs[label] = run()
        result = runs[label]
        print(
            f"{label}: compile {result['compile_seconds']:.1f} s, run {result['seconds']:.1f} s, "
            f"last-20 return mean {np.mean(result['finals']):.1f}, worst {np.min(result['finals']):.1f}",
            flush=True,
        )
    peer = runs.get(choices["peer"][0])
    peer_speed = args.seeds * peer["env_steps"] / peer["seconds"] if peer else float("nan")
    rows = []
    print()
    print("| run | env steps/s | vs PureJaxRL | last-20 return mean | worst | per seed |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label, result in runs.items():
        speed = args.seeds * result["env_steps"] / result["seconds"]
        finals = np.asarray(result["finals"])
        print(
            f"| {label} | {speed:,.0f} | {speed / peer_speed:.2f}x | {finals.mean():.1f} | {finals.min():.1f} | "
            + ", ".join(f"{v:.0f}" for v in finals)
            + " |"
        )
        rows.append(
            dict(
                run=label,
                env_steps_per_second=speed,
                speed_vs_purejaxrl=speed / peer_speed,
                compile_seconds=result["compile_seconds"],
                seconds=result["seconds"],
                last20_mean=float(finals.mean()),
                last20_worst=float(finals.min()),
                last20_per_seed=finals.tolist(),
                env_steps_per_seed=result["env_steps"],
            )
        )
    name = (
        "recurrent_cartpole" if args.task == "hidden-velocity-cartpole" else f"recurrent_{args.task.replace('-', '_')}"
    )
    write_results(name, {"task": args.task, "seeds": args.seeds, "runs": rows})
    title = {"hidden-velocity-cartpole": "CartPole-v1 with hidden velocities", "memory-chain": "MemoryChain-bsuite"}
    plot(runs, HERE / "figures" / f"{name}.png", title[args.task])


if __name__ == "__main__":
    main()
