"""PPO with a shared Categorical + value model on gymnasium CartPole-v1 (8 environments).

Settings: rollouts 64 x 8 envs, 10 epochs x 4 minibatches, lr 1e-3 decaying linearly to 0 over the
run (an optax schedule as `learning_rate_scheduler`), running scalers, 300,000 env steps: the
decay lets the policy settle by the end of the run (`python benchmarks/examples_learning.py
--examples ppo_cartpole`: 5/5 seeds at or above 475).

Run: python examples/ppo_cartpole.py [--timesteps 37500] [--seed 0]
(timesteps count steps of the vector environment: 37,500 x 8 environments = 300,000 env steps)
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the mean return of the last 20 episodes.
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import optax

from skrl_jax import config
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
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


def make_agent(env, shared: bool = True, timesteps: int = 37_500) -> PPO:
    model = SharedModel(env.observation_space, env.action_space)
    models = {"policy": model, "value": model if shared else SharedModel(env.observation_space, env.action_space)}
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 64
    cfg["learning_epochs"] = 10
    cfg["mini_batches"] = 4
    cfg["discount_factor"] = 0.99
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 1e-3
    epochs = (timesteps // cfg["rollouts"]) * cfg["learning_epochs"]
    cfg["learning_rate_scheduler"] = optax.linear_schedule  # a factor on learning_rate, per epoch
    cfg["learning_rate_scheduler_kwargs"] = {"init_value": 1.0, "end_value": 0.0, "transition_steps": epochs}
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1}
    memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs)
    return PPO(
        models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space
    )


def train(seed: int = 0, timesteps: int = 37_500, progress: bool = True) -> PPO:
    config.set_seed(seed)
    env = wrap_env(gym.make_vec("CartPole-v1", num_envs=NUM_ENVS, vectorization_mode="sync"))
    agent = make_agent(env, timesteps=timesteps)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": not progress}
    )
    trainer.train()
    return agent


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=37_500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    agent = train(args.seed, args.timesteps)
    print(f"episodes: {len(agent.episode_returns)}")
    print(f"mean return of the last 20 episodes: {sum(agent.episode_returns[-20:]) / 20:.1f}")
