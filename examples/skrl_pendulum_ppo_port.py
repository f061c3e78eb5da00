"""skrl's gymnasium Pendulum PPO example (skrl 1.4.3, JAX), ported to skrl_jax.

The models keep skrl's layers (64-64 ReLU, mean 2 * tanh) in setup() / compute(); the
configuration is the example's, key for key. skrl's own JAX backend never finished this
example's first update on a 2-core machine (its GAE is a Python loop unrolled in jit); here
the update compiles in seconds whatever `rollouts` is.
skrl's settings are kept as they are, so this example inherits their weakness: with discount 0.9
some seeds never learn to swing up, as skrl's own runs don't (`benchmarks/skrl_parity.py`);
examples/ppo_pendulum.py gives the settings that do on every seed.
Run: python examples/skrl_pendulum_ppo_port.py [--timesteps 100000] [--seed 0]
(timesteps count steps of the vector environment: 100,000 x 4 environments = 400,000 env steps)
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the mean return of the last 20 episodes.
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from skrl_jax import config
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer


class Policy(GaussianMixin, Model):
    def __init__(
        self,
        observation_space,
        action_space,
        device=None,
        clip_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
        **kwargs,
    ):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(64), nn.relu, nn.Dense(64), nn.relu, nn.Dense(self.num_actions)])
        self.log_std = self.param("log_std", lambda _: jnp.zeros(self.num_actions))

    def compute(self, inputs, role):
        return 2 * nn.tanh(self.net(inputs["states"])), self.log_std, {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(64), nn.relu, nn.Dense(64), nn.relu, nn.Dense(1)])

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def make_agent(env, rollouts: int = 1024, parameter_init: str | None = None, **cfg_changes) -> PPO:
    """skrl's example agent; ``cfg_changes`` override its cfg (benchmarks/skrl_parity_ports.py adds
    ``mixed_precision=True``, which skrl's PyTorch example sets, and the minibatch order)."""
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs)
    models = {
        "policy": Policy(env.observation_space, env.action_space, clip_actions=True, parameter_init=parameter_init),
        "value": Value(env.observation_space, env.action_space, parameter_init=parameter_init),
    }
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = rollouts  # memory_size
    cfg["learning_epochs"] = 10
    cfg["mini_batches"] = 32
    cfg["discount_factor"] = 0.9
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["grad_norm_clip"] = 0.5
    cfg["ratio_clip"] = 0.2
    cfg["value_clip"] = 0.2
    cfg["clip_predicted_values"] = False
    cfg["entropy_loss_scale"] = 0.0
    cfg["value_loss_scale"] = 0.5
    cfg["kl_threshold"] = 0
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1}
    cfg.update(cfg_changes)
    return PPO(
        models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space
    )


def make_env():
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=4, vectorization_mode="sync"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config.set_seed(args.seed)
    env = make_env()
    agent = make_agent(env)
    SequentialTrainer(env, agent, cfg={"timesteps": args.timesteps, "headless": True}).train()
    print(f"episodes: {len(agent.episode_returns)}")
    print(f"mean return of the last 20 episodes: {sum(agent.episode_returns[-20:]) / 20:.1f}")
