"""Steering a shared trunk, and watching it: PPO on gymnax CartPole-v1 with one model for the policy
and the value, under four settings of the trunk controls, every one with the gradient diagnostics.

- ``default``: the value loss reaches the trunk with its head's weight (``value_loss_scale`` 0.5);
- ``value gradient stops at the trunk``: ``trunk_value_loss_scale=0.0`` (the trunk learns from the
  policy's loss alone; the value head still fits the returns);
- ``trunk value weight 0.1``: ``trunk_value_loss_scale=0.1``;
- ``trunk at half the learning rate``: ``role_learning_rate_scale={"trunk": 0.5}``.

The settings are examples/compiled_cartpole.py's (PureJaxRL's CartPole config, 500,000 env steps);
the seeds of each setting run vmapped in one compiled call. Per setting it prints the greedy return
(10 episodes per seed), and the diagnostics averaged over the first and the last tenth of the
updates: the cosine of the policy's and the value's gradients on the trunk, the norm ratio
value / policy, and the value loss's share of the trunk's step. ``--plot FILE`` draws them.
``python benchmarks/sharing_controls.py`` runs the same and keeps the figures in a results file, from
which docs/sharing.md's table is printed.

Run: python examples/sharing_controls.py [--seeds 8] [--timesteps 124928] [--plot sharing_controls.png]
The last line is the docs' measure: each setting's mean greedy return over the seeds (the table's
"greedy return: mean" column).
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
from skrl_jax.trainers import CompiledTrainer

NUM_ENVS = 4
ROLLOUTS = 128

SETTINGS = {
    "default": {},
    "value gradient stops at the trunk": {"trunk_value_loss_scale": 0.0},
    "trunk value weight 0.1": {"trunk_value_loss_scale": 0.1},
    "trunk at half the learning rate": {"role_learning_rate_scale": {"trunk": 0.5}},
}
DIAGNOSTICS = ("trunk_gradient_cosine", "trunk_gradient_norm_ratio", "trunk_value_share")


def make_trainer(timesteps: int, progress: bool = True, **cfg_changes) -> CompiledTrainer:
    """examples/compiled_cartpole.py's shared model and PPO settings (PureJaxRL's CartPole config), copied so
    that this example stands alone, with ``cfg_changes`` (the trunk controls) on top: ``timesteps`` steps of
    the 4 vectorised environments."""
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
    cfg.update(cfg_changes)
    agent = PPO(
        models={"policy": model, "value": model},
        cfg=cfg,
        observation_space=env.observation_space,
        action_space=env.action_space,
    )
    return CompiledTrainer(
        env, agent, cfg={"timesteps": timesteps, "num_envs": NUM_ENVS, "disable_progressbar": not progress}
    )


def run(settings: dict, seeds: int, timesteps: int) -> dict:
    """One setting, ``seeds`` seeds in one compiled call: greedy returns and the diagnostics per update."""
    trainer = make_trainer(timesteps, progress=False, sharing_diagnostics=True, **settings)
    keys = jax.random.split(jax.random.key(0), seeds)
    start = time.perf_counter()
    runners, metrics = jax.block_until_ready(jax.jit(jax.vmap(trainer.make_train()))(keys))
    seconds = time.perf_counter() - start
    evaluate = jax.jit(jax.vmap(trainer.make_evaluate(num_episodes=10, max_steps=500)))
    greedy = np.asarray(evaluate(runners.agent_state, jax.random.split(jax.random.key(1), seeds))).mean(axis=1)
    return {"greedy": greedy, "seconds": seconds, **{name: np.asarray(metrics[name]) for name in DIAGNOSTICS}}


def tenth_mean(per_update: np.ndarray, last: bool) -> float:
    """The mean over seeds and over the first (or last) tenth of the updates."""
    tenth = max(per_update.shape[1] // 10, 1)
    return float(np.mean(per_update[:, -tenth:] if last else per_update[:, :tenth]))


def plot(results: dict, path: str | None = None):
    """The diagnostics per update (mean over seeds, 95% band), one panel each; saved to ``path`` if given."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(DIAGNOSTICS), figsize=(5 * len(DIAGNOSTICS), 3.5))
    for axis, name in zip(axes, DIAGNOSTICS):
        for label, result in results.items():
            values = result[name]
            mean = values.mean(axis=0)
            band = 1.96 * values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
            updates = np.arange(1, mean.size + 1)
            axis.plot(updates, mean, label=label)
            axis.fill_between(updates, mean - band, mean + band, alpha=0.2)
        axis.set_title(name)
        axis.set_xlabel("update")
        if name == "trunk_gradient_norm_ratio":
            axis.set_yscale("log")
    axes[0].legend(fontsize=7)
    figure.tight_layout()
    if path:
        figure.savefig(path, dpi=120)
        print(f"plot written: {path}")
    return figure


def summary(results: dict) -> list[dict]:
    """Per setting, the figures its table row shows (plain numbers, for a results file)."""
    return [
        {
            "setting": label,
            "cfg": SETTINGS[label],
            "greedy_per_seed": result["greedy"].tolist(),
            "greedy_mean": float(result["greedy"].mean()),
            "greedy_worst": float(result["greedy"].min()),
            "seeds_at_475": int((result["greedy"] >= 475).sum()),
            "seconds": result["seconds"],
            **{
                name: {"first_tenth": tenth_mean(result[name], False), "last_tenth": tenth_mean(result[name], True)}
                for name in DIAGNOSTICS
            },
        }
        for label, result in results.items()
    ]


def table(rows: list[dict]) -> list[str]:
    """The table of ``summary``'s rows: greedy return, then each diagnostic over the first / last tenth."""
    lines = [
        "| setting | greedy return: mean | worst | >= 475 | trunk gradient cosine, first / last tenth of the updates "
        "| norm ratio value / policy | value share of the trunk's step |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    decimals = {"trunk_gradient_cosine": 3, "trunk_gradient_norm_ratio": 2, "trunk_value_share": 3}
    for row in rows:
        cells = [
            f"{row[name]['first_tenth']:.{decimals[name]}f} / {row[name]['last_tenth']:.{decimals[name]}f}"
            for name in DIAGNOSTICS
        ]
        lines.append(
            f"| {row['setting']} | {row['greedy_mean']:.1f} | {row['greedy_worst']:.1f} | "
            f"{row['seeds_at_475']}/{len(row['greedy_per_seed'])} | " + " | ".join(cells) + " |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--timesteps", type=int, default=124_928)
    parser.add_argument("--plot", default=None, help="write the diagnostics' curves to this image file")
    args = parser.parse_args()
    results = {}
    for label, settings in SETTINGS.items():
        results[label] = run(settings, args.seeds, args.timesteps)
        print(f"{label}: {args.seeds} seeds in {results[label]['seconds']:.0f} s (compile included)")
    print()
    print("\n".join(table(summary(results))))
    if args.plot:
        plot(results, args.plot)
    print(
        f"greedy return (10 episodes), mean over {args.seeds} seeds: "
        + "; ".join(f"{label} {result['greedy'].mean():.1f}" for label, result in results.items())
    )


if __name__ == "__main__":
    main()
