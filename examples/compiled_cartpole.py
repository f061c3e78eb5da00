"""PPO with a shared Categorical model on gymnax CartPole-v1, the whole run in one compiled call.

First one seed in compiled chunks (with a progress bar), then 16 seeds in one vmapped call;
prints wall time, env steps/s and returns. PureJaxRL's CartPole settings: 4 envs x 128 steps,
4 epochs x 4 minibatches, lr 2.5e-4 annealed linearly, entropy 0.01, 500,000 env steps.
Run: python examples/compiled_cartpole.py [--seeds 16] [--timesteps 124928]
"""

import argparse
import time

import flax.linen as nn
import gymnax
import jax
import numpy as np
import optax

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer, metrics_table

NUM_ENVS = 4
ROLLOUTS = 128


def make_trainer(
    timesteps: int = 124_928,
    shared: bool = True,
    width: int = 64,
    progress: bool = True,
    learning_rate: float = 2.5e-4,
    num_envs: int = NUM_ENVS,
    devices: int | None = None,
    **cfg_changes,
) -> CompiledTrainer:
    """``timesteps`` steps of the 4 vectorised environments (976 updates of 128 steps: 499,712 env steps,
    PureJaxRL's 500,000 rounded down to whole updates as its ppo.py does); ``num_envs`` and
    ``devices`` (the CompiledTrainer's keys) for runs over several devices; ``cfg_changes`` override
    the PPO cfg (e.g. the trunk controls of examples/sharing_controls.py)."""
    env = wrap_env(gymnax.make("CartPole-v1")[0])

    # PureJaxRL's initialisation: orthogonal, scale sqrt(2) in the trunk, 0.01 for the logits, 1 for the value
    def dense(features, scale):
        return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale))

    def build(heads):
        trunk = nn.Sequential([dense(width, np.sqrt(2)), nn.tanh, dense(width, np.sqrt(2)), nn.tanh])
        return shared_model(env.observation_space, env.action_space, trunk=trunk, heads=heads)

    policy_head = CategoricalHead(network=dense(env.action_space.n, 0.01))
    value_head = DeterministicHead(network=dense(1, 1.0))
    if shared:
        model = build({"policy": policy_head, "value": value_head})
        models = {"policy": model, "value": model}
    else:
        models = {"policy": build({"policy": policy_head}), "value": build({"value": value_head})}
    learning_epochs = 4
    total_epochs = (timesteps // ROLLOUTS) * learning_epochs
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=ROLLOUTS,
        learning_epochs=learning_epochs,
        mini_batches=4,
        discount_factor=0.99,
        learning_rate=learning_rate,
        learning_rate_scheduler=optax.linear_schedule,
        learning_rate_scheduler_kwargs={"init_value": 1.0, "end_value": 0.0, "transition_steps": total_epochs},
        grad_norm_clip=0.5,
        ratio_clip=0.2,
        entropy_loss_scale=0.01,
        value_loss_scale=0.5,
        # with one trunk, unscaled returns (up to ~100) would give the value loss most of the clipped gradient
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    cfg.update(cfg_changes)
    agent = PPO(models=models, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)
    return CompiledTrainer(
        env,
        agent,
        cfg={"timesteps": timesteps, "num_envs": num_envs, "devices": devices, "disable_progressbar": not progress},
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--timesteps", type=int, default=124_928)
    args = parser.parse_args()
    trainer = make_trainer(args.timesteps)
    env_steps = trainer.num_updates * ROLLOUTS * NUM_ENVS

    start = time.perf_counter()
    runner, metrics = trainer.train(jax.random.key(0))
    print(f"one seed, compiled chunks: {time.perf_counter() - start:.1f} s (compile included)")
    print(metrics_table(metrics, env_steps_per_update=ROLLOUTS * NUM_ENVS))
    greedy = jax.jit(trainer.make_evaluate(num_episodes=10, max_steps=500))(runner.agent_state, jax.random.key(1))
    print(f"greedy policy, 10 episodes: mean return {float(greedy.mean()):.1f}")

    keys = jax.random.split(jax.random.key(0), args.seeds)
    train = jax.jit(jax.vmap(trainer.make_train()))
    start = time.perf_counter()
    compiled = train.lower(keys).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    runners, metrics = jax.block_until_ready(compiled(keys))
    seconds = time.perf_counter() - start
    print(
        f"{args.seeds} seeds in one call: compile {compile_seconds:.1f} s, run {seconds:.1f} s, "
        f"{args.seeds * env_steps / seconds:,.0f} env steps/s"
    )
    evaluate = jax.jit(jax.vmap(trainer.make_evaluate(num_episodes=10, max_steps=500)))
    greedy = np.asarray(evaluate(runners.agent_state, jax.random.split(jax.random.key(1), args.seeds))).mean(axis=1)
    final = np.nanmean(np.asarray(metrics["episode_return"])[:, -10:], axis=1)
    print("seed | greedy return (10 episodes) | training return (last 10 updates)")
    for seed in range(args.seeds):
        print(f"{seed:4d} | {greedy[seed]:8.1f} | {final[seed]:8.1f}")
    print(
        f"{args.seeds} seeds, greedy return (10 episodes): mean {greedy.mean():.1f}, worst {greedy.min():.1f}, "
        f"{int((greedy >= 475).sum())}/{args.seeds} >= 475"
    )


if __name__ == "__main__":
    main()
