"""skrl 2.1.1 (PyTorch backend) TD3 on gymnasium Pendulum-v1, with the settings of skrl's own 2.x example.

The peer of ``examples/skrl2_pendulum_td3_port.py`` (our port of the JAX twin of the same example).
Source of the settings: skrl repository, tag 2.0.0, examples/gym/torch_gym_pendulum_td3.py
(identical, apart from ``import gymnasium as gym``, to examples/gymnasium/torch_gymnasium_pendulum_td3.py;
2.0.0 is the newest tag in the repository snapshot, and its example runs unchanged on the installed skrl 2.1.1):
1 env, 15,000 timesteps, RandomMemory(15000, replacement=False), actor 400-300 ReLU with 2*tanh(.) output,
critics on concat(observation, action) 400-300 ReLU, every parameter initialised N(0, 0.1) (``normal_``),
exploration GaussianNoise(0, 0.1) scaled by max(1 - t/T, 1e-2), smoothing GaussianNoise(0, 0.2) clipped to 0.5,
discount 0.98, batch 100, random_timesteps 100, learning_starts 100; everything else TD3_CFG's defaults
(lr 1e-3 for actor and critics, polyak 0.005, policy_delay 2, gradient_steps 1).

Changes to the example, none of which changes what is learned:
- gymnasium's ``gym.make("Pendulum-v1")`` (the example picks the newest registered Pendulum-v*, which is v1), no
  rendering (headless), and no ``--num_envs`` / ``--checkpoint`` / ``--eval`` options (one env, training only);
- seeded from ``--seed`` (the example's ``set_seed(None)`` picks a random seed); the env is reset once with that
  seed before wrapping (skrl 2.1.1's wrapper also resets with it first, from ``config.torch.key``), and the action
  space is seeded with it, which makes the random warm-up actions reproducible (see below);
- TensorBoard writing and checkpoints are off (write_interval=0, checkpoint_interval=0; the example uses "auto":
  every 150 / 1,500 timesteps) and the progress bar is disabled, so that only training is timed; the env is
  closed by the script rather than at exit (close_environment_at_exit=False), so that RESULT is the last line;
- the gymnasium env is wrapped in gymnasium's RecordEpisodeStatistics (before skrl's wrap_env) to count returns.
Note, skrl 2.1.1 with gymnasium 1.x, kept as it is: ``Model.random_act`` samples from
``gymnasium.vector.utils.batch_space(action_space, n)``, which gets a deep copy of the action space's generator, so
the generator never advances and all random_timesteps (100) warm-up actions are the same value.

Venv (outside the repository):
    python3 -m venv /work/skrl2venv
    /work/skrl2venv/bin/pip install torch==2.13.0 skrl==2.1.1 gymnasium tqdm

Run (from the repository root):
    /work/skrl2venv/bin/python benchmarks/peers/skrl2_torch_td3_pendulum.py --seed S [--timesteps 15000]
Prints one final line: RESULT env_steps=<int> seconds=<float> last20=<float> best20=<float>
"""

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
from skrl.agents.torch.td3 import TD3, TD3_CFG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import DeterministicMixin, Model
from skrl.resources.noises.torch import GaussianNoise
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed


# models exactly as in the example: deterministic models using mixin
class Actor(DeterministicMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device, clip_actions=False):
        Model.__init__(
            self, observation_space=observation_space, state_space=state_space, action_space=action_space, device=device
        )
        DeterministicMixin.__init__(self, clip_actions=clip_actions)

        self.net = nn.Sequential(
            nn.Linear(self.num_observations, 400),
            nn.ReLU(),
            nn.Linear(400, 300),
            nn.ReLU(),
            nn.Linear(300, self.num_actions),
            nn.Tanh(),
        )

    def compute(self, inputs, role):
        x = self.net(inputs["observations"])
        # Pendulum-v1 action_space is -2 to 2
        return 2.0 * x, {}


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, state_space, action_space, device):
        Model.__init__(
            self, observation_space=observation_space, state_space=state_space, action_space=action_space, device=device
        )
        DeterministicMixin.__init__(self)

        self.net = nn.Sequential(
            nn.Linear(self.num_observations + self.num_actions, 400),
            nn.ReLU(),
            nn.Linear(400, 300),
            nn.ReLU(),
            nn.Linear(300, 1),
        )

    def compute(self, inputs, role):
        x = self.net(torch.cat([inputs["observations"], inputs["taken_actions"]], dim=1))
        return x, {}


def summarize(returns):
    """last20: mean of the last 20 finished episodes; best20: best mean of 20 consecutive ones."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size == 0:
        return float("nan"), float("nan")
    w = min(20, r.size)
    windows = np.convolve(r, np.ones(w) / w, mode="valid")
    return float(r[-w:].mean()), float(windows.max())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=15000)
    args = parser.parse_args()

    torch.set_num_threads(1)
    set_seed(args.seed)

    stats = gym.wrappers.RecordEpisodeStatistics(gym.make("Pendulum-v1"), buffer_length=10**7)
    stats.reset(seed=args.seed)
    stats.action_space.seed(args.seed)
    env = wrap_env(stats)
    device = env.device

    # instantiate a memory as experience replay
    memory = RandomMemory(memory_size=15000, num_envs=env.num_envs, device=device, replacement=False)

    # TD3 requires 6 models
    models = {}
    models["policy"] = Actor(env.observation_space, env.state_space, env.action_space, device)
    models["target_policy"] = Actor(env.observation_space, env.state_space, env.action_space, device)
    models["critic_1"] = Critic(env.observation_space, env.state_space, env.action_space, device)
    models["critic_2"] = Critic(env.observation_space, env.state_space, env.action_space, device)
    models["target_critic_1"] = Critic(env.observation_space, env.state_space, env.action_space, device)
    models["target_critic_2"] = Critic(env.observation_space, env.state_space, env.action_space, device)

    # initialize models' parameters (weights and biases)
    for model in models.values():
        model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

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
    # change: no TensorBoard / checkpoints (example: "auto"), so that only training is timed
    cfg.experiment.write_interval = 0
    cfg.experiment.checkpoint_interval = 0
    cfg.experiment.directory = "/tmp/skrl2_peer_runs/torch/Pendulum"

    agent = TD3(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        device=device,
    )

    # close_environment_at_exit=False: the env is closed below, so that RESULT stays the last line of output
    cfg_trainer = {
        "timesteps": args.timesteps,
        "headless": True,
        "disable_progressbar": True,
        "close_environment_at_exit": False,
    }
    trainer = SequentialTrainer(cfg=cfg_trainer, env=env, agents=agent)

    start = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - start
    env.close()

    last20, best20 = summarize(list(stats.return_queue))
    print(f"episodes={len(stats.return_queue)}")
    print(
        f"RESULT env_steps={args.timesteps * env.num_envs} seconds={seconds:.3f} last20={last20:.3f} best20={best20:.3f}"
    )


if __name__ == "__main__":
    main()
