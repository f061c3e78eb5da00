"""PPO with the seed's shared Gaussian + value model on gymnasium Pendulum-v1 (4 environments).

The model is the one of skrl's "Shared model" page (examples/shared_model.py); the agent's
settings are those of skrl's Pendulum PPO example, with the policy's actions left unclipped
(Pendulum clips the torque itself).
Run: python examples/ppo_pendulum.py [--timesteps 50000] [--seed 0]
(timesteps count steps of the vector environment: 50,000 x 4 environments = 200,000 env steps)
"""

import argparse
import sys
from pathlib import Path

import gymnasium as gym

from skrl_jax import config
from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.memories import RandomMemory
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import SequentialTrainer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared_model import SharedModel  # noqa: E402

NUM_ENVS = 4


def make_agent(env, shared: bool = True) -> PPO:
    model = SharedModel(env.observation_space, env.action_space)
    models = {"policy": model, "value": model if shared else SharedModel(env.observation_space, env.action_space)}
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg["rollouts"] = 1024
    cfg["learning_epochs"] = 10
    cfg["mini_batches"] = 32
    cfg["discount_factor"] = 0.9
    cfg["lambda"] = 0.95
    cfg["learning_rate"] = 1e-3
    cfg["learning_rate_scheduler"] = KLAdaptiveLR
    cfg["learning_rate_scheduler_kwargs"] = {"kl_threshold": 0.008}
    cfg["grad_norm_clip"] = 0.5
    cfg["ratio_clip"] = 0.2
    cfg["value_clip"] = 0.2
    cfg["clip_predicted_values"] = False
    cfg["entropy_loss_scale"] = 0.0
    cfg["value_loss_scale"] = 0.5
    cfg["kl_threshold"] = 0
    cfg["time_limit_bootstrap"] = True
    cfg["state_preprocessor"] = RunningStandardScaler
    cfg["state_preprocessor_kwargs"] = {"size": env.observation_space}
    cfg["value_preprocessor"] = RunningStandardScaler
    cfg["value_preprocessor_kwargs"] = {"size": 1}
    memory = RandomMemory(memory_size=cfg["rollouts"], num_envs=env.num_envs)
    return PPO(
        models=models, memory=memory, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space
    )


def train(seed: int = 0, timesteps: int = 50_000, progress: bool = True) -> PPO:
    config.set_seed(seed)
    env = wrap_env(gym.make_vec("Pendulum-v1", num_envs=NUM_ENVS, vectorization_mode="sync"))
    env.reset(seed=seed)
    agent = make_agent(env)
    trainer = SequentialTrainer(
        env, agent, cfg={"timesteps": timesteps, "headless": True, "disable_progressbar": not progress}
    )
    trainer.train()
    return agent


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    agent = train(args.seed, args.timesteps)
    print(
        f"episodes: {len(agent.episode_returns)}; mean return of the last 20: {sum(agent.episode_returns[-20:]) / 20:.1f}"
    )
