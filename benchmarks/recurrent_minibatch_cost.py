"""Where PPO_RNN's time goes against PureJaxRL's ppo_rnn.py: the same run with one minibatch of all sequences per
epoch, then with four minibatches of one sequence each.

Both sides: hidden-velocity CartPole, PureJaxRL's network (``examples/rnn_cartpole_hidden_velocity.py``'s and
``peers/purejaxrl_ppo_rnn.py``), 4 envs x 128 steps, sequences of 128, one epoch, ``--updates`` updates, ``--seeds``
seeds vmapped; each program compiled first, then timed alone with ``block_until_ready``, one at a time.

Run: python benchmarks/recurrent_minibatch_cost.py [--updates 100] [--seeds 2]
Writes benchmarks/results/recurrent_minibatch_cost.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _examples import load_example  # noqa: E402
from _results import write_results  # noqa: E402
from recurrent_cartpole import load_peer  # noqa: E402

from skrl_jax.agents.ppo import PPO_RNN  # noqa: E402
from skrl_jax.trainers import CompiledTrainer  # noqa: E402

rnn_example = load_example("rnn_cartpole_hidden_velocity")
NUM_ENVS, ROLLOUTS, make_trainer = rnn_example.NUM_ENVS, rnn_example.ROLLOUTS, rnn_example.make_trainer


def seconds(function, keys) -> float:
    executable = jax.jit(jax.vmap(function)).lower(keys).compile()
    start = time.perf_counter()
    jax.block_until_ready(executable(keys))
    return time.perf_counter() - start


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args()
    rows = []
    print("| minibatches per epoch | PureJaxRL s | ours s | ours / PureJaxRL time |")
    print("| --- | --- | --- | --- |")
    for mini_batches in (1, 4):
        peer = seconds(peer_train(args.updates, mini_batches), jax.random.split(jax.random.PRNGKey(0), args.seeds))
        ours = seconds(our_train(args.updates, mini_batches), jax.random.split(jax.random.key(0), args.seeds))
        print(f"| {mini_batches} | {peer:.2f} | {ours:.2f} | {ours / peer:.2f}x |", flush=True)
        rows.append({"mini_batches": mini_batches, "purejaxrl_seconds": peer, "ours_seconds": ours})
    write_results("recurrent_minibatch_cost", {"updates": args.updates, "seeds": args.seeds, "runs": rows})


if __name__ == "__main__":
    main()
