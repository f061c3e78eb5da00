"""skrl 1.4.3 (PyTorch backend) DQN on gymnasium CartPole-v1, with the settings of skrl's own example.

Source of the settings: skrl repository, tag 1.4.3,
docs/source/examples/gymnasium/torch_gymnasium_cartpole_dqn.py
(1 env, 50,000 timesteps, replay memory 50,000 without replacement, learning_starts 100,
epsilon-greedy from 1.0 to final 0.04 with skrl's exponential decay over 1500 timesteps,
Q-network and target 64-64 ReLU built with skrl's model instantiator, all parameters initialised
N(0, 0.1); everything else DQN_DEFAULT_CONFIG: batch 64, discount 0.99, lr 1e-3 (Adam), MSE loss,
update_interval 1, gradient_steps 1, target update every 10 timesteps with polyak 0.005).

Deviations from the example, none of which change what is learned:
- seeded from --seed (the example calls set_seed() with a random seed) and the env is reset once
  with that seed before wrapping (skrl's wrapper resets without a seed);
- TensorBoard writing and checkpoints are off (write_interval=0, checkpoint_interval=0) and the
  progress bar is disabled, so that the timing is of training only; the env is closed by the script
  rather than at exit (close_environment_at_exit=False), so that RESULT is the last line printed;
- the gymnasium env is wrapped in gymnasium's RecordEpisodeStatistics to count episode returns.
No fix of skrl's gymnasium wrapper was needed for CartPole-v1 with gymnasium 1.x (its warning that
gymnasium.experimental.vector is missing is harmless: the env is not vectorized).

Run: /work/benchvenv/bin/python benchmarks/peers/skrl_torch_dqn_cartpole.py --seed 0 [--timesteps 50000]
Prints one final line: RESULT env_steps=<int> seconds=<float> last20=<float> best20=<float>
"""

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from skrl.agents.torch.dqn import DQN, DQN_DEFAULT_CONFIG
from skrl.envs.wrappers.torch import wrap_env
from skrl.memories.torch import RandomMemory
from skrl.trainers.torch import SequentialTrainer
from skrl.utils import set_seed
from skrl.utils.model_instantiators.torch import deterministic_model


def summarize(returns):
    """last20: mean of the last 20 finished episodes; best20: best mean of 20 consecutive ones."""
    r = np.asarray(returns, dtype=np.float64)
    if r.size == 0:
        return float("nan"), float("nan")
    w = min(20, r.size)
    windows = np.convolve(r, np.ones(w) / w, mode="valid")
    return float(r[-w:].mean()), float(windows.max())


def q_network(env, device):
    # as in the example
    return deterministic_model(
        observation_space=env.observation_space,
        action_space=env.action_space,
        device=device,
        clip_actions=False,
        network=[
            {
                "name": "net",
                "input": "STATES",
                "layers": [64, 64],
                "activations": "relu",
            }
        ],
        output="ACTIONS",
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timesteps", type=int, default=50000)
    args = parser.parse_args()

    torch.set_num_threads(1)
    set_seed(args.seed)

    stats = gym.wrappers.RecordEpisodeStatistics(gym.make("CartPole-v1"), buffer_length=10**7)
    stats.reset(seed=args.seed)
    stats.action_space.seed(args.seed)
    env = wrap_env(stats)
    device = env.device

    memory = RandomMemory(memory_size=50000, num_envs=env.num_envs, device=device, replacement=False)

    models = {}
    models["q_network"] = q_network(env, device)
    models["target_q_network"] = q_network(env, device)
    for role, model in models.items():
        model.init_state_dict(role)
    for model in models.values():
        model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

    cfg = DQN_DEFAULT_CONFIG.copy()
    cfg["learning_starts"] = 100
    cfg["exploration"] = dict(cfg["exploration"], final_epsilon=0.04, timesteps=1500)
    # deviation: no TensorBoard / checkpoints (example: 1000 / 5000), so only training is timed
    cfg["experiment"] = dict(
        cfg["experiment"], write_interval=0, checkpoint_interval=0, directory="/tmp/skrl_peer_runs/torch/CartPole"
    )

    agent = DQN(
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
