"""PPO with the seed's shared Gaussian model on gymnax Pendulum-v1, the whole run compiled.

One seed in compiled chunks (progress bar), then several seeds in one vmapped call; prints
wall time, env steps/s and each seed's mean return of its last 20 episodes. The settings are
examples/ppo_pendulum.py's (skrl's Pendulum PPO example with discount 0.95: 4 envs x 1024 steps,
10 epochs x 32 minibatches, lr 1e-3 KL-adaptive, both scalers, 400,000 env steps).
Run: python examples/compiled_pendulum.py [--seeds 8] [--timesteps 100000]
"""

import argparse
import time

import flax.linen as nn
import gymnax
import jax
import numpy as np

from skrl_jax.agents.ppo import PPO, PPO_DEFAULT_CONFIG
from skrl_jax.envs import wrap_env
from skrl_jax.models import DeterministicHead, DeterministicMixin, GaussianHead, GaussianMixin, Model, shared_model
from skrl_jax.resources.preprocessors import RunningStandardScaler
from skrl_jax.resources.schedulers import KLAdaptiveLR
from skrl_jax.trainers import CompiledTrainer, last_episodes_return, metrics_table

NUM_ENVS = 4
ROLLOUTS = 1024


class SharedModel(GaussianMixin, DeterministicMixin, Model):
    """examples/shared_model.py's SharedModel (skrl's "Shared model" page), copied so that this example stands alone."""

    def __init__(
        self,
        observation_space,
        action_space,
        device=None,
        clip_actions=False,
        clip_log_std=True,
        min_log_std=-20,
        max_log_std=2,
        reduction="sum",
    ):
        Model.__init__(self, observation_space, action_space, device)
        GaussianMixin.__init__(self, clip_actions, clip_log_std, min_log_std, max_log_std, reduction, role="policy")
        DeterministicMixin.__init__(self, clip_actions, role="value")

    def setup(self):
        self.net = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])  # shared
        self.mean_layer = nn.Dense(self.num_actions)  # "policy"
        self.log_std_parameter = self.param("log_std_parameter", nn.initializers.zeros, (self.num_actions,))
        self.value_layer = nn.Dense(1)  # "value"

    def act(self, inputs, role, **kwargs):
        if role == "policy":
            return GaussianMixin.act(self, inputs, role, **kwargs)
        elif role == "value":
            return DeterministicMixin.act(self, inputs, role, **kwargs)

    def compute(self, inputs, role):
        if role == "policy":
            return self.mean_layer(self.net(inputs["states"])), self.log_std_parameter, {}
        elif role == "value":
            return self.value_layer(self.net(inputs["states"])), {}


def make_trainer(
    timesteps: int = 100_352,
    progress: bool = True,
    parameter_init: str = "flax",
    shared: bool = True,
    **cfg_changes,
) -> CompiledTrainer:
    """``timesteps`` steps of the 4 vectorised environments (98 updates of 1024: 401,408 env steps);
    ``cfg_changes`` override the PPO cfg (benchmarks/pendulum_settings.py varies them). ``shared=False``
    replaces the seed's SharedModel by two models with its layers, a Gaussian policy and a value
    (benchmarks/does_sharing_pay.py compares them)."""
    env = wrap_env(gymnax.make("Pendulum-v1")[0])
    if shared:
        model = SharedModel(env.observation_space, env.action_space)
        model.parameter_init = parameter_init
        models = {"policy": model, "value": model}
    else:

        def build(heads):  # SharedModel's trunk and heads (GaussianHead's defaults are SharedModel's)
            trunk = nn.Sequential([nn.Dense(32), nn.elu, nn.Dense(32), nn.elu])
            return shared_model(env.observation_space, env.action_space, trunk, heads, parameter_init=parameter_init)

        models = {"policy": build({"policy": GaussianHead()}), "value": build({"value": DeterministicHead()})}
    cfg = PPO_DEFAULT_CONFIG.copy()
    cfg.update(
        rollouts=ROLLOUTS,
        learning_epochs=10,
        mini_batches=32,
        discount_factor=0.95,
        learning_rate=1e-3,
        learning_rate_scheduler=KLAdaptiveLR,
        learning_rate_scheduler_kwargs={"kl_threshold": 0.008},
        value_loss_scale=0.5,
        time_limit_bootstrap=True,
        state_preprocessor=RunningStandardScaler,
        state_preprocessor_kwargs={"size": env.observation_space},
        value_preprocessor=RunningStandardScaler,
        value_preprocessor_kwargs={"size": 1},
    )
    cfg.update(cfg_changes)
    agent = PPO(
        models=models,
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    return CompiledTrainer(
        env, agent, cfg={"timesteps": timesteps, "num_envs": NUM_ENVS, "disable_progressbar": not progress}
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=100_352)
    args = parser.parse_args()
    trainer = make_trainer(args.timesteps)
    env_steps = trainer.num_updates * ROLLOUTS * NUM_ENVS

    start = time.perf_counter()
    runner, metrics = trainer.train(jax.random.key(0))
    print(f"one seed, compiled chunks: {time.perf_counter() - start:.1f} s (compile included)")
    print(metrics_table(metrics, env_steps_per_update=ROLLOUTS * NUM_ENVS))

    keys = jax.random.split(jax.random.key(0), args.seeds)
    train = jax.jit(jax.vmap(trainer.make_train())).lower(keys).compile()
    start = time.perf_counter()
    runners, metrics = jax.block_until_ready(train(keys))
    seconds = time.perf_counter() - start
    print(f"{args.seeds} seeds in one call: {seconds:.1f} s, {args.seeds * env_steps / seconds:,.0f} env steps/s")
    evaluate = jax.jit(jax.vmap(trainer.make_evaluate(num_episodes=10, max_steps=200)))
    greedy = np.asarray(evaluate(runners.agent_state, jax.random.split(jax.random.key(1), args.seeds))).mean(axis=1)
    final = last_episodes_return(metrics, 20)
    print("seed | mean return of the last 20 episodes | mean-action return (10 episodes)")
    for seed in range(args.seeds):
        print(f"{seed:4d} | {final[seed]:8.1f} | {greedy[seed]:8.1f}")
    print(
        f"{args.seeds} seeds, mean return of the last 20 episodes: mean {final.mean():.1f}, worst {final.min():.1f}, "
        f"{int((final >= -200).sum())}/{args.seeds} >= -200"
    )


if __name__ == "__main__":
    main()
