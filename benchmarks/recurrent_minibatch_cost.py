"""Where PPO_RNN's time goes against PureJaxRL's ppo_rnn.py: the same run with one minibatch of all sequences per
epoch, then with four minibatches of one sequence each.

Both sides: hidden-velocity CartPole, PureJaxRL's network (``examples/rnn_cartpole_hidden_velocity.py``'s and
``peers/purejaxrl_ppo_rnn.py``), 4 envs x 128 steps, sequences of 128, one epoch, ``--updates`` updates, ``--seeds``
seeds vmapped; each program compiled first, then timed alone with ``block_until_ready``, one at a time.

Run: python benchmarks/recurrent_minibatch_cost.py [--updates 100] [--seeds 2] [--repeats 3]
Each program is timed ``--repeats`` times, the four interleaved, and the median kept. Writes
benchmarks/results/recurrent_minibatch_cost.json; ``--table`` prints the table from it, running nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import jax

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import read_results, write_results  # noqa: E402
from recurrent_cartpole import compiled_run, load_peer  # noqa: E402

from skrl_jax.agents.ppo import PPO_RNN  # noqa: E402
from skrl_jax.trainers import CompiledTrainer  # noqa: E402

rnn_example = load_example("rnn_cartpole_hidden_velocity")
NUM_ENVS, ROLLOUTS, make_trainer = rnn_example.NUM_ENVS, rnn_example.ROLLOUTS, rnn_example.make_trainer


def peer_train(updates: int, mini_batches: int):
    peer = load_peer()
    config = peer.default_config(peer.HIDDEN_VELOCITY, updates * ROLLOUTS * NUM_ENVS)
    config.update(UPDATE_EPOCHS=1, NUM_MINIBATCHES=mini_batches)
    train = peer.make_train(config)
    return lambda key: train(key)["metric"]["returned_episode_returns"]


def our_train(updates: int, mini_batches: int):
    trainer = make_trainer(updates * ROLLOUTS, progress=False)
    cfg = dict(trainer.agents.cfg, learning_epochs=1, mini_batches=mini_batches, learning_rate_scheduler=None)
    agent = PPO_RNN(models=trainer.agents.models, cfg=cfg)
    trainer = CompiledTrainer(trainer.env, agent, cfg=trainer.cfg)
    train = trainer.make_train()
    return lambda key: train(key)[1]["episode_return"]


def table(result: dict) -> list[str]:
    lines = [
        "| minibatches per epoch | PureJaxRL s | ours s | ours / PureJaxRL time |",
        "| --- | --- | --- | --- |",
    ]
    for row in result["runs"]:
        peer, ours = row["purejaxrl_seconds"], row["ours_seconds"]
        lines.append(f"| {row['mini_batches']} | {peer:.2f} | {ours:.2f} | {ours / peer:.2f}x |")
    lines.append(
        f"| {result['updates']} updates, {result['seeds']} seeds; median of {result['repeats']} interleaved runs | "
        f"commit {result['commit']} | {result['date'][:10]} | |"
    )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--table", action="store_true", help="print the table of the results file; run nothing")
    args = parser.parse_args()
    if not args.table:
        peer_keys = jax.random.split(jax.random.PRNGKey(0), args.seeds)
        our_keys = jax.random.split(jax.random.key(0), args.seeds)
        programs = {
            (side, mini_batches): compiled_run(train(args.updates, mini_batches), keys)
            for mini_batches in (1, 4)
            for side, train, keys in (("purejaxrl", peer_train, peer_keys), ("ours", our_train, our_keys))
        }
        times = {program: [] for program in programs}
        for repeat in range(args.repeats):
            for (side, mini_batches), seconds in programs.items():
                times[side, mini_batches].append(seconds())
                print(
                    f"run {repeat}, {mini_batches} minibatch(es), {side}: {times[side, mini_batches][-1]:.2f} s",
                    flush=True,
                )
        rows = [
            {
                "mini_batches": mini_batches,
                **{f"{side}_seconds": statistics.median(times[side, mini_batches]) for side in ("purejaxrl", "ours")},
                **{f"{side}_runs": times[side, mini_batches] for side in ("purejaxrl", "ours")},
            }
            for mini_batches in (1, 4)
        ]
        write_results(
            "recurrent_minibatch_cost",
            {"updates": args.updates, "seeds": args.seeds, "repeats": args.repeats, "runs": rows},
        )
    print("\n".join(table(read_results("recurrent_minibatch_cost"))))


if __name__ == "__main__":
    main()
