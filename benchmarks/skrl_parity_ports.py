"""skrl_jax's side of skrl_parity.py: the two skrl torch scripts of benchmarks/peers/skrl_torch_ppo.py, ported.

- ``pendulum``: skrl's gymnasium Pendulum PPO example (tag 1.4.3): examples/skrl_pendulum_ppo_port.py's
  agent (64-64 ReLU, mean 2*tanh, log_std parameter; 64-64 ReLU; the example's cfg key for key) with
  ``mixed_precision=True`` as skrl's PyTorch example sets (bf16 forward passes here).
- ``cartpole``: benchmarks/skrl_cartpole_ppo.py's models (separate Categorical policy and value,
  32-32 ELU) and cfg (rollouts 32, 8 epochs x 8 minibatches, lr 5e-4 KL-adaptive, value_loss_scale 2,
  clip_predicted_values, both scalers).
Both on 4 gymnasium vector envs (``gym.make_vec(..., vectorization_mode="sync")``), host loop.

Variants (``--variant``), the two choices where skrl_jax's defaults differ from skrl torch:
- ``shipped``: as the library ships (flax's default initialisation, shuffled minibatches);
- ``skrl``: PyTorch's default layer initialisation and skrl's in-order minibatches;
- ``pytorch-init``: PyTorch's initialisation, shuffled minibatches;
- ``ordered``: flax's initialisation, in-order minibatches.

Seeding: ``skrl_jax.config.set_seed(seed)``, which also seeds the wrapped env's first reset.

Run: python benchmarks/skrl_parity_ports.py --task pendulum --variant shipped --seed 0 [--timesteps 50000]
Prints, as its last line: RESULT {json}, the same fields as benchmarks/peers/skrl_torch_ppo.py.
"""

import argparse
import json
import time
from pathlib import Path

import flax.linen as nn
import gymnasium as gym
import numpy as np
from _examples import load_example

import skrl_jax
from skrl_jax import config
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.models import CategoricalMixin, DeterministicMixin, Model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer

skrl_pendulum_ppo_port = load_example("skrl_pendulum_ppo_port")

NUM_ENVS = 4
DEFAULT_TIMESTEPS = {"pendulum": 50_000, "cartpole": 25_000}
# variant: (parameter_init, shuffle_minibatches)
VARIANTS = {
    "shipped": ("flax", True),
    "skrl": ("pytorch", False),
    "pytorch-init": ("pytorch", True),
    "ordered": ("flax", False),
}


class CartPolePolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device=None, unnormalized_log_prob=True, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        CategoricalMixin.__init__(self, unnormalized_log_prob)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu, nn.Dense(self.num_actions)])

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


class CartPoleValue(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device=None, clip_actions=False, **kwargs):
        Model.__init__(self, observation_space, action_space, device, **kwargs)
        DeterministicMixin.__init__(self, clip_actions)

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu, nn.Dense(1)])

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


def cartpole_cfg(env) -> dict:
    # benchmarks/skrl_cartpole_ppo.py's cfg
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=32,
        learning_epochs=8,
        mini_batches=8,
        discount_factor=0.99,
        learning_rate=5e-4,
        learning_rate_scheduler=KLAdaptiveLR,
        learning_rate_scheduler_kwargs={"kl_threshold": 0.008},
        grad_norm_clip=1.0,
        clip_predicted_values=True,
        value_loss_scale=2.0,
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": env.observation_space},
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    return cfg


def make_agent(task: str, env, variant: str) -> PPO:
    parameter_init, shuffle = VARIANTS[variant]
    experiment = dict(PPO_DEFAULT_CONFIG["experiment"], write_interval=0, checkpoint_interval=0)
    if task == "pendulum":  # the example's agent, with skrl's PyTorch example's mixed precision
        return skrl_pendulum_ppo_port.make_agent(
            env,
            parameter_init=parameter_init,
            mixed_precision=True,
            shuffle_minibatches=shuffle,
            experiment=experiment,
        )
    policy = CartPolePolicy(env.observation_space, env.action_space, parameter_init=parameter_init)
    value = CartPoleValue(env.observation_space, env.action_space, parameter_init=parameter_init)
    cfg = cartpole_cfg(env)
    cfg["shuffle_minibatches"] = shuffle
    cfg["experiment"] = experiment
    memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs)
    return PPO(
        models={"policy": policy, "value": value},
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )


def run(task: str, variant: str, seed: int, timesteps: int | None = None) -> dict:
    timesteps = timesteps or DEFAULT_TIMESTEPS[task]
    config.set_seed(seed)
    env_id = "Pendulum-v1" if task == "pendulum" else "CartPole-v1"
    env = wrap_env(gym.make_vec(env_id, num_envs=NUM_ENVS, vectorization_mode="sync"))
    agent = make_agent(task, env, variant)
    trainer = SequentialTrainer(env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True})
    start = time.perf_counter()
    trainer.train()  # includes jit compilation
    seconds = time.perf_counter() - start
    returns = [float(r) for r in agent.episode_returns]
    return {
        "library": "skrl_jax",
        "task": task,
        "variant": variant,
        "seed": seed,
        "env_steps": timesteps * NUM_ENVS,
        "seconds": seconds,
        "episodes": len(returns),
        "last20": float(np.mean(returns[-20:])) if returns else float("nan"),
        "episode_returns": [round(r, 4) for r in returns],
        "episode_end_steps": [int(t) * NUM_ENVS for t in agent.episode_end_timesteps],
        "skrl_jax_path": str(Path(skrl_jax.__file__).parent),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=list(DEFAULT_TIMESTEPS), required=True)
    parser.add_argument("--variant", choices=list(VARIANTS), default="shipped")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=None, help="trainer timesteps (x 4 envs = env steps)")
    args = parser.parse_args()
    print("RESULT " + json.dumps(run(args.task, args.variant, args.seed, args.timesteps)))


if __name__ == "__main__":
    main()
