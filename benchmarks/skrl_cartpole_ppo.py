"""skrl's own JAX PPO on gymnasium CartPole-v1 (4 envs), with skrl's CartPole PPO settings.

Run by host_speed.py in a subprocess; needs `pip install "skrl[jax]==1.4.3"`.
Prints one line: "env_steps=<n> seconds=<s>".
"""

import sys
import time

import flax.linen as nn
import gymnasium as gym
from skrl import config

config.jax.backend = "jax"

from skrl.agents.jax.ppo import PPO, PPO_DEFAULT_CONFIG  # noqa: E402
from skrl.envs.wrappers.jax import wrap_env  # noqa: E402
from skrl.memories.jax import RandomMemory  # noqa: E402
from skrl.models.jax import CategoricalMixin, DeterministicMixin, Model  # noqa: E402
from skrl.resources.preprocessors.jax import RunningStandardScaler  # noqa: E402
from skrl.resources.schedulers.jax import KLAdaptiveRL  # noqa: E402
from skrl.trainers.jax import SequentialTrainer  # noqa: E402
from skrl.utils import set_seed  # noqa: E402


class Policy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self, unnormalized_log_prob)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.elu(nn.Dense(32)(inputs["states"]))
        x = nn.elu(nn.Dense(32)(x))
        return nn.Dense(self.num_actions)(x), {}


class Value(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    @nn.compact
    def __call__(self, inputs, role):
        x = nn.elu(nn.Dense(32)(inputs["states"]))
        x = nn.elu(nn.Dense(32)(x))
        return nn.Dense(1)(x), {}


class FlatDiscreteActions(gym.vector.VectorActionWrapper):
    """skrl 1.4.3 hands a vector env Discrete actions of shape (num_envs, 1); gymnasium 1.x wants (num_envs,)."""

    def actions(self, actions):
        return actions.reshape(-1)


def main(timesteps: int) -> None:
    set_seed(0)
    env = wrap_env(FlatDiscreteActions(gym.make_vec("CartPole-v1", num_envs=4, vectorization_mode="sync")))
    device = env.device
    memory = RandomMemory(memory_size=32, num_envs=env.num_envs, device=device)
    models = {
        "policy": Policy(env.observation_space, env.action_space, device),
        "value": Value(env.observation_space, env.action_space, device),
    }
    for role, model in models.items():
        model.init_state_dict(role)
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=32,
        learning_epochs=8,
        mini_batches=8,
        discount_factor=0.99,
        learning_rate=5e-4,
        learning_rate_scheduler=KLAdaptiveRL,
        learning_rate_scheduler_kwargs={"kl_threshold": 0.008},
        grad_norm_clip=1.0,
        clip_predicted_values=True,
        value_loss_scale=2.0,
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": env.observation_space, "device": device},
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1, "device": device},
    )
    cfg["experiment"] = dict(cfg["experiment"], write_interval=0, checkpoint_interval=0, directory="/tmp/skrl_runs")
    agent = PPO(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
    )
    trainer = SequentialTrainer(
        cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True}, env=env, agents=[agent]
    )
    start = time.perf_counter()
    trainer.train()
    print(f"env_steps={timesteps * env.num_envs} seconds={time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]))
