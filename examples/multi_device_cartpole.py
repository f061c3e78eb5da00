"""PPO on gymnax CartPole-v1 over every device jax finds, in one process or several.

The environments are split over the devices (``CompiledTrainer(cfg={"devices": ...})``), 4 per
device, with examples/compiled_cartpole.py's settings; parameters are replicated and the update's
all-reduces are XLA's. One process, all its devices:

    python examples/multi_device_cartpole.py
    XLA_FLAGS=--xla_force_host_platform_device_count=4 python examples/multi_device_cartpole.py  # 4 CPU devices

Several processes (one per host or accelerator; each runs this same command):

    SKRL_JAX_COORDINATOR_ADDRESS=host0:12355 SKRL_JAX_NUM_PROCESSES=2 SKRL_JAX_PROCESS_ID=<0 or 1> \\
        python examples/multi_device_cartpole.py

The last line is the greedy return of the trained policy (10 episodes).
"""

import argparse
import os
import time

from skrl_jax.utils.distributed import ENVIRONMENT, host_copy, initialize, is_writer

if any(os.environ.get(variable) for variable in ENVIRONMENT.values()):
    initialize()  # before any other jax work

import flax.linen as nn  # noqa: E402
import gymnax  # noqa: E402
import jax  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG  # noqa: E402
from skrl_jax.envs import wrap_env  # noqa: E402
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model  # noqa: E402
from skrl_jax.resources.preprocessors import RunningStandardScaler  # noqa: E402
from skrl_jax.trainers import CompiledTrainer  # noqa: E402

ROLLOUTS = 128
ENVS_PER_DEVICE = 4


def make_trainer(timesteps: int, num_envs: int, devices: int, progress: bool = True) -> CompiledTrainer:
    """examples/compiled_cartpole.py's shared model and PPO settings (PureJaxRL's CartPole config), copied so
    that this example stands alone: ``timesteps`` steps of ``num_envs`` environments split over ``devices``."""
    env = wrap_env(gymnax.make("CartPole-v1")[0])

    # PureJaxRL's initialisation: orthogonal, scale sqrt(2) in the trunk, 0.01 for the logits, 1 for the value
    def dense(features, scale):
        return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale))

    policy_head = CategoricalHead(network=dense(env.action_space.n, 0.01))
    value_head = DeterministicHead(network=dense(1, 1.0))
    trunk = nn.Sequential([dense(64, np.sqrt(2)), nn.tanh, dense(64, np.sqrt(2)), nn.tanh])
    model = shared_model(
        env.observation_space, env.action_space, trunk=trunk, heads={"policy": policy_head, "value": value_head}
    )
    learning_epochs = 4
    total_epochs = (timesteps // ROLLOUTS) * learning_epochs
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=ROLLOUTS,
        learning_epochs=learning_epochs,
        mini_batches=4,
        discount_factor=0.99,
        learning_rate=2.5e-4,
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
    agent = PPO(
        models={"policy": model, "value": model},
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    return CompiledTrainer(
        env,
        agent,
        cfg={
            "timesteps": timesteps,
            "num_envs": num_envs,
            "devices": devices,
            "disable_progressbar": not progress,
        },
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timesteps", type=int, default=124_928, help="steps of the vectorised environments")
    args = parser.parse_args()
    devices = jax.device_count()
    num_envs = ENVS_PER_DEVICE * devices
    trainer = make_trainer(args.timesteps, progress=is_writer(), num_envs=num_envs, devices=devices)
    if is_writer():
        print(f"{jax.process_count()} process(es), {devices} device(s): {jax.devices()}; {num_envs} environments")
    start = time.perf_counter()
    runner, metrics = trainer.train(jax.random.key(0))
    seconds = time.perf_counter() - start
    env_steps = trainer.num_updates * ROLLOUTS * num_envs
    # the greedy policy on this host: a whole copy of the state (the memory is split over the devices)
    evaluate = jax.jit(trainer.make_evaluate(num_episodes=10, max_steps=500))
    greedy = evaluate(host_copy(runner.agent_state), jax.random.key(1))
    if is_writer():
        print(f"{env_steps:,} env steps in {seconds:.1f} s (compile included): {env_steps / seconds:,.0f} env steps/s")
        print(f"greedy return (10 episodes): {float(greedy.mean()):.1f}")


if __name__ == "__main__":
    main()
