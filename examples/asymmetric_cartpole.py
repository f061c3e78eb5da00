"""Asymmetric actor-critic with skrl 2.x's privileged states: CartPole-v1 whose policy sees the cart
position and the pole angle only, and whose value sees the whole state (``env.state()``), against the
same model whose value sees only what the policy sees.

The environment is ``privileged_state(wrap_env(CartPole-v1 x 8), [0, 2])``: observations ``[x, theta]``,
privileged state ``[x, x_dot, theta, theta_dot]``. One shared model (the trunk on the observations, once
per joint pass); its value head reads ``concatenate([trunk(observations), states])`` (``--value full``)
or ``trunk(observations)`` alone (``--value observations``). PPO is built the skrl 2.x way
(``PPO_CFG``, ``state_space=``) and the SequentialTrainer passes ``env.state()`` each step.

Run: python examples/asymmetric_cartpole.py [--value full|observations] [--seed 0] [--timesteps 100000]
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the mean return of the last 20 episodes.
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from skrl_jax.agents.ppo import PPO, PPO_CFG
from skrl_jax.envs import privileged_state, wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils import set_seed

POSITIONS = [0, 2]  # x and theta of CartPole's [x, x_dot, theta, theta_dot]


class Shared(CategoricalMixin, DeterministicMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device=None, value_reads_states=True):
        Model.__init__(
            self, observation_space=observation_space, state_space=state_space, action_space=action_space, device=device
        )
        CategoricalMixin.__init__(self, role="policy")
        DeterministicMixin.__init__(self, role="value")
        self.value_reads_states = value_reads_states

    def setup(self):
        self.trunk = nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(64), nn.tanh])
        self.logits = nn.Dense(self.num_actions)
        self.value_head = nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(1)])

    def compute(self, inputs, role):
        features = self.trunk(inputs["observations"])
        if role == "policy":
            return self.logits(features), {}
        if self.value_reads_states:
            features = jnp.concatenate([features, inputs["states"]], axis=-1)
        return self.value_head(features), {}


def make_env(num_envs: int = 8):
    return privileged_state(
        wrap_env(gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")), POSITIONS
    )


def make_agent(env, value: str = "full") -> PPO:
    model = Shared(env.observation_space, env.state_space, env.action_space, value_reads_states=value == "full")
    cfg = PPO_CFG(rollouts=128, learning_epochs=4, mini_batches=4, learning_rate=2.5e-4, entropy_loss_scale=0.01)
    cfg.value_loss_scale = 0.5
    cfg.experiment.write_interval = cfg.experiment.checkpoint_interval = 0
    return PPO(
        models={"policy": model, "value": model},
        memory=RandomMemory(memory_size=cfg.rollouts, num_envs=env.num_envs),
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        cfg=cfg,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--value", choices=("full", "observations"), default="full")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=12_500, help="trainer steps (x 8 environments)")
    args = parser.parse_args()
    set_seed(args.seed)
    env = make_env()
    agent = make_agent(env, args.value)
    SequentialTrainer(env=env, agents=agent, cfg={"timesteps": args.timesteps, "headless": True}).train()
    print(f"value reads: {args.value}; episodes: {len(agent.episode_returns)}")
    print(f"mean return of the last 20 episodes: {sum(agent.episode_returns[-20:]) / 20:.1f}")
