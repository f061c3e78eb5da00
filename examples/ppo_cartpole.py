"""PPO with a shared Categorical + value model on gymnasium CartPole-v1 (8 environments).

Run: python examples/ppo_cartpole.py [--timesteps 12500] [--seed 0]
(timesteps count steps of the vector environment: 12,500 x 8 environments = 100,000 env steps)
"""

import argparse

import flax.linen as nn
import gymnasium as gym

from skrl_jax import config
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer

NUM_ENVS = 8


class SharedModel(CategoricalMixin, DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob=True, role="policy")
        DeterministicMixin.__init__(self, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(64), nn.tanh])  # shared
        self.logits_layer = nn.Dense(self.num_actions)
        self.value_layer = nn.Dense(1)

    def compute(self, inputs, role):
        if role == "policy":
            return self.logits_layer(self.net(inputs["states"])), {}
        elif role == "value":
            return self.value_layer(self.net(inputs["states"])), {}


def make_agent(env, shared: bool = True) -> PPO:
    model = SharedModel(env.observation_space, env.action_space)
    models = {"policy": model, "value": model if shared else SharedModel(env.observation_space, env.action_space)}
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 64
    cfg["learning_epochs"] = 8
    cfg["mini_batches"] = 4
    cfg["discount_factor"] = 0.99
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1}
    memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs)
    return PPO(
        models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space
    )


def train(seed: int = 0, timesteps: int = 12_500, progress: bool = True) -> PPO:
    config.set_seed(seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync"))
    env.reset(seed=seed)
    agent = make_agent(env)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": not progress}
    )
    trainer.train()
    return agent


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=12_500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    agent = train(args.seed, args.timesteps)
    print(
        f"episodes: {len(agent.episode_returns)}; mean return of the last 20: {sum(agent.episode_returns[-20:]) / 20:.1f}"
    )
