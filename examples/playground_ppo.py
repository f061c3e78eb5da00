"""PPO on a MuJoCo Playground task with Playground's own PPO settings for it, the whole run compiled.

The settings are ``mujoco_playground.config.dm_control_suite_params.brax_ppo_config(task)`` (unroll
30, 16 epochs, discount 0.995, lr 1e-3, entropy 1e-2, reward scaling 10, observation
normalisation, brax's clip 0.3 and value-loss weight), cut to a 2-core CPU: 256 environments
(Playground: 2048), 4 minibatches of 64 sequences (one unroll per environment) and 1,000,000 env
steps (Playground: 60M). The networks are brax's defaults: a policy of 4 x 32 and a value of
5 x 256 (swish, lecun_uniform), separate, or with ``--shared`` one trunk of 5 x 256 under both heads:
the value network's body shared with the policy, which matches the pair's parameter count to within
the policy's small 4 x 32 body. The policy is brax's tanh-squashed
Gaussian (``TanhGaussianHead``), the advantages brax's estimate (``recompute_advantages``). Physics: MJX's JAX implementation, cached resets (as Playground's
``wrap_for_brax_training``).

Prints the env steps/s of the compiled run (compilation timed apart) and, last, the greedy
policy's mean return over 16 episodes of the task's length.
Run: python examples/playground_ppo.py [--task CartpoleBalance] [--env-steps 1000000] [--shared] [--seed 0]
(needs the `playground` extra)
"""

from __future__ import annotations

import argparse
import time

import flax.linen as nn
import jax
import numpy as np

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import load_playground_env
from skrl_jax.models import DeterministicHead, TanhGaussianHead, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer

NUM_ENVS, BATCH_SIZE, MINIBATCHES = 256, 64, 4


def playground_settings(
    task: str,
    env_steps: int = 1_000_000,
    num_envs: int = NUM_ENVS,
    batch_size: int = BATCH_SIZE,
    minibatches: int = MINIBATCHES,
) -> dict:
    """Playground's PPO settings for ``task`` with the batch and budget cut to this machine (brax's keywords)."""
    from mujoco_playground.config import dm_control_suite_params

    settings = dict(dm_control_suite_params.brax_ppo_config(task))
    settings.update(num_envs=num_envs, batch_size=batch_size, num_minibatches=minibatches)
    settings.update(num_timesteps=env_steps, num_evals=3, num_resets_per_eval=0)
    return settings


def mlp(sizes: tuple[int, ...]) -> nn.Module:
    layers = []
    for size in sizes:
        layers += [nn.Dense(size, kernel_init=nn.initializers.lecun_uniform()), nn.swish]
    return nn.Sequential(layers)


def make_trainer(task: str, settings: dict, shared: bool = False, progress: bool = True) -> CompiledTrainer:
    """Our PPO with brax's networks and Playground's settings (``playground_settings``) on ``task``."""
    env = load_playground_env(task, reset="cached", episode_length=settings["episode_length"])
    return make_brax_style_trainer(env, settings, shared, progress)


def make_brax_style_trainer(env, settings: dict, shared: bool = False, progress: bool = True) -> CompiledTrainer:
    """Our PPO on ``env`` with brax's PPO keywords ``settings`` (``brax.training.agents.ppo.train``'s
    names) and brax's default networks."""
    spaces = (env.observation_space, env.action_space)
    if shared:
        model = shared_model(*spaces, mlp((256,) * 5), {"policy": TanhGaussianHead(), "value": DeterministicHead()})
        models = {"policy": model, "value": model}
    else:
        models = {
            "policy": shared_model(*spaces, mlp((32,) * 4), {"policy": TanhGaussianHead()}),
            "value": shared_model(*spaces, mlp((256,) * 5), {"value": DeterministicHead()}),
        }
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=settings["unroll_length"],
        learning_epochs=settings["num_updates_per_batch"],
        mini_batches=settings["num_minibatches"],
        discount_factor=settings["discounting"],
        learning_rate=settings["learning_rate"],
        # skrl averages the entropy over action dimensions, brax sums it over them
        entropy_loss_scale=settings["entropy_cost"] * env.action_space.shape[0],
        ratio_clip=settings.get("clipping_epsilon", 0.3),
        clip_predicted_values=False,
        value_loss_scale=0.25,  # brax: 0.5 * vf_loss_coefficient (0.5) * mean squared error
        grad_norm_clip=0,  # brax's max_grad_norm: None
        recompute_advantages=True,  # brax's estimate: GAE per minibatch from the current values, time limits masked
        rewards_shaper=lambda rewards, *_: rewards * settings["reward_scaling"],
        state_preprocessor=RunningStandardScaler,
        # brax's normalizer does not clip; skrl's clips at 5 standard deviations, which saturates the
        # observations once a balanced pole's statistics narrow (inverted_pendulum seeds fell over)
        state_preprocessor_kwargs={"size": env.observation_space, "clip_threshold": float("inf")},
        state_preprocessor_update="rollout",  # brax's normalizer learns from the whole rollout, before the epochs
        experiment={"write_interval": 0, "checkpoint_interval": 0},
    )
    cfg["lambda"] = settings.get("gae_lambda", 0.95)
    agent = PPO(models=models, cfg=cfg)
    per_update = settings["num_envs"] * settings["unroll_length"]
    timesteps = max(1, settings["num_timesteps"] // per_update) * settings["unroll_length"]
    trainer_cfg = {"timesteps": timesteps, "num_envs": settings["num_envs"], "disable_progressbar": not progress}
    return CompiledTrainer(env, agent, cfg=trainer_cfg)


def train_and_evaluate(
    trainer: CompiledTrainer, episode_length: int, seed: int, episodes: int = 16
) -> tuple[float, float]:
    """``(env steps/s, greedy return)``: the compiled run timed without its compilation, then the
    greedy policy's mean return over ``episodes`` episodes of ``episode_length`` steps."""
    key = jax.random.key(seed)
    train = jax.jit(trainer.make_train()).lower(key).compile()
    start = time.perf_counter()
    runner, metrics = jax.block_until_ready(train(key))
    seconds = time.perf_counter() - start
    if not np.all(np.isfinite(np.asarray(metrics["policy_loss"]))):
        raise FloatingPointError(f"the run diverged: policy_loss per update {np.asarray(metrics['policy_loss'])}")
    evaluate = jax.jit(trainer.make_evaluate(episodes, episode_length))
    greedy = float(np.mean(evaluate(runner.agent_state, jax.random.key(seed + 1000))))
    return trainer.num_updates * trainer.update_interval * trainer.num_envs / seconds, greedy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="CartpoleBalance")
    parser.add_argument("--env-steps", type=int, default=1_000_000)
    parser.add_argument("--shared", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = playground_settings(args.task, args.env_steps)
    trainer = make_trainer(args.task, settings, shared=args.shared, progress=False)
    steps_per_second, greedy = train_and_evaluate(trainer, settings["episode_length"], args.seed)
    print(f"{args.task}: {steps_per_second:,.0f} env steps/s (compiled run, compilation apart)")
    print(f"{args.task}: greedy return {greedy:.1f} (16 episodes of {settings['episode_length']} steps)")


if __name__ == "__main__":
    main()
