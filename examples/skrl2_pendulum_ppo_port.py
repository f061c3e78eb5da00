"""skrl's gymnasium Pendulum PPO example in its skrl 2.x form (tag 2.0.0, JAX), ported to skrl_jax.

Beside examples/skrl_pendulum_ppo_port.py (the same example in skrl 1.4.3's form). The models and
the configuration are skrl's 2.x lines with only the imports changed: ``Model.__init__`` with
``state_space=``, ``compute`` reading ``inputs["observations"]`` and returning ``mean, {"log_std":
...}``, a ``PPO_CFG`` with ``gae_lambda`` and ``observation_preprocessor``, and ``PPO(...,
state_space=...)``. skrl's script body is kept in ``make_agent`` / ``__main__``, as in the 1.4 port,
so that tests and benchmarks can build it. The environment runs 4 vectorised Pendulums (skrl's
``--num_envs``), as the 1.4 port does.

Run: python examples/skrl2_pendulum_ppo_port.py [--timesteps 100000] [--seed 0]
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the mean return of the last 20 episodes.
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import jax.numpy as jnp

from skrl_jax import config
from skrl_jax.agents.ppo import PPO, PPO_CFG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import DeterministicMixin, GaussianMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils import set_seed


# define models (stochastic and deterministic models) using mixins
class Policy(GaussianMixin, Model):
    def __init__(
        self,
        observation_space,
        state_space,
        action_space,
        device,
        clip_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
        **kwargs,
    ):
        Model.__init__(
            self,
            observation_space=observation_space,
            state_space=state_space,
            action_space=action_space,
            device=device,
            **kwargs,
        )
        GaussianMixin.__init__(
            self,
            clip_actions=clip_actions,
            clip_log_std=clip_log_std,
            min_log_std=min_log_std,
            max_log_std=max_log_std,
            reduction=reduction,
        )

    @nn.compact  # marks the given module method allowing inlined submodules
    def __call__(self, inputs, role):
        x = nn.relu(nn.Dense(64)(inputs["observations"]))
        x = nn.relu(nn.Dense(64)(x))
        x = nn.Dense(self.num_actions)(x)
        log_std = self.param("log_std", lambda _: jnp.zeros(self.num_actions))
        # Pendulum-v1 action_space is -2 to 2
        return 2.0 * nn.tanh(x), {"log_std": log_std}


class Value(DeterministicMixin, Model):
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
        x = nn.relu(nn.Dense(64)(inputs["observations"]))
        x = nn.relu(nn.Dense(64)(x))
        x = nn.Dense(1)(x)
        return x, {}


def make_env(num_envs: int = 4):
    return wrap_env(gym.make_vec("Pendulum-v1", num_envs=num_envs, vectorization_mode="sync"))


def make_agent(env, rollouts: int = 1024, **cfg_changes) -> PPO:
    """skrl's 2.x example agent (``rollouts``: its 1024); ``cfg_changes`` set ``PPO_CFG`` fields."""
    device = env.device
    memory = RandomMemory(memory_size=rollouts, num_envs=env.num_envs, device=device)

    models = {}
    models["policy"] = Policy(env.observation_space, env.state_space, env.action_space, device)
    models["value"] = Value(env.observation_space, env.state_space, env.action_space, device)
    for role, model in models.items():
        model.init_state_dict(role=role)

    cfg = PPO_CFG()
    cfg.rollouts = rollouts  # memory_size
    cfg.learning_epochs = 10
    cfg.mini_batches = 32
    cfg.discount_factor = 0.9
    cfg.gae_lambda = 0.95
    cfg.learning_rate = 1e-3
    cfg.learning_rate_scheduler = KLAdaptiveLR
    cfg.learning_rate_scheduler_kwargs = {"kl_threshold": 0.008}
    cfg.grad_norm_clip = 0.5
    cfg.ratio_clip = 0.2
    cfg.value_clip = 0.2
    cfg.entropy_loss_scale = 0.0
    cfg.value_loss_scale = 0.5
    cfg.kl_threshold = 0
    cfg.observation_preprocessor = RunningStandardScaler
    cfg.observation_preprocessor_kwargs = {"size": env.observation_space, "device": device}
    cfg.value_preprocessor = RunningStandardScaler
    cfg.value_preprocessor_kwargs = {"size": 1, "device": device}
    cfg.experiment.write_interval = 0  # the example writes TensorBoard data and checkpoints: not here
    cfg.experiment.checkpoint_interval = 0
    for name, value in cfg_changes.items():
        setattr(cfg, name, value)

    return PPO(
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
    parser.add_argument("--timesteps", type=int, default=100_000)
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
