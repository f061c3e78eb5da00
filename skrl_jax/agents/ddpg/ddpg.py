"""DDPG (skrl's ``DDPG`` and ``DDPG_DEFAULT_CONFIG``) as pure functions over one state.

Models: ``policy`` and ``target_policy`` (deterministic), ``critic`` and ``target_critic``. The
exploration noise (skrl's ``cfg["exploration"]``) keeps its state (Ornstein-Uhlenbeck's) in
``AgentState.carry``, one per environment and action dimension; TD3 acts with the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.configs import DDPG_CFG
from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.ddpg.losses import critic_loss, policy_loss, q_target
from skrl_jax.agents.gradients import gradient_step, make_optimizer
from skrl_jax.agents.off_policy.base import OffPolicyAgent, OffPolicyLearner, standardize, value_statistics
from skrl_jax.agents.off_policy.schedule import compiled_schedule
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.models import DeterministicMixin
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.resources.preprocessors import scaler_update

DDPG_DEFAULT_CONFIG = {
    "gradient_steps": 1,
    "batch_size": 64,
    "discount_factor": 0.99,
    "polyak": 0.005,
    "actor_learning_rate": 1e-3,
    "critic_learning_rate": 1e-3,
    "learning_rate_scheduler": None,
    "learning_rate_scheduler_kwargs": {},
    "state_preprocessor": None,
    "state_preprocessor_kwargs": {},
    "random_timesteps": 0,
    "learning_starts": 0,
    "grad_norm_clip": 0,
    "exploration": {
        "noise": None,
        "initial_scale": 1.0,
        "final_scale": 1e-3,
        "timesteps": None,
    },
    "rewards_shaper": None,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}

DDPG_METRIC_TAGS = {
    "policy_loss": "Loss / Policy loss",
    "critic_loss": "Loss / Critic loss",
    "q1_max": "Q-network / Q1 (max)",
    "q1_min": "Q-network / Q1 (min)",
    "q1_mean": "Q-network / Q1 (mean)",
    "target_max": "Target / Target (max)",
    "target_min": "Target / Target (min)",
    "target_mean": "Target / Target (mean)",
}

EXPLORATION_METRIC_TAGS = {
    "exploration_noise_max": "Exploration / Exploration noise (max)",
    "exploration_noise_min": "Exploration / Exploration noise (min)",
    "exploration_noise_mean": "Exploration / Exploration noise (mean)",
}


class ExplorationState(NamedTuple):
    """``AgentState.carry`` of DDPG and TD3 when ``cfg["exploration"]["noise"]`` is set.

    noise: the noise's state (``(num_envs, action_size)`` for Ornstein-Uhlenbeck, a placeholder
        for Gaussian noise).
    applied: ``(max, min, mean)`` of the (scaled) noise the last ``act`` added to the actions; 0
        once the exploration timesteps are over (skrl's "Exploration / Exploration noise" data).
    """

    noise: Any
    applied: jax.Array


def exploration_scale(
    timestep: jax.Array | int, initial_scale: float, final_scale: float, timesteps: int | None
) -> jax.Array:
    """skrl's exploration noise scale at ``timestep``.

    ``(1 - timestep / timesteps) * (initial_scale - final_scale) + final_scale`` while ``timestep
    <= timesteps``, and 0 after (skrl then adds no noise at all, not ``final_scale`` noise).
    ``timesteps`` is ``cfg["exploration"]["timesteps"]``, or the trainer's timesteps when that is
    None (as skrl); when neither is known (0 or None) the scale stays ``initial_scale``.
    """
    if not timesteps:
        return jnp.full((), initial_scale, jnp.float32)
    # (1 - t / T) as (T - t) / T: the integer difference is exact, so no cancellation near T
    remaining = (timesteps - jnp.asarray(timestep, jnp.int32)).astype(jnp.float32)
    scale = remaining / timesteps * (initial_scale - final_scale) + final_scale
    return jnp.where(remaining >= 0, scale, 0.0)


def exploration_schedule(
    cfg: Mapping[str, Any], timesteps: int, owner: str
) -> tuple[Any, Callable[[jax.Array], jax.Array], Callable[[jax.Array], jax.Array]]:
    """``(noise, scale(timestep), active(timestep))`` of the exploration noise.

    skrl 1.4 (``cfg["exploration"]``): ``exploration_scale``, active while ``timestep <= timesteps``.
    skrl 2.x (``cfg["exploration_scheduler"]``, present only in a 2.x agent's internal dict): the
    scheduler's value (1 without one), active for the whole run.
    """
    exploration = cfg["exploration"]
    noise = exploration["noise"]
    if "exploration_scheduler" in cfg:
        scheduler = cfg["exploration_scheduler"]
        if scheduler is None:
            return noise, lambda timestep: jnp.ones((), jnp.float32), lambda timestep: jnp.ones((), bool)
        return noise, compiled_schedule(scheduler, timesteps, owner), lambda timestep: jnp.ones((), bool)
    initial_scale, final_scale = float(exploration["initial_scale"]), float(exploration["final_scale"])
    noise_timesteps = exploration["timesteps"] if exploration["timesteps"] is not None else timesteps

    def scale(timestep: jax.Array) -> jax.Array:
        return exploration_scale(timestep, initial_scale, final_scale, noise_timesteps)

    def active(timestep: jax.Array) -> jax.Array:
        return (timestep <= noise_timesteps) if noise_timesteps else jnp.ones((), bool)

    return noise, scale, active


def check_deterministic_policy(agent: OffPolicyAgent, critics: tuple[str, ...]) -> None:
    """A ``DeterministicMixin`` policy, not in one model with a critic (checked before anything is traced)."""
    name = type(agent).__name__
    spec = agent.models["policy"]._spec_for("policy")
    if spec.mixin is not DeterministicMixin:
        raise TypeError(
            f"{name} needs a deterministic policy (DeterministicMixin) for 'policy', got {spec.mixin.__name__}"
        )
    targets = tuple(f"target_{critic}" for critic in critics)
    if any(agent.models["policy"] is agent.models[key] for key in (*critics, *targets)):
        raise NotImplementedError(
            f"{name}: the policy and the critic in one model (a shared encoder) is not supported yet; pass separate "
            "policy and critic models"
        )


def make_acting(
    agent: OffPolicyAgent, num_envs: int, timesteps: int
) -> tuple[Callable[[], ExplorationState | None], Callable[..., tuple[jax.Array, dict[str, Any]]]]:
    """``(initial_carry, act)`` of a deterministic policy with skrl's exploration (DDPG and TD3).

    ``act`` returns the policy's actions; unless ``deterministic``, plus the scaled exploration
    noise, clipped to the action space's bounds (while the exploration timesteps last), and
    uniform random actions before ``random_timesteps`` (the noise does not advance then, as skrl
    samples none). The new noise state goes to ``extras["carry"]``, which ``record`` stores.
    """
    cfg, models = agent.cfg, agent.model_set
    preprocessor = agent.state_preprocessor
    noise, noise_scale, noise_active = exploration_schedule(cfg, timesteps, type(agent).__name__)
    random_timesteps = int(cfg["random_timesteps"])
    action_size = compute_space_size(agent.action_space, occupied_size=True)
    low = jnp.asarray(np.asarray(agent.action_space.low, np.float32).reshape(-1))
    high = jnp.asarray(np.asarray(agent.action_space.high, np.float32).reshape(-1))

    def initial_carry() -> ExplorationState | None:
        if noise is None:
            return None
        return ExplorationState(noise.initial_state((num_envs, action_size)), jnp.zeros(3, jnp.float32))

    def act(state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic=False):
        learner = state.learner
        inputs = {"states": standardize(preprocessor, learner.state_scaler, observations)}
        actions, _, outputs = models.act(learner.params, inputs, ["policy"])["policy"]
        extras: dict[str, Any] = {"outputs": outputs}
        if noise is not None:
            extras["carry"] = state.carry
        if deterministic:
            return actions, extras
        noise_key, random_key = jax.random.split(key)
        carry = state.carry
        if noise is not None:
            noises, noise_state = noise.sample(carry.noise, noise_key, actions.shape)
            noises = noise_scale(timestep) * noises
            active = noise_active(timestep)
            actions = jnp.where(active, jnp.clip(actions + noises, low, high), actions)
            applied = jnp.where(active, jnp.stack([noises.max(), noises.min(), noises.mean()]), 0.0)
            carry = ExplorationState(noise_state, applied.astype(jnp.float32))
        if random_timesteps:
            is_random = timestep < random_timesteps
            actions = jnp.where(is_random, agent.random_actions(random_key, observations.shape[0]), actions)
            if noise is not None:
                carry = jax.tree.map(lambda old, new: jnp.where(is_random, old, new), state.carry, carry)
        if noise is not None:
            extras["carry"] = carry
        return actions, extras

    return initial_carry, act


def with_exploration_metrics(agent: OffPolicyAgent, update: Callable[..., tuple]) -> Callable[..., tuple]:
    """``update`` that also reports the exploration noise of the last ``act`` (kept in the carry)."""
    if agent.cfg["exploration"]["noise"] is None:
        return update

    def update_and_report(state: AgentState, key: jax.Array, timestep: jax.Array):
        state, metrics = update(state, key, timestep)
        applied = state.carry.applied
        names = ("exploration_noise_max", "exploration_noise_min", "exploration_noise_mean")
        return state, {**metrics, **{name: applied[index] for index, name in enumerate(names)}}

    return update_and_report


class DDPG(OffPolicyAgent):
    """Deep Deterministic Policy Gradient with skrl's configuration keys, defaults and formulas.

    The "Q-network / Q1" statistics are those of skrl's PyTorch DDPG: ``Q(s, pi(s))`` of the
    updated critic, computed for the policy loss (its ``critic_values`` variable is reused there);
    skrl's JAX DDPG logs ``Q(s, a)`` of the sampled actions. The exploration noise statistics are
    those of the ``act`` before each update (skrl averages every ``act`` between two writes).
    """

    default_config = DDPG_DEFAULT_CONFIG
    config_class = DDPG_CFG
    required_models = ("policy", "target_policy", "critic", "target_critic")

    def __init__(
        self,
        models,
        memory=None,
        observation_space=None,
        action_space=None,
        device=None,
        cfg=None,
        *,
        state_space=NOT_GIVEN,
    ) -> None:
        super().__init__(models, memory, observation_space, action_space, device, cfg, state_space=state_space)
        check_deterministic_policy(self, ("critic",))

    def build(self, num_envs: int, timesteps: int) -> AgentFunctions:
        cfg, models, keys = self.cfg, self.model_set, self.model_set.param_keys
        preprocessor = self.state_preprocessor
        policy_optimizer = make_optimizer(float(cfg["actor_learning_rate"]), float(cfg["grad_norm_clip"]))
        critic_optimizer = make_optimizer(float(cfg["critic_learning_rate"]), float(cfg["grad_norm_clip"]))
        gamma, polyak = float(cfg["discount_factor"]), float(cfg["polyak"])
        record = self.make_record(timesteps)
        initial_carry, act = make_acting(self, num_envs, timesteps)

        def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
            params = self.initial_params(key, params)
            learner = OffPolicyLearner(
                params=params,
                opt_states={
                    "policy": policy_optimizer.init(params[keys["policy"]]),
                    "critic": critic_optimizer.init(params[keys["critic"]]),
                },
                scalars={},
                state_scaler=None if preprocessor is None else preprocessor.initial_state(),
                gradient_steps=jnp.zeros((), jnp.int32),
            )
            return AgentState(learner, self.init_memory(num_envs), initial_carry())

        def step(learner: OffPolicyLearner, memory: Any, key: jax.Array):
            batch = self.sample_batch(memory, key)
            scaler = learner.state_scaler
            if preprocessor is not None:
                scaler = scaler_update(scaler, batch.states)
            states = standardize(preprocessor, scaler, batch.states)
            next_states = standardize(preprocessor, scaler, batch.next_states)
            params = learner.params

            next_actions = models.act(params, {"states": next_states}, ["target_policy"])["target_policy"][0]
            target_inputs = {"states": next_states, "taken_actions": next_actions}
            target_q = models.act(params, target_inputs, ["target_critic"])["target_critic"][0]
            target_values = q_target(batch.rewards, batch.dones, target_q, gamma)

            def critics_loss(critic_params):
                current = {**params, keys["critic"]: critic_params}
                values = models.act(current, {"states": states, "taken_actions": batch.actions}, ["critic"])
                return critic_loss(values["critic"][0], target_values), None

            critic_params, critic_opt, critic_value, _ = gradient_step(
                critics_loss, critic_optimizer, params[keys["critic"]], learner.opt_states["critic"]
            )
            params = {**params, keys["critic"]: critic_params}
            frozen_critic = jax.lax.stop_gradient(critic_params)

            def actor_loss(policy_params):
                current = {**params, keys["critic"]: frozen_critic, keys["policy"]: policy_params}
                actions = models.act(current, {"states": states}, ["policy"])["policy"][0]
                q = models.act(current, {"states": states, "taken_actions": actions}, ["critic"])["critic"][0]
                return policy_loss(q), q

            policy_params, policy_opt, policy_value, q = gradient_step(
                actor_loss, policy_optimizer, params[keys["policy"]], learner.opt_states["policy"]
            )
            params = self.polyak_targets({**params, keys["policy"]: policy_params}, polyak)
            opt_states = {"policy": policy_opt, "critic": critic_opt}
            learner = OffPolicyLearner(params, opt_states, learner.scalars, scaler, learner.gradient_steps + 1)
            metrics = {
                "policy_loss": policy_value,
                "critic_loss": critic_value,
                **value_statistics("q1", q),
                **value_statistics("target", target_values),
            }
            finite = jnp.isfinite(critic_value) & jnp.isfinite(policy_value)
            return learner, metrics, finite

        update = with_exploration_metrics(self, self.make_update(step))
        tags = dict(DDPG_METRIC_TAGS)
        if cfg["exploration"]["noise"] is not None:
            tags.update(EXPLORATION_METRIC_TAGS)
        return AgentFunctions(
            init=init,
            act=act,
            record=record,
            update=update,
            update_interval=1,
            learning_starts=int(cfg["learning_starts"]),
            metric_tags=tags,
        )
