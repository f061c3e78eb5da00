"""TD3 (skrl's ``TD3`` and ``TD3_DEFAULT_CONFIG``) as pure functions over one state.

Models: ``policy`` and ``target_policy`` (deterministic), ``critic_1``, ``critic_2``,
``target_critic_1``, ``target_critic_2``. Twin critics may be one model that declares
``DeterministicMixin`` twice (roles ``critic_1`` and ``critic_2``) passed under both critic keys,
with a second instance under both target keys: its parameters are stored once and its trunk
computed once per pass. Acting and exploration are DDPG's (``skrl_jax.agents.ddpg``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.configs import TD3_CFG
from skrl_jax.agents.core import AgentFunctions, AgentState
from skrl_jax.agents.ddpg.ddpg import (
    EXPLORATION_METRIC_TAGS,
    check_deterministic_policy,
    make_acting,
    with_exploration_metrics,
)
from skrl_jax.agents.gradients import gradient_step, make_optimizer
from skrl_jax.agents.off_policy.base import OffPolicyAgent, OffPolicyLearner, standardize, value_statistics
from skrl_jax.agents.ppo.ppo import EXPERIMENT_DEFAULT_CONFIG
from skrl_jax.agents.sac.sac import SAC_METRIC_TAGS
from skrl_jax.agents.td3.losses import critic_loss, policy_loss, smoothed_target_actions, twin_target
from skrl_jax.core.spaces import compute_space_size
from skrl_jax.models.base import NOT_GIVEN
from skrl_jax.resources.preprocessors import scaler_update

TD3_DEFAULT_CONFIG = {
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
    "policy_delay": 2,
    "smooth_regularization_noise": None,
    "smooth_regularization_clip": 0.5,
    "rewards_shaper": None,
    # not a skrl key: skrl 1.4 ends a target at terminated | truncated (False); True bootstraps a
    # truncated episode from its last observation, as skrl 2.x (its *_CFG default)
    "bootstrap_at_truncation": False,
    "experiment": EXPERIMENT_DEFAULT_CONFIG,
}

CRITICS = ("critic_1", "critic_2")
TARGETS = ("target_critic_1", "target_critic_2")

TD3_METRIC_TAGS = {
    name: tag for name, tag in SAC_METRIC_TAGS.items() if name not in ("entropy_loss", "entropy_coefficient")
}


class TD3(OffPolicyAgent):
    """Twin Delayed DDPG with skrl's configuration keys, defaults and formulas.

    As skrl's PyTorch TD3, both critics are trained by one optimizer on the sum of their losses
    (skrl's JAX TD3 steps each critic with the second critic's gradient, which this port does not
    copy). The policy and all targets are updated after every ``policy_delay``-th critic step
    (counted by ``learner.gradient_steps``, across updates, as skrl's counter); "Loss / Policy
    loss" is reported for those steps only (NaN, so not logged, in an update without one).
    The smoothing noise's state (an Ornstein-Uhlenbeck noise's) is kept in
    ``learner.scalars["smooth_noise"]``, one per sampled transition, as skrl keeps it in the noise.
    """

    default_config = TD3_DEFAULT_CONFIG
    config_class = TD3_CFG
    required_models = ("policy", "target_policy", *CRITICS, *TARGETS)

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
        check_deterministic_policy(self, CRITICS)
        if self.cfg["smooth_regularization_noise"] is None:  # skrl's warning
            warnings.warn(
                "TD3: no smooth regularization noise specified to reduce variance during training", stacklevel=2
            )

    def build(self, num_envs: int, timesteps: int) -> AgentFunctions:
        cfg, models, keys = self.cfg, self.model_set, self.model_set.param_keys
        preprocessor = self.state_preprocessor
        critic_keys = list(dict.fromkeys(keys[name] for name in CRITICS))
        policy_optimizer = make_optimizer(float(cfg["actor_learning_rate"]), float(cfg["grad_norm_clip"]))
        critic_optimizer = make_optimizer(float(cfg["critic_learning_rate"]), float(cfg["grad_norm_clip"]))
        gamma, polyak = float(cfg["discount_factor"]), float(cfg["polyak"])
        policy_delay = int(cfg["policy_delay"])
        smooth_noise, smooth_clip = cfg["smooth_regularization_noise"], float(cfg["smooth_regularization_clip"])
        smooth_shape = (int(cfg["batch_size"]), compute_space_size(self.action_space, occupied_size=True))
        low = jnp.asarray(np.asarray(self.action_space.low, np.float32).reshape(-1))
        high = jnp.asarray(np.asarray(self.action_space.high, np.float32).reshape(-1))
        record = self.make_record(timesteps)
        initial_carry, act = make_acting(self, num_envs, timesteps)

        def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
            params = self.initial_params(key, params)
            scalars = {} if smooth_noise is None else {"smooth_noise": smooth_noise.initial_state(smooth_shape)}
            learner = OffPolicyLearner(
                params=params,
                opt_states={
                    "policy": policy_optimizer.init(params[keys["policy"]]),
                    "critic": critic_optimizer.init({name: params[name] for name in critic_keys}),
                },
                scalars=scalars,
                state_scaler=None if preprocessor is None else preprocessor.initial_state(),
                gradient_steps=jnp.zeros((), jnp.int32),
            )
            return AgentState(learner, self.init_memory(num_envs), initial_carry())

        def step(learner: OffPolicyLearner, memory: Any, key: jax.Array):
            sample_key, smooth_key = jax.random.split(key)
            batch = self.sample_batch(memory, sample_key)
            scaler = learner.state_scaler
            if preprocessor is not None:
                scaler = scaler_update(scaler, batch.states)
            states = standardize(preprocessor, scaler, batch.states)
            next_states = standardize(preprocessor, scaler, batch.next_states)
            params, scalars = learner.params, dict(learner.scalars)

            # target policy smoothing
            next_actions = models.act(params, {"states": next_states}, ["target_policy"])["target_policy"][0]
            if smooth_noise is not None:
                noises, scalars["smooth_noise"] = smooth_noise.sample(
                    scalars["smooth_noise"], smooth_key, next_actions.shape
                )
                next_actions = smoothed_target_actions(next_actions, noises, smooth_clip, low, high)
            targets = models.act(params, {"states": next_states, "taken_actions": next_actions}, TARGETS)
            target_values = twin_target(
                batch.rewards, batch.dones, targets[TARGETS[0]][0], targets[TARGETS[1]][0], gamma
            )

            def critics_loss(critic_params):
                values = models.act(
                    {**params, **critic_params}, {"states": states, "taken_actions": batch.actions}, CRITICS
                )
                q1, q2 = values["critic_1"][0], values["critic_2"][0]
                return critic_loss(q1, q2, target_values), (q1, q2)

            critic_params = {name: params[name] for name in critic_keys}
            critic_params, critic_opt, critic_value, (q1, q2) = gradient_step(
                critics_loss, critic_optimizer, critic_params, learner.opt_states["critic"]
            )
            params = {**params, **critic_params}
            frozen_critics = jax.lax.stop_gradient(critic_params)

            # delayed update: the policy and every target, after every policy_delay-th critic step
            delayed = (learner.gradient_steps + 1) % policy_delay == 0

            def policy_step(operand):
                params, policy_opt = operand

                def actor_loss(policy_params):
                    current = {**params, **frozen_critics, keys["policy"]: policy_params}
                    actions = models.act(current, {"states": states}, ["policy"])["policy"][0]
                    q = models.act(current, {"states": states, "taken_actions": actions}, ["critic_1"])["critic_1"][0]
                    return policy_loss(q), None

                policy_params, policy_opt, policy_value, _ = gradient_step(
                    actor_loss, policy_optimizer, params[keys["policy"]], policy_opt
                )
                params = self.polyak_targets({**params, keys["policy"]: policy_params}, polyak)
                return params, policy_opt, policy_value

            def no_policy_step(operand):
                params, policy_opt = operand
                return params, policy_opt, jnp.full((), jnp.nan, jnp.float32)

            params, policy_opt, policy_value = jax.lax.cond(
                delayed, policy_step, no_policy_step, (params, learner.opt_states["policy"])
            )
            opt_states = {"policy": policy_opt, "critic": critic_opt}
            learner = OffPolicyLearner(params, opt_states, scalars, scaler, learner.gradient_steps + 1)
            metrics = {
                # summed and counted, so that an update of several gradient steps averages the policy steps only
                "policy_loss_sum": jnp.where(delayed, policy_value, 0.0),
                "policy_steps": delayed.astype(jnp.float32),
                "critic_loss": critic_value,
                **value_statistics("q1", q1),
                **value_statistics("q2", q2),
                **value_statistics("target", target_values),
            }
            finite = jnp.isfinite(critic_value) & (~delayed | jnp.isfinite(policy_value))
            return learner, metrics, finite

        average_update = self.make_update(step)

        def update(state: AgentState, key: jax.Array, timestep: jax.Array):
            state, metrics = average_update(state, key, timestep)
            total, count = metrics.pop("policy_loss_sum"), metrics.pop("policy_steps")
            metrics["policy_loss"] = jnp.where(count > 0, total / jnp.maximum(count, 1e-12), jnp.nan)
            return state, metrics

        tags = dict(TD3_METRIC_TAGS)
        if cfg["exploration"]["noise"] is not None:
            tags.update(EXPLORATION_METRIC_TAGS)
        return AgentFunctions(
            init=init,
            act=act,
            record=record,
            update=with_exploration_metrics(self, update),
            update_interval=1,
            learning_starts=int(cfg["learning_starts"]),
            metric_tags=tags,
        )
