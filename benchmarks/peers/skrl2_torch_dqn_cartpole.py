"""skrl 2.1.1 (PyTorch backend) DQN on gymnasium CartPole-v1, with the settings of skrl's own 2.x example.

The peer of ``examples/skrl2_cartpole_dqn_port.py`` (our port of the JAX twin of the same example).
Source of the settings: skrl repository, tag 2.0.0, examples/gym/torch_gym_cartpole_dqn.py
(identical, apart from ``import gymnasium as gym`` and ``gym.make_vec`` for several envs, to
examples/gymnasium/torch_gymnasium_cartpole_dqn.py; 2.0.0 is the newest tag in the repository snapshot, and its
example runs unchanged on the installed skrl 2.1.1): 1 env, 50,000 timesteps, RandomMemory(50000,
replacement=False), Q-network and target Q-network from skrl's ``deterministic_model`` instantiator (64-64 ReLU on
OBSERVATIONS, output ACTIONS), every parameter initialised N(0, 0.1) (``normal_``), learning_starts 100,
epsilon-greedy with epsilon max(exp(-10 t/T), 0.05); everything else DQN_CFG's defaults (batch 64, discount 0.99,
lr 1e-3 (Adam), MSE loss, update_interval 1, gradient_steps 1, target update every 10 updates with polyak 0.005,
random_timesteps 0). The example's JAX twin (examples/gym/jax_gym_cartpole_dqn.py) has the same settings; it
differs only in its backend lines (``config.jax.backend = "numpy"``, ``init_parameters(method_name="normal",
stddev=0.1)``, directory runs/jax/...).

Changes to the example, none of which changes what is learned:
- gymnasium's ``gym.make("CartPole-v1")`` (the example picks the newest registered CartPole-v*, which is v1), no
  rendering (headless), and no ``--num_envs`` / ``--checkpoint`` / ``--eval`` options (one env, training only);
- seeded from ``--seed`` (the example's ``set_seed(None)`` picks a random seed); the env is reset once with that
  seed before wrapping (skrl 2.1.1's wrapper also resets with it first, from ``config.torch.key``), and the action
  space is seeded with it, which makes the random actions of epsilon-greedy reproducible (see below);
- TensorBoard writing and checkpoints are off (write_interval=0, checkpoint_interval=0; the example uses "auto":
  every 500 / 5,000 timesteps) and the progress bar is disabled, so that only training is timed; the env is
  closed by the script rather than at exit (close_environment_at_exit=False), so that RESULT is the last line;
- the gymnasium env is wrapped in gymnasium's RecordEpisodeStatistics (before skrl's wrap_env) to count returns.
Note, skrl 2.1.1 with gymnasium 1.x, kept as it is: ``Model.random_act`` samples from
``gymnasium.vector.utils.batch_space(action_space, n)``, which gets a deep copy of the action space's generator, so
the generator never advances and every "random" action of epsilon-greedy is the same action (for the whole run).

Venv (outside the repository):
    python3 -m venv /work/skrl2venv
    /work/skrl2venv/bin/pip install torch==2.13.0 skrl==2.1.1 gymnasium tqdm

Run (from the repository root):
    /work/skrl2venv/bin/python benchmarks/peers/skrl2_torch_dqn_cartpole.py --seed S [--timesteps 50000]
Prints one final line: RESULT env_steps=<int> seconds=<float> last20=<float> best20=<float>
"""

import argparse
import math
import time

import gymnasium as gym
import numpy as np
import torch
from skrl.agents.torch.dqn import DQN, DQN_CFG
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

    # instantiate a memory as experience replay
    memory = RandomMemory(memory_size=50000, num_envs=env.num_envs, device=device, replacement=False)

    # models exactly as in the example: DQN requires 2 models, built with skrl's model instantiator
    network = [{"name": "net", "input": "OBSERVATIONS", "layers": [64, 64], "activations": "relu"}]
    models = {}
    models["q_network"] = deterministic_model(
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        device=device,
        network=network,
        output="ACTIONS",
    )
    models["target_q_network"] = deterministic_model(
        observation_space=env.observation_space,
        state_space=env.state_space,
        action_space=env.action_space,
        device=device,
        network=network,
        output="ACTIONS",
    )

    # initialize models' lazy modules
    for role, model in models.items():
        model.init_state_dict(role=role)

    # initialize models' parameters (weights and biases)
    for model in models.values():
        model.init_parameters(method_name="normal_", mean=0.0, std=0.1)

    cfg = DQN_CFG()
    cfg.learning_starts = 100
    cfg.exploration_scheduler = lambda timestep, timesteps: max(math.exp(-10 * timestep / timesteps), 0.05)
    # change: no TensorBoard / checkpoints (example: "auto"), so that only training is timed
    cfg.experiment.write_interval = 0
    cfg.experiment.checkpoint_interval = 0
    cfg.experiment.directory = "/tmp/skrl2_peer_runs/torch/CartPole"

    agent = DQN(
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
