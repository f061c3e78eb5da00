"""IPPO on JaxMARL's MPE simple spread: one policy and one value network shared by the three agents.

skrl's multi-agent API: the same model instances under every agent's keys make the agents one
group, trained as one agent over their stacked rows (one forward pass for all three). JaxMARL's
own IPPO settings for this task (``baselines/IPPO/config/ippo_ff_mpe.yaml``): 16 environments x
128 steps, 4 epochs x 4 minibatches, lr 2.5e-4 annealed to 0, entropy 0.01, 64-64 tanh actor and
critic with orthogonal initialisation; its 10M env steps cut to 2M, which this CPU runs in about
half a minute a seed. Every seed's whole run is one compiled call, all seeds ``vmap``-ed together.

Run: python examples/ippo_mpe.py [--seeds 5] [--env-steps 2000000] [--per-agent] [--agent-ids]
Its last line is the team return (all agents' rewards summed over an episode; the mean over the
last 5% of the updates) over the seeds: the measure of ``benchmarks/jaxmarl_ippo.py``'s table.
"""

from __future__ import annotations

import argparse
import math
import time

import flax.linen as nn
import jax
import numpy as np
import optax

from skrl_jax.envs import AgentIDs, JaxMARLWrapper
from skrl_jax.models import CategoricalHead, DeterministicHead, shared_model
from skrl_jax.multi_agents.ippo import IPPO
from skrl_jax.trainers import CompiledTrainer

NUM_ENVS, ROLLOUTS, EPOCHS = 16, 128, 4
ENV_STEPS = 2_000_000  # JaxMARL's config: 10M


def make_trainer(
    env_steps: int = ENV_STEPS, shared: bool = True, progress: bool = True, agent_ids: bool = False
) -> CompiledTrainer:
    """``env_steps`` rounded down to whole updates (as JaxMARL's script does); ``shared=False`` gives
    each agent its own policy and value (three groups); ``agent_ids`` appends each agent's one-hot ID
    to its observations (``AgentIDs``), so that a shared network can tell the agents apart."""
    import jaxmarl

    env = JaxMARLWrapper(jaxmarl.make("MPE_simple_spread_v3"))
    env = AgentIDs(env) if agent_ids else env
    observation, action = env.observation_spaces["agent_0"], env.action_spaces["agent_0"]

    def dense(features: int, scale: float) -> nn.Dense:
        return nn.Dense(features, kernel_init=nn.initializers.orthogonal(scale))

    def mlp() -> nn.Module:
        return nn.Sequential([dense(64, np.sqrt(2)), nn.tanh, dense(64, np.sqrt(2)), nn.tanh])

    def models() -> dict:
        policy = shared_model(observation, action, mlp(), {"policy": CategoricalHead(network=dense(action.n, 0.01))})
        value = shared_model(observation, action, mlp(), {"value": DeterministicHead(network=dense(1, 1.0))})
        return {"policy": policy, "value": value}

    one = models()
    updates = env_steps // (ROLLOUTS * NUM_ENVS)
    cfg = {
        "rollouts": ROLLOUTS,
        "learning_epochs": EPOCHS,
        "mini_batches": 4,
        "discount_factor": 0.99,
        "lambda": 0.95,
        "learning_rate": 2.5e-4,
        # JaxMARL anneals per update; skrl's scheduler steps per epoch
        "learning_rate_scheduler": optax.linear_schedule,
        "learning_rate_scheduler_kwargs": {"init_value": 1.0, "end_value": 0.0, "transition_steps": updates * EPOCHS},
        "grad_norm_clip": 0.5,
        "ratio_clip": 0.2,
        "value_clip": 0.2,
        "clip_predicted_values": True,
        "entropy_loss_scale": 0.01,
        "value_loss_scale": 0.25,  # JaxMARL's 0.5 x (0.5 x the squared error)
        "experiment": {"write_interval": 0, "checkpoint_interval": 0},
    }
    agent = IPPO(
        possible_agents=env.possible_agents,
        models={uid: one if shared else models() for uid in env.possible_agents},
        observation_spaces=env.observation_spaces,
        action_spaces=env.action_spaces,
        cfg=cfg,
    )
    trainer_cfg = {"timesteps": updates * ROLLOUTS, "num_envs": NUM_ENVS, "disable_progressbar": not progress}
    return CompiledTrainer(env, agent, trainer_cfg)


def final_return(episode_returns: np.ndarray) -> float:
    """The mean team return over the last 5% of the updates (those where episodes ended)."""
    values = np.asarray(episode_returns, np.float64)
    values = values[np.isfinite(values)]
    return float(values[-max(1, math.ceil(0.05 * values.size)) :].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--env-steps", type=int, default=ENV_STEPS)
    parser.add_argument("--per-agent", action="store_true", help="each agent its own networks")
    parser.add_argument("--agent-ids", action="store_true", help="each agent's one-hot ID after its observations")
    args = parser.parse_args()
    trainer = make_trainer(args.env_steps, shared=not args.per_agent, progress=False, agent_ids=args.agent_ids)
    keys = jax.random.split(jax.random.key(0), args.seeds)
    print(f"compiling {args.seeds} seeds x {trainer.num_updates} updates ...", flush=True)
    train = jax.jit(jax.vmap(trainer.make_train())).lower(keys).compile()
    start = time.perf_counter()
    _, metrics = jax.block_until_ready(train(keys))
    seconds = time.perf_counter() - start
    env_steps = trainer.num_updates * ROLLOUTS * NUM_ENVS
    returns = [final_return(row) for row in np.asarray(metrics["episode_return"])]
    for seed, value in enumerate(returns):
        print(f"seed {seed}: team return {value:.1f}")
    print(
        f"{args.seeds} seeds x {env_steps:,} env steps in {seconds:.1f} s ({args.seeds * env_steps / seconds:,.0f} env steps/s)"
    )
    print(
        f"team return over the last 5% of updates: mean {np.mean(returns):.1f} [worst {min(returns):.1f}] over {args.seeds} seeds"
    )


if __name__ == "__main__":
    main()
