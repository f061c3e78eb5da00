"""DQN (or DDQN) on gymnasium CartPole-v1, with skrl's DQN CartPole example's settings or tuned ones.

``--settings skrl`` (default): skrl's example: 1 environment, 50,000 timesteps, a 50,000-transition
memory sampled without replacement, 64-64 ReLU Q-networks with every parameter from N(0, 0.1),
learning_starts 100, epsilon from 1.0 toward 0.04 with a time constant of 1,500 steps, the rest
of DQN's defaults (batch 64, lr 1e-3, polyak 0.005 every 10 steps).

``--settings tuned``: after rl-baselines3-zoo's CartPole DQN (256-256 networks, lr 2.3e-3, batch 64,
learning_starts 1000, a gradient step every step, the target network copied every 10 steps)
with an epsilon time constant of 3,000 steps; this project's choice, stated in docs/agents/dqn.md.

Run: python examples/dqn_cartpole.py [--settings skrl|tuned] [--double] [--seed 0] [--timesteps 50000]
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the greedy policy's return over 10 episodes
(the training episodes keep epsilon's random actions; their last-20 mean is printed before it).
"""

import argparse
import time

import flax.linen as nn
import gymnasium as gym
import numpy as np

from skrl_jax import config
from skrl_jax.agents.dqn import DDQN, DQN, DQN_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, Model


class QNetwork(DeterministicMixin, Model):
    """One Q-value per action."""

    def __init__(self, observation_space, action_space, device=None, width=64, init_stddev=None):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self)
        self.width = width
        self.init_stddev = init_stddev

    def setup(self):
        kwargs = {}
        if self.init_stddev is not None:  # skrl's example: model.init_parameters("normal", stddev=0.1)
            init = nn.initializers.normal(self.init_stddev)
            kwargs = {"kernel_init": init, "bias_init": init}
        self.net = nn.Sequential(
            [
                nn.Dense(self.width, **kwargs),
                nn.relu,
                nn.Dense(self.width, **kwargs),
                nn.relu,
                nn.Dense(self.action_space.n, **kwargs),
            ]
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


SETTINGS = {
    "skrl": {
        "network": {"width": 64, "init_stddev": 0.1},
        "memory_size": 50_000,
        "cfg": {"learning_starts": 100, "exploration": {"final_epsilon": 0.04, "timesteps": 1500}},
    },
    "tuned": {
        "network": {"width": 256},
        "memory_size": 100_000,
        "cfg": {
            "learning_rate": 2.3e-3,
            "batch_size": 64,
            "learning_starts": 1000,
            "polyak": 1.0,
            "target_update_interval": 10,
            "exploration": {"initial_epsilon": 1.0, "final_epsilon": 0.04, "timesteps": 3000},
        },
    },
}


def make_agent(env, settings: str = "skrl", double: bool = False) -> DQN:
    chosen = SETTINGS[settings]
    models = {
        name: QNetwork(env.observation_space, env.action_space, **chosen["network"])
        for name in ("q_network", "target_q_network")
    }
    cfg = DQN_DEFAULT_CONFIG.copy()
    cfg.update(chosen["cfg"])
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}
    memory = RandomMemory(memory_size=chosen["memory_size"], num_envs=env.num_envs, replacement=False)
    return (DDQN if double else DQN)(models=models, memory=memory, cfg=cfg)


def train(seed=0, timesteps=50_000, settings="skrl", double=False, progress=True):
    """The host loop; returns the agent and the env steps per second."""
    config.set_seed(seed)
    env = wrap_env(gym.make("CartPole-v1"))
    env.reset(seed=seed)
    agent = make_agent(env, settings, double)
    from skrl_jax.trainers import SequentialTrainer

    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": not progress}
    )
    start = time.perf_counter()
    trainer.train()
    return agent, timesteps / (time.perf_counter() - start)


def greedy_returns(agent, episodes: int = 10, seed: int = 0) -> np.ndarray:
    """Returns of ``episodes`` episodes played with the greedy action (argmax Q, no epsilon)."""
    env = wrap_env(gym.make("CartPole-v1"))
    states, _ = env.reset(seed=10_000 + seed)
    agent.set_mode("eval")
    returns, current, timestep = [], 0.0, 0
    while len(returns) < episodes:
        actions = agent.act(states, timestep, timestep + 1, deterministic=True)[0]
        states, rewards, terminated, truncated, _ = env.step(actions)
        current += float(rewards[0, 0])
        timestep += 1
        if bool(terminated[0, 0] | truncated[0, 0]):
            returns.append(current)
            current = 0.0
    env.close()
    return np.asarray(returns)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--settings", choices=sorted(SETTINGS), default="skrl")
    parser.add_argument("--double", action="store_true", help="DDQN instead of DQN")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=50_000)
    args = parser.parse_args()
    agent, steps_per_second = train(args.seed, args.timesteps, args.settings, args.double)
    returns = np.asarray(agent.episode_returns)
    best = max(returns[i : i + 20].mean() for i in range(len(returns) - 19))
    print(f"{steps_per_second:.0f} env steps/s; best 20-episode window {best:.1f}")
    print(f"mean return of the last 20 episodes (epsilon-greedy, training): {returns[-20:].mean():.1f}")
    print(f"greedy return (10 episodes): {greedy_returns(agent, seed=args.seed).mean():.1f}")
