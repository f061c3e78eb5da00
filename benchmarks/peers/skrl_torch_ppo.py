"""skrl 1.4.3 (PyTorch backend) PPO on gymnasium Pendulum-v1 or CartPole-v1 (4 vector envs), for skrl_parity.py.

Tasks (``--task``):
- ``pendulum``: skrl's own example, tag 1.4.3,
  docs/source/examples/gymnasium/torch_gymnasium_pendulum_ppo.py, line for line: separate Policy
  (64-64 ReLU, mean 2*tanh, clip_actions=True, state-independent log_std parameter) and Value
  (64-64 ReLU), rollouts 1024, 10 epochs x 32 minibatches, discount 0.9, lambda 0.95, lr 1e-3
  KL-adaptive (0.008), grad_norm_clip 0.5, value_loss_scale 0.5, mixed_precision=True (bf16
  autocast on CPU), both RunningStandardScalers. Default 50,000 timesteps (the example: 100,000).
- ``cartpole``: the settings of benchmarks/skrl_cartpole_ppo.py (skrl's Isaac Lab cartpole PPO
  cfg) in PyTorch: separate Categorical policy and value, each 32-32 ELU, rollouts 32, 8 epochs x
  8 minibatches, discount 0.99, lambda 0.95, lr 5e-4 KL-adaptive (0.008), grad_norm_clip 1.0,
  clip_predicted_values, value_loss_scale 2.0, both RunningStandardScalers. Default 25,000 timesteps.
Every other key is PPO_DEFAULT_CONFIG's. Both use PyTorch's default layer initialisation (skrl
does not re-initialise) and skrl's in-order minibatches.

Deviations from the example, none of which change what is learned:
- seeded from --seed (``set_seed(seed)``) and the vector env is reset once with that seed before
  wrapping (skrl's wrapper resets without a seed, which continues the seeded generators);
- TensorBoard writing and checkpoints off, progress bar off, env closed by the script;
- episodes are counted by gymnasium's vector ``RecordEpisodeStatistics`` inside the env stack;
- CartPole: ``FlatDiscreteActions`` reshapes skrl's (num_envs, 1) Discrete actions to (num_envs,).
skrl's wrapper leaves gymnasium 1.x's default next-step autoreset on: the step after an episode's end
is the env's reset (action ignored, reward 0), which skrl records as a transition. That is how skrl
1.4.3 runs these scripts, so it is kept; the env steps counted include those steps.

Run: /work/benchvenv/bin/python benchmarks/peers/skrl_torch_ppo.py --task pendulum --seed 0 [--timesteps 50000]
Prints, as its last line: RESULT {json} with env_steps, seconds (trainer.train() only),
episode_returns, episode_end_steps (env steps, = vector steps x 4, when each episode ended) and last20.
"""

import argparse
import json
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from skrl.agents.torch.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import CategoricalMixin, DeterministicMixin, GaussianMixin, Model
from skrl.resources.preprocessors.torch import RunningStandardScaler
from skrl.resources.schedulers.torch import KLAdaptiveRL
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed

NUM_ENVS = 4
DEFAULT_TIMESTEPS = {"pendulum": 50_000, "cartpole": 25_000}


# --- Pendulum: the example's models, unchanged -------------------------------------------------
class PendulumPolicy(GaussianMixin, Model):
    def __init__(
        self,
        observation_space,
        action_space,
        device,
        clip_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction)

        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, self.num_actions),
        )
        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role):
        # Pendulum-v1 action_space is -2 to 2
        return 2 * torch.tanh(self.net(inputs["states"])), self.log_std_parameter, {}


class PendulumValue(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)

        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 1)
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


# --- CartPole: benchmarks/skrl_cartpole_ppo.py's models, in PyTorch ---------------------------
class CartPolePolicy(CategoricalMixin, Model):
    def __init__(self, observation_space, action_space, device, unnormalized_log_prob=True):
        Model.__init__(self, observation_space, action_space, device)
        CategoricalMixin.__init__(self, unnormalized_log_prob)

        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 32), nn.ELU(), nn.Linear(32, 32), nn.ELU(), nn.Linear(32, self.num_actions)
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


class CartPoleValue(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)

        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 32), nn.ELU(), nn.Linear(32, 32), nn.ELU(), nn.Linear(32, 1)
        )

    def compute(self, inputs, role):
        return self.net(inputs["states"]), {}


class FlatDiscreteActions(gym.vector.VectorActionWrapper):
    """skrl 1.4.3 hands a vector env Discrete actions of shape (num_envs, 1); gymnasium 1.x wants (num_envs,)."""

    def actions(self, actions):
        return actions.reshape(-1)


class EpisodeLog(gym.vector.VectorWrapper):
    """Every finished episode's return (from RecordEpisodeStatistics below it) and the env step it ended at."""

    def __init__(self, env):
        super().__init__(env)
        self.calls = 0
        self.returns = []
        self.end_steps = []

    def step(self, actions):
        observations, rewards, terminated, truncated, infos = self.env.step(actions)
        self.calls += 1
        if "episode" in infos:
            finished = np.asarray(infos["_episode"], bool)
            self.returns.extend(float(r) for r in np.asarray(infos["episode"]["r"])[finished])
            self.end_steps.extend([self.calls * self.num_envs] * int(finished.sum()))
        return observations, rewards, terminated, truncated, infos


def pendulum_cfg(env, device):
    # the example's cfg, key for key
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 1024  # memory_size
    cfg["learning_epochs"] = 10
    cfg["mini_batches"] = 32
    cfg["discount_factor"] = 0.9
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveRL
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["grad_norm_clip"] = 0.5
    cfg["ratio_clip"] = 0.2
    cfg["value_clip"] = 0.2
    cfg["clip_predicted_values"] = False
    cfg["entropy_loss_scale"] = 0.0
    cfg["value_loss_scale"] = 0.5
    cfg["kl_threshold"] = 0
    cfg["mixed_precision"] = True
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space, "device": device}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1, "device": device}
    return cfg


def cartpole_cfg(env, device):
    # benchmarks/skrl_cartpole_ppo.py's cfg
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
    return cfg


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", choices=list(DEFAULT_TIMESTEPS), required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=None, help="trainer timesteps (x 4 envs = env steps)")
    args = parser.parse_args()
    timesteps = args.timesteps or DEFAULT_TIMESTEPS[args.task]

    torch.set_num_threads(1)
    set_seed(args.seed)

    env_id = "Pendulum-v1" if args.task == "pendulum" else "CartPole-v1"
    log = EpisodeLog(
        gym.wrappers.vector.RecordEpisodeStatistics(
            gym.make_vec(env_id, num_envs=NUM_ENVS, vectorization_mode="sync"), buffer_length=10**7
        )
    )
    vec = FlatDiscreteActions(log) if args.task == "cartpole" else log
    vec.reset(seed=args.seed)
    env = wrap_env(vec)
    device = env.device

    if args.task == "pendulum":
        memory = RandomMemory(memory_size=1024, num_envs=env.num_envs, device=device)
        models = {
            "policy": PendulumPolicy(env.observation_space, env.action_space, device, clip_actions=True),
            "value": PendulumValue(env.observation_space, env.action_space, device),
        }
        cfg = pendulum_cfg(env, device)
    else:
        memory = RandomMemory(memory_size=32, num_envs=env.num_envs, device=device)
        models = {
            "policy": CartPolePolicy(env.observation_space, env.action_space, device),
            "value": CartPoleValue(env.observation_space, env.action_space, device),
        }
        cfg = cartpole_cfg(env, device)
    # deviation: no TensorBoard / checkpoints, so that only training is timed
    cfg["experiment"] = dict(
        cfg["experiment"], write_interval=0, checkpoint_interval=0, directory="/tmp/skrl_peer_runs/torch/ppo"
    )

    agent = PPO(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
    )
    trainer = SequentialTrainer(
        cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": True, "close_environment_at_exit": False},
        env=env,
        agents=[agent],
    )

    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    env.close()

    returns = log.returns
    result = {
        "library": "skrl-torch",
        "task": args.task,
        "seed": args.seed,
        "env_steps": timesteps * NUM_ENVS,
        "seconds": seconds,
        "episodes": len(returns),
        "last20": float(np.mean(returns[-20:])) if returns else float("nan"),
        "episode_returns": [round(r, 4) for r in returns],
        "episode_end_steps": log.end_steps,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
