"""skrl's gym Pendulum TD3 example in its skrl 2.x form (tag 2.0.0, JAX), ported to skrl_jax.

The models and the configuration are skrl's 2.x lines with only the imports changed: ``Model.__init__``
with ``state_space=``, an ``@nn.compact __call__`` reading ``inputs["observations"]``,
``model.init_parameters(method_name="normal", stddev=0.1)``, a ``TD3_CFG`` with the noise classes and
their kwargs and an ``exploration_scheduler`` written with ``max`` (tabulated over the run, see
``skrl_jax.agents.off_policy.schedule``), and ``TD3(..., state_space=...)``. skrl's script body is
kept in ``make_agent`` / ``__main__``, as in the PPO ports. skrl's gym (``gym.make``) becomes
gymnasium's, one environment, as skrl's default ``--num_envs 1``.

Run: python examples/skrl2_pendulum_td3_port.py [--timesteps 15000] [--seed 0]
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the mean return of the last 20 episodes.
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from skrl_jax import config
from skrl_jax.agents.td3 import TD3, TD3_CFG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, Model
from skrl_jax.resources.noises import GaussianNoise
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils import set_seed


# define models (deterministic models) using mixin
class Actor(DeterministicMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device, clip_actions=False, **kwargs):
        Model.__init__(
            self,
            observation_space=observation_space,
            state_space=state_space,
            action_space=action_space,
            device=device,
            **kwargs,
        )
        DeterministicMixin.__init__(self, clip_actions=clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.relu(nn.Dense(400)(inputs["observations"]))
        x = nn.relu(nn.Dense(300)(x))
        x = nn.Dense(self.num_actions)(x)
        # Pendulum-v1 action_space is -2 to 2
        return 2.0 * nn.tanh(x), {}


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device, **kwargs):
        Model.__init__(
            self,
            observation_space=observation_space,
            state_space=state_space,
            action_space=action_space,
            device=device,
            **kwargs,
        )
        DeterministicMixin.__init__(self)

    @nn.compact  # marks the given module method allowing inlined submodules
    def __call__(self, inputs, role):
        x = jnp.concatenate([inputs["observations"], inputs["taken_actions"]], axis=-1)
        x = nn.relu(nn.Dense(400)(x))
        x = nn.relu(nn.Dense(300)(x))
        x = nn.Dense(1)(x)
        return x, {}


def make_env():
    return wrap_env(gym.make("Pendulum-v1"))


def make_agent(env, **cfg_changes) -> TD3:
    """skrl's 2.x example agent; ``cfg_changes`` set ``TD3_CFG`` fields."""
    device = env.device
    memory = RandomMemory(memory_size=15000, num_envs=env.num_envs, device=device, replacement=False)

    models = {}
    models["policy"] = Actor(env.observation_space, env.state_space, env.action_space, device)
    models["target_policy"] = Actor(env.observation_space, env.state_space, env.action_space, device)
    models["critic_1"] = Critic(env.observation_space, env.state_space, env.action_space, device)
    models["critic_2"] = Critic(env.observation_space, env.state_space, env.action_space, device)
    models["target_critic_1"] = Critic(env.observation_space, env.state_space, env.action_space, device)
    models["target_critic_2"] = Critic(env.observation_space, env.state_space, env.action_space, device)

    # instantiate models' state dict
    for role, model in models.items():
        model.init_state_dict(role=role)

    # initialize models' parameters (weights and biases)
    for model in models.values():
        model.init_parameters(method_name="normal", stddev=0.1)

    cfg = TD3_CFG()
    cfg.exploration_noise = GaussianNoise
    cfg.exploration_noise_kwargs = {"mean": 0.0, "std": 0.1, "device": device}
    cfg.exploration_scheduler = lambda timestep, timesteps: max(1 - timestep / timesteps, 1e-2)
    cfg.smooth_regularization_noise = GaussianNoise
    cfg.smooth_regularization_noise_kwargs = {"mean": 0.0, "std": 0.2, "device": device}
    cfg.smooth_regularization_clip = 0.5
    cfg.discount_factor = 0.98
    cfg.batch_size = 100
    cfg.random_timesteps = 100
    cfg.learning_starts = 100
    cfg.experiment.write_interval = 0  # the example writes TensorBoard data and checkpoints: not here
    cfg.experiment.checkpoint_interval = 0
    for name, value in cfg_changes.items():
        setattr(cfg, name, value)

    return TD3(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        device=device,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=15_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    config.jax.backend = "numpy"  # skrl's line: accepted, no effect here
    set_seed(args.seed)
    env = make_env()
    agent = make_agent(env)
    cfg_trainer = {"timesteps": args.timesteps, "headless": True}
    trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=agent)
    trainer.train()
    print(f"episodes: {len(agent.episode_returns)}")
    print(f"mean return of the last 20 episodes: {sum(agent.episode_returns[-20:]) / 20:.1f}")
