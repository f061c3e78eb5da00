"""PPO_RNN with a shared recurrent trunk on CartPole-v1 with its velocities hidden, compiled.

The agent sees only the cart position and the pole angle (``hidden_velocity_cartpole``), so it
has to infer the velocities from what it saw before: a task that needs memory. One GRU trunk
(Dense(128)-ReLU, then GRU(128)) serves the policy and the value heads; its hidden state is
carried from step to step, reset where an episode ends, and PPO_RNN trains on whole sequences
of 128 steps from their stored initial hidden states. The network and settings are PureJaxRL's
``ppo_rnn.py`` (4 envs x 128 steps, 4 epochs x 4 minibatches, lr 2.5e-4 annealed linearly,
entropy 0.01, 500,000 env steps); ``--feed-forward`` swaps the GRU for a Dense(128)-ReLU layer.

First one seed in compiled chunks (a progress bar), then ``--seeds`` seeds in one vmapped call.
Final line: the mean (and worst) over seeds of the return of the last 20 training episodes,
the measure of its row in docs/recurrent.md (``python benchmarks/recurrent_cartpole.py`` prints the table).
Run: python examples/rnn_cartpole_hidden_velocity.py [--seeds 8] [--timesteps 124928] [--feed-forward]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import flax.linen as nn
import jax
import numpy as np
import optax

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG, PPO_RNN
from skrl_jax.envs import hidden_velocity_cartpole, wrap_env
from skrl_jax.models import GRU, CategoricalHead, DeterministicHead, RecurrentTrunk, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer

NUM_ENVS = 4
ROLLOUTS = 128
WIDTH = 128


def make_trainer(
    timesteps: int = 124_928,
    recurrent: bool = True,
    progress: bool = True,
    sequence_length: int = ROLLOUTS,
    env: Any = None,
    value_scaler: bool = True,
) -> CompiledTrainer:
    """``timesteps`` steps of the 4 vectorised environments (976 updates: 499,712 env steps) of
    ``env`` (a wrapped gymnax environment; the hidden-velocity CartPole by default).
    ``value_scaler``: standardise the values and returns (skrl's ``value_preprocessor``), which
    PureJaxRL's ppo_rnn.py does not do."""
    env = wrap_env(hidden_velocity_cartpole("gymnax")) if env is None else env

    def dense(features: int, scale: float) -> nn.Dense:  # PureJaxRL's orthogonal initialisation
        return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale))

    def head(outputs: int, scale: float) -> nn.Module:
        return nn.Sequential([dense(WIDTH, np.sqrt(2)), nn.relu, dense(outputs, scale)])

    embedding = nn.Sequential([dense(WIDTH, np.sqrt(2)), nn.relu])
    heads = {
        "policy": CategoricalHead(network=head(env.action_space.n, 0.01)),
        "value": DeterministicHead(network=head(1, 1.0)),
    }
    if recurrent:
        trunk = RecurrentTrunk(GRU(WIDTH), before=embedding)
        model = shared_model(env.observation_space, env.action_space, trunk, heads, sequence_length=sequence_length)
    else:
        model = shared_model(env.observation_space, env.action_space, embedding, heads)
    learning_epochs = 4
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=ROLLOUTS,
        learning_epochs=learning_epochs,
        mini_batches=4,
        discount_factor=0.99,
        learning_rate=2.5e-4,
        learning_rate_scheduler=optax.linear_schedule,
        learning_rate_scheduler_kwargs={
            "init_value": 1.0,
            "end_value": 0.0,
            "transition_steps": (timesteps // ROLLOUTS) * learning_epochs,
        },
        grad_norm_clip=0.5,
        ratio_clip=0.2,
        entropy_loss_scale=0.01,
        value_loss_scale=0.5,
        value_preprocessor=RunningStandardScaler if value_scaler else None,
        value_preprocessor_kwargs={"size": 1} if value_scaler else {},
        experiment={"write_interval": 0, "checkpoint_interval": 0},
    )
    agent = (PPO_RNN if recurrent else PPO)(models={"policy": model, "value": model}, cfg=cfg)
    trainer_cfg = {"timesteps": timesteps, "num_envs": NUM_ENVS, "disable_progressbar": not progress}
    return CompiledTrainer(env, agent, cfg=trainer_cfg)


def last_episodes_return(metrics: dict, count: int = 20) -> float:
    """The mean return of (at least) the last ``count`` training episodes, from the per-update
    mean returns and episode counts the compiled trainer reports (the latest updates first)."""
    returns, episodes = np.asarray(metrics["episode_return"]), np.asarray(metrics["episodes"])
    total = weight = 0.0
    for value, number in zip(returns[::-1], episodes[::-1]):
        if number:
            total, weight = total + value * number, weight + number
        if weight >= count:
            break
    return total / weight if weight else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=124_928, help="steps of the 4 vectorised envs")
    parser.add_argument("--feed-forward", action="store_true", help="a Dense layer instead of the GRU")
    args = parser.parse_args()
    name = "PPO, feed-forward" if args.feed_forward else "PPO_RNN, GRU"

    trainer = make_trainer(args.timesteps, recurrent=not args.feed_forward)
    start = time.perf_counter()
    runner, metrics = trainer.train(jax.random.key(0))
    print(
        f"one seed ({name}), compiled chunks: {time.perf_counter() - start:.1f} s, last-20 return {last_episodes_return(metrics):.1f}"
    )
    greedy = jax.jit(trainer.make_evaluate(num_episodes=10, max_steps=500))(runner.agent_state, jax.random.key(1))
    print(f"greedy return of that policy over 10 episodes (hidden state carried): {float(np.mean(greedy)):.1f}")

    seeds = make_trainer(args.timesteps, recurrent=not args.feed_forward, progress=False)
    keys = jax.random.split(jax.random.key(1), args.seeds)
    train = jax.jit(jax.vmap(seeds.make_train())).lower(keys).compile()
    start = time.perf_counter()
    _, metrics = jax.block_until_ready(train(keys))
    seconds = time.perf_counter() - start
    finals = np.array([last_episodes_return(jax.tree.map(lambda x, i=i: x[i], metrics)) for i in range(args.seeds)])
    env_steps = args.timesteps * NUM_ENVS
    print(f"{args.seeds} seeds vmapped: {seconds:.1f} s, {args.seeds * env_steps / seconds:,.0f} env steps/s")
    print(
        f"hidden-velocity CartPole, {name}, {env_steps:,} env steps: last-20 return mean "
        f"{finals.mean():.1f}, worst {finals.min():.1f} over {args.seeds} seeds"
    )


if __name__ == "__main__":
    main()
