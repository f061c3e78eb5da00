"""skrl's gym CartPole DQN example in its skrl 2.x form (tag 2.0.0, JAX), ported to skrl_jax.

skrl's lines with only the imports changed: the Q-networks from ``deterministic_model(observation_space=...,
state_space=..., ...)`` (skrl's model instantiator; here ``skrl_jax.utils.model_instantiators``, which
parses the network specification instead of generating source), ``init_parameters(method_name="normal",
stddev=0.1)``, a ``DQN_CFG`` whose ``exploration_scheduler`` uses ``max`` and ``math.exp`` (tabulated over
the run), a memory without replacement, ``DQN(..., state_space=...)``. skrl's gym (``gym.make``) becomes
gymnasium's, one environment, as skrl's default ``--num_envs 1``.

Run: python examples/skrl2_cartpole_dqn_port.py [--timesteps 50000] [--seed 0]
The last line is the figure of its row in the docs' tables (docs/benchmarks.md, docs/skrl-apis.md): the mean return of the last 20 episodes.
"""

import argparse
import math

import gymnasium as gym

from skrl_jax import config
from skrl_jax.agents.dqn import DQN, DQN_CFG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.trainers import SequentialTrainer
from skrl_jax.utils import set_seed
from skrl_jax.utils.model_instantiators import deterministic_model


def make_env():
    return wrap_env(gym.make("CartPole-v1"))


def make_agent(env, **cfg_changes) -> DQN:
    """skrl's 2.x example agent; ``cfg_changes`` set ``DQN_CFG`` fields."""
    device = env.device
    memory = RandomMemory(memory_size=50000, num_envs=env.num_envs, device=device, replacement=False)

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

    # instantiate models' state dict
    for role, model in models.items():
        model.init_state_dict(role=role)

    # initialize models' parameters (weights and biases)
    for model in models.values():
        model.init_parameters(method_name="normal", stddev=0.1)

    cfg = DQN_CFG()
    cfg.learning_starts = 100
    cfg.exploration_scheduler = lambda timestep, timesteps: max(math.exp(-10 * timestep / timesteps), 0.05)
    cfg.experiment.write_interval = 0  # the example writes TensorBoard data and checkpoints: not here
    cfg.experiment.checkpoint_interval = 0
    for name, value in cfg_changes.items():
        setattr(cfg, name, value)

    return DQN(
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
    parser.add_argument("--timesteps", type=int, default=50_000)
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
