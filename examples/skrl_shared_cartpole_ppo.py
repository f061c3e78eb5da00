"""PPO with a shared model on CartPole, written against skrl 1.4's API.

Ported from skrl 1.4.3's shared-model PPO example (docs/source/examples/isaacgym/torch_cartpole_ppo.py):
its ``Shared`` model (mixins declared without ``role=``, an ``act`` override dispatching by role,
``compute`` on ``inputs["states"]``) with torch's layers as flax's, and a ``PPO_DEFAULT_CONFIG``
dict. The settings are those of the 2.x example beside it (examples/skrl2_shared_cartpole_ppo.py,
from skrl 2.0.0's playground Cartpole) written in 1.4's keys, so that the two scripts are one task
in two APIs and train to the same returns; as there, the policy is a ``CategoricalMixin`` for
CartPole-v1's two discrete actions, on 16 vectorised environments.

- host loop (``SequentialTrainer`` over gymnasium's CartPole-v1): the default;
- ``--compiled``: the whole run compiled (``CompiledTrainer`` over gymnax's CartPole-v1).

Run: python examples/skrl_shared_cartpole_ppo.py [--timesteps 12500] [--seed 0] [--compiled]
The last line is the docs' measure: the mean return of the last 20 episodes.
"""

import argparse

import flax.linen as nn
import gymnasium as gym
import gymnax
import jax
import numpy as np

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import CompiledTrainer, SequentialTrainer, last_episodes_return
from skrl_jax.utils import set_seed

NUM_ENVS = 16


# define the shared model (stochastic and deterministic models) using mixins
class Shared(CategoricalMixin, DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, unnormalized_log_prob=True):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob)
        DeterministicMixin.__init__(self)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])
        self.value_layer = nn.Dense(1)
        self.policy_layer = nn.Dense(self.num_actions)

    def act(self, inputs, role):
        if role == "policy":
            return CategoricalMixin.act(self, inputs, role)
        elif role == "value":
            return DeterministicMixin.act(self, inputs, role)

    def compute(self, inputs, role):
        # skrl keeps self._shared_output between the two calls; a joint call computes the trunk once here
        if role == "policy":
            return self.policy_layer(self.net(inputs["states"])), {}
        elif role == "value":
            return self.value_layer(self.net(inputs["states"])), {}


def make_env(compiled: bool = False, num_envs: int = NUM_ENVS):
    if compiled:
        return wrap_env(gymnax.make("CartPole-v1")[0])
    return wrap_env(gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync"))


def make_agent(env, num_envs: int = NUM_ENVS, compiled: bool = False, **cfg_changes) -> PPO:
    device = env.device
    # a compiled run keeps its rollout in the trainer's state: no memory object
    memory = None if compiled else RandomMemory(memory_size=32, num_envs=num_envs, device=device)

    models = {}
    models["policy"] = Shared(env.observation_space, env.action_space, device)
    models["value"] = models["policy"]  # same instance: shared model

    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 32  # memory_size
    cfg["learning_epochs"] = 8
    cfg["mini_batches"] = 8
    cfg["discount_factor"] = 0.99
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 5e-4
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["random_timesteps"] = 0
    cfg["learning_starts"] = 0
    cfg["grad_norm_clip"] = 1.0
    cfg["ratio_clip"] = 0.2
    cfg["value_clip"] = 0.2
    cfg["clip_predicted_values"] = True
    cfg["entropy_loss_scale"] = 0.0
    cfg["value_loss_scale"] = 2.0
    cfg["kl_threshold"] = 0
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space, "device": device}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
    cfg["experiment"] = {"write_interval": 0, "checkpoint_interval": 0}  # no TensorBoard data nor checkpoints
    cfg.update(cfg_changes)

    return PPO(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
    )


def train(seed: int = 0, timesteps: int = 12_500, compiled: bool = False, progress: bool = True) -> float:
    """One run; returns the mean return of the last 20 episodes."""
    set_seed(seed)
    env = make_env(compiled)
    agent = make_agent(env, compiled=compiled)
    cfg_trainer = {"timesteps": timesteps, "headless": True, "disable_progressbar": not progress}
    if compiled:
        trainer = CompiledTrainer(env, agent, cfg={**cfg_trainer, "num_envs": NUM_ENVS})
        _, metrics = trainer.train(jax.random.key(seed))
        return float(last_episodes_return(metrics))
    trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=agent)
    trainer.train()
    return float(np.mean(agent.episode_returns[-20:]))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=12_500)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compiled", action="store_true")
    args = parser.parse_args()
    final = train(args.seed, args.timesteps, args.compiled)
    print(f"mean return of the last 20 episodes: {final:.1f}")
