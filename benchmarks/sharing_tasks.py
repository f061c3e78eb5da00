"""The tasks of does_sharing_pay.py: each builds a CompiledTrainer with a shared or a separate model.

The CartPole, Pendulum PPO and Pendulum SAC runs are the examples' own builders
(examples/compiled_cartpole.py, examples/compiled_pendulum.py, examples/sac_pendulum.py), called with
their ``shared`` switch; Breakout-MinAtar's CNN trainer is defined here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import flax.linen as nn
import gymnax
import jax.numpy as jnp
import numpy as np
import optax
from _examples import load_example  # benchmarks/ is on the path of its importers (does_sharing_pay.py, the notebook)

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.trainers import CompiledTrainer

compiled_cartpole = load_example("compiled_cartpole")
compiled_pendulum = load_example("compiled_pendulum")
sac_pendulum = load_example("sac_pendulum")

# --- Breakout-MinAtar: PPO with a small CNN ----------------------------------------------------------
# PureJaxRL's MinAtar PPO settings (examples/brax_minatar.ipynb: 128-step rollouts, 4 epochs, minibatches
# of 1024, gamma 0.99, lambda 0.95, clip 0.2, entropy 0.01, value 0.5, grad norm 0.5, lr annealed linearly)
# with the learning rate of CNN PPO on MinAtar (5e-4, not PureJaxRL's 5e-3 for its MLP), 32 environments
# instead of 64 (twice the updates per env step, for a CPU budget), and MinAtar's own network (Young &
# Tian 2019): one 3x3 convolution of 16 filters, then Dense 128, ReLU.
# Budget: 244 updates of 32 envs x 128 steps = 999,424 env steps per seed. The seeds run one after another
# (Task.vmap_seeds=False): one seed alone ran the separate CNNs at ~14,000 env steps/s on the 2-core CPU,
# while 8 vmapped seeds of the separate variant hung inside XLA's CPU runtime from 36 updates on (every
# thread idle in a futex wait; 12 updates and 1 seed ran), and vmapped seeds were ~2x slower anyway.
# The bar, 2.5 (a random policy scores ~0.5): one seed of the shared model reached 2.5 at ~94k env steps
# and 4.9 at 290k in a probe run of 300k steps (its learning rate annealed over those 300k).
BREAKOUT_NUM_ENVS = 32
BREAKOUT_TIMESTEPS = 244 * 128
BREAKOUT_THRESHOLD = 2.5
BREAKOUT_ROLLOUTS = 128
BREAKOUT_OBSERVATION_SHAPE = (10, 10, 4)


def _orthogonal_dense(features: int, scale: float) -> nn.Dense:
    return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale))


class MinAtarTrunk(nn.Module):
    """Conv(16, 3x3, VALID) -> ReLU -> Dense(width) -> ReLU on skrl's flat observation.

    The environment wrapper flattens gymnax's (10, 10, 4) observation in C order to ``(400,)``
    (``inputs["states"]``, skrl's layout); the trunk puts the image back before the convolution.
    The convolution is written as its 3x3 patches times a Dense(16) (the same function, parameter
    count and orthogonal initialisation as ``nn.Conv``): on XLA's CPU backend a convolution inside a
    ``lax.scan`` (the compiled trainer's epochs and minibatches) ran ~15x slower than the same
    convolution unrolled (12.6 s against 0.87 s for 32 gradient steps on 1024 samples), patches
    times a matrix do not.
    """

    shape: tuple[int, int, int] = BREAKOUT_OBSERVATION_SHAPE
    filters: int = 16
    kernel: int = 3
    width: int = 128

    @nn.compact
    def __call__(self, states):
        height, width, _ = self.shape
        x = jnp.reshape(states, states.shape[:-1] + tuple(self.shape))
        rows, columns = height - self.kernel + 1, width - self.kernel + 1
        patches = jnp.concatenate(
            [x[..., i : i + rows, j : j + columns, :] for i in range(self.kernel) for j in range(self.kernel)],
            axis=-1,
        )  # (..., rows, columns, kernel * kernel * channels), a conv kernel's (3, 3, 4) layout flattened
        x = nn.relu(_orthogonal_dense(self.filters, np.sqrt(2))(patches))
        x = jnp.reshape(x, x.shape[:-3] + (-1,))
        return nn.relu(_orthogonal_dense(self.width, np.sqrt(2))(x))


def make_breakout_trainer(
    timesteps: int = BREAKOUT_TIMESTEPS,
    shared: bool = True,
    progress: bool = False,
    learning_rate: float = 5e-4,
    num_envs: int = BREAKOUT_NUM_ENVS,
    mini_batches: int = 4,
) -> CompiledTrainer:
    """PPO on gymnax Breakout-MinAtar; ``timesteps`` steps of the ``num_envs`` vectorised environments
    (31,232 = 244 updates of 128 steps x 32 envs: 999,424 env steps)."""
    env = wrap_env(gymnax.make("Breakout-MinAtar")[0])
    policy_head = CategoricalHead(network=_orthogonal_dense(env.action_space.n, 0.01))
    value_head = DeterministicHead(network=_orthogonal_dense(1, 1.0))

    def build(heads):
        return shared_model(env.observation_space, env.action_space, trunk=MinAtarTrunk(), heads=heads)

    if shared:
        model = build({"policy": policy_head, "value": value_head})
        models = {"policy": model, "value": model}
    else:
        models = {"policy": build({"policy": policy_head}), "value": build({"value": value_head})}
    learning_epochs = 4
    total_epochs = (timesteps // BREAKOUT_ROLLOUTS) * learning_epochs
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=BREAKOUT_ROLLOUTS,
        learning_epochs=learning_epochs,
        mini_batches=mini_batches,
        discount_factor=0.99,
        learning_rate=learning_rate,
        learning_rate_scheduler=optax.linear_schedule,
        learning_rate_scheduler_kwargs={"init_value": 1.0, "end_value": 0.0, "transition_steps": total_epochs},
        grad_norm_clip=0.5,
        ratio_clip=0.2,
        entropy_loss_scale=0.01,
        value_loss_scale=0.5,
        # as examples/compiled_cartpole.py: scaled returns keep the value loss from taking the shared gradient
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    agent = PPO(models=models, cfg=cfg, observation_space=env.observation_space, action_space=env.action_space)
    return CompiledTrainer(
        env, agent, cfg={"timesteps": timesteps, "num_envs": num_envs, "disable_progressbar": not progress}
    )


# --- the task table --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Task:
    name: str
    title: str  # the figure panel's title
    threshold: float  # the return bar for "time to threshold"
    timesteps: int  # trainer timesteps (steps of the vectorised environment) at --timesteps-scale 1
    step_multiple: int  # timesteps are rounded down to a multiple of this (the rollout length)
    build: Callable[[int, bool], CompiledTrainer]  # (timesteps, shared) -> trainer
    labels: dict  # variant -> what it is
    settings: str  # one line: where the settings come from
    vmap_seeds: bool = True  # False: the seeds run one after another through one compiled program

    def scaled_timesteps(self, scale: float) -> int:
        steps = int(self.timesteps * scale) // self.step_multiple * self.step_multiple
        return max(self.step_multiple, steps)


TASKS = {
    "cartpole_ppo": Task(
        "cartpole_ppo",
        "CartPole-v1, PPO",
        475.0,
        124_928,
        compiled_cartpole.ROLLOUTS,
        lambda timesteps, shared: compiled_cartpole.make_trainer(timesteps, shared=shared, progress=False),
        {"shared": "one 2x64 tanh trunk, two heads", "separate": "policy and value nets, 2x64 tanh each"},
        "examples/compiled_cartpole.py (PureJaxRL's settings: 4 envs x 128 steps, lr 2.5e-4 annealed)",
    ),
    "pendulum_ppo": Task(
        "pendulum_ppo",
        "Pendulum-v1, PPO",
        -200.0,
        100_352,
        compiled_pendulum.ROLLOUTS,
        lambda timesteps, shared: compiled_pendulum.make_trainer(timesteps, shared=shared, progress=False),
        {"shared": "the seed's SharedModel (2x32 elu trunk)", "separate": "Gaussian and value nets, 2x32 elu each"},
        "examples/compiled_pendulum.py (skrl's Pendulum PPO, discount 0.95: 4 envs x 1024 steps, KL-adaptive lr)",
    ),
    "pendulum_sac": Task(
        "pendulum_sac",
        "Pendulum-v1, SAC",
        -200.0,
        50_000,
        1,
        lambda timesteps, shared: sac_pendulum.make_compiled_trainer(timesteps, shared=shared, progress=False),
        {"shared": "twin critics on one 2x64 relu trunk", "separate": "four critics (two + targets), 2x64 relu"},
        "examples/sac_pendulum.py's make_compiled_trainer (skrl's SAC example settings, 64-64 networks, 1 env)",
    ),
    "breakout_minatar_ppo": Task(
        "breakout_minatar_ppo",
        "Breakout-MinAtar, PPO",
        BREAKOUT_THRESHOLD,
        BREAKOUT_TIMESTEPS,
        BREAKOUT_ROLLOUTS,
        lambda timesteps, shared: make_breakout_trainer(timesteps, shared=shared),
        {"shared": "one CNN trunk (conv 16 3x3, dense 128), two heads", "separate": "policy and value CNNs"},
        "benchmarks/sharing_tasks.py (PureJaxRL-like MinAtar PPO: 32 envs x 128 steps, 4 epochs x 4 minibatches, "
        "lr 5e-4 annealed; bar 2.5 chosen for this budget; seeds one after another)",
        vmap_seeds=False,
    ),
}
# not implemented: printed as "skipped: <reason>"
SKIPPED = {
    "brax": (
        "brax 0.14.2 installs (the brax extra) and skrl_jax's wrapper trains it unchanged, but locomotion does not "
        "fit this 2-core CPU: 8 seeds vmapped, the shared model's PPO runs ant at 6.5k env steps/s (generalized "
        "backend) / 11.8k (spring) and hopper at 11.2k / 47.4k, so brax's PPO budget for ant (50M env steps per "
        "seed) takes 18-34 hours for the two variants; hopper has no PPO config in brax (its SAC one uses 6.55M "
        "steps, ~40 min on spring with untuned PPO settings)"
    )
}
