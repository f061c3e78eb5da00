"""skrl 1.4.3 (PyTorch backend) SAC on gymnasium Pendulum-v1, with the settings of skrl's own example.

Source of the settings: skrl repository, tag 1.4.3,
docs/source/examples/gymnasium/torch_gymnasium_pendulum_sac.py
(1 env, 15,000 timesteps, replay memory 20,000 without replacement, batch 100, discount 0.98,
learning_starts 1000, random_timesteps 0, learn_entropy, actor/critics 400-300 ReLU,
actor mean 2*tanh(.), state-independent log_std, all parameters initialised N(0, 0.1);
everything else SAC_DEFAULT_CONFIG: lr 1e-3 for actor, critics and entropy, polyak 0.005,
initial entropy 0.2, target entropy -1, gradient_steps 1).

Deviations from the example, none of which change what is learned:
- seeded from --seed (the example calls set_seed() with a random seed) and the env is reset once
  with that seed before wrapping (skrl's wrapper resets without a seed);
- TensorBoard writing and checkpoints are off (write_interval=0, checkpoint_interval=0) and the
  progress bar is disabled, so that the timing is of training only; the env is closed by the script
  rather than at exit (close_environment_at_exit=False), so that RESULT is the last line printed;
- the gymnasium env is wrapped in gymnasium's RecordEpisodeStatistics to count episode returns.
No fix of skrl's gymnasium wrapper was needed for Pendulum-v1 with gymnasium 1.x (its warning that
gymnasium.experimental.vector is missing is harmless: the env is not vectorized).

Run: /work/benchvenv/bin/python benchmarks/peers/skrl_torch_sac_pendulum.py --seed 0 [--timesteps 15000]
Prints one final line: RESULT env_steps=<int> seconds=<float> last20=<float> best20=<float>
"""

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from skrl.agents.torch.sac import SAC, SAC_DEFAULT_CONFIG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.models.torch import DeterministicMixin, GaussianMixin, Model
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed


# models exactly as in the example
class Actor(GaussianMixin, Model):
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

        self.linear_layer_1 = nn.Linear(self.num_observations, 400)
        self.linear_layer_2 = nn.Linear(400, 300)
        self.action_layer = nn.Linear(300, self.num_actions)

        self.log_std_parameter = nn.Parameter(torch.zeros(self.num_actions))

    def compute(self, inputs, role):
        x = F.relu(self.linear_layer_1(inputs["states"]))
        x = F.relu(self.linear_layer_2(x))
        # Pendulum-v1 action_space is -2 to 2
        return 2 * torch.tanh(self.action_layer(x)), self.log_std_parameter, {}


class Critic(DeterministicMixin, Model):
    def __init__(self, observation_space, action_space, device, clip_actions=False):
        Model.__init__(self, observation_space, action_space, device)
        DeterministicMixin.__init__(self, clip_actions)

        self.linear_layer_1 = nn.Linear(self.num_observations + self.num_actions, 400)
        self.linear_layer_2 = nn.Linear(400, 300)
        self.linear_layer_3 = nn.Linear(300, 1)

    def compute(self, inputs, role):
        x = F.relu(self.linear_layer_1(torch.cat([inputs["states"], inputs["taken_actions"]], dim=1)))
        x = F.relu(self.linear_layer_2(x))
        return self.linear_layer_3(x), {}


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

    memory = RandomMemory(memory_size=20000, num_envs=env.num_envs, device=device, replacement=False)

    models = {}
    models["policy"] = Actor(env.observation_space, env.action_space, device, clip_actions=True)
    models["critic_1"] = Critic(env.observation_space, env.action_space, device)
    models["critic_2"] = Critic(env.observation_space, env.action_space, device)
    models["target_critic_1"] = Critic(env.observation_space, env.action_space, device)
    models["target_critic_2"] = Critic(env.observation_space, env.action_space, device)
    for model in models.values():
        model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

    cfg = SAC_DEFAULT_CONFIG.copy()
    cfg["discount_factor"] = 0.98
    cfg["batch_size"] = 100
    cfg["random_timesteps"] = 0
    cfg["learning_starts"] = 1000
    cfg["learn_entropy"] = True
    # deviation: no TensorBoard / checkpoints (example: 75 / 750), so only training is timed
    cfg["experiment"] = dict(
        cfg["experiment"], write_interval=0, checkpoint_interval=0, directory="/tmp/skrl_peer_runs/torch/Pendulum"
    )

    agent = SAC(
        models=models,
        memory=memory,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
    )

    # close_environment_at_exit=False: the env is closed below, so that RESULT stays the last line of output
    trainer = SequentialTrainer(
        cfg={
            "timesteps": args.timesteps,
            "headless": True,
            "disable_progressbar": True,
            "close_environment_at_exit": False,
        },
        env=env,
        agents=[agent],
    )

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
