"""PPO, A2C and RPO (and their ``_RNN`` forms) as the agent interface:
``make_on_policy_functions`` -> ``AgentFunctions``, read top to bottom: init, act, record, update
(whose math is ``on_policy/update.py``'s ``update_learner``).

The state is ``AgentState(learner=OnPolicyLearner, memory=RolloutMemory)``: a rollout of
``rollouts`` rows (``MemoryState``) and the observations that followed its last step;
``update`` runs when it is full (every ``rollouts`` steps).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, NamedTuple

import gymnasium
import jax
import jax.numpy as jnp

from skrl_jax.agents.core import AgentFunctions, AgentState, Transition, shape_rewards
from skrl_jax.agents.on_policy.update import (
    ActorCritic,
    LossFunction,
    OnPolicyConfig,
    OnPolicyLearner,
    Rollout,
    Step,
    act_step,
    init_learner,
    update_learner,
)
from skrl_jax.agents.sharing import DIAGNOSTIC_TAGS
from skrl_jax.core.spaces import compute_space_size, sample_space
from skrl_jax.memories.random import MemoryState, memory_add, memory_init
from skrl_jax.models.greedy import greedy_actions

# the metrics an on-policy update returns, under skrl's TensorBoard tags
TRACKED_METRICS = {
    "policy_loss": "Loss / Policy loss",
    "value_loss": "Loss / Value loss",
    "entropy_loss": "Loss / Entropy loss",
    "stddev": "Policy / Standard deviation",
    "learning_rate": "Learning / Learning rate",
    "kl_divergence": "Policy / KL divergence",
}


class RolloutMemory(NamedTuple):
    """What an on-policy agent records: the rollout, and the observations after its last step
    (``(num_envs, observation_size)``, for the value that bootstraps GAE)."""

    rollout: MemoryState
    next_states: jax.Array


def rollout_specs(observation_space: Any, action_space: Any, privileged_size: int = 0) -> dict[str, tuple[int, Any]]:
    """The tensors of a rollout memory: name -> (size, dtype), as skrl's on-policy agents create them
    (with privileged states, "states" holds the observations and then the privileged states)."""
    sizes = {
        "states": compute_space_size(observation_space, occupied_size=True) + privileged_size,
        "actions": compute_space_size(action_space, occupied_size=True),
        "rewards": 1,
        "terminated": 1,
        "truncated": 1,
        "log_prob": 1,
        "values": 1,
    }
    dtypes = {"terminated": jnp.bool_, "truncated": jnp.bool_}
    return {name: (size, dtypes.get(name, jnp.float32)) for name, size in sizes.items()}


def rnn_specs(models: ActorCritic) -> dict[str, tuple[int, Any]]:
    """The hidden-state tensors a recurrent rollout memory adds, named as skrl's PPO_RNN names them
    (``rnn_policy_0``, ...; a shared model's under "policy"): each step's hidden state before
    acting, ``num_layers * hidden_size`` floats per environment."""
    specs = {}
    for name in models.recurrent_names:
        for index, (layers, hidden) in enumerate(models.model(name).recurrent_sizes()):
            specs[f"rnn_{name}_{index}"] = (layers * hidden, jnp.float32)
    return specs


def reset_finished(rnn: Any, finished: jax.Array) -> Any:
    """The hidden states ``{model key: [(num_layers, N, hidden), ...]}`` with zeros for the
    environments whose episode ended (``finished`` ``(N, 1)`` or ``(N,)``)."""
    finished = jnp.reshape(finished, (1, -1, 1))
    return jax.tree.map(lambda h: jnp.where(finished, jnp.zeros_like(h), h), rnn)


# --- init -------------------------------------------------------------------------------------


def init_state(
    models: ActorCritic,
    config: OnPolicyConfig,
    action_space: gymnasium.Space,
    num_envs: int,
    key: jax.Array,
    params: Mapping[str, Any] | None = None,
) -> AgentState:
    """A fresh agent over ``num_envs`` environments: the models' parameters (``params`` where given,
    drawn from ``key`` otherwise), an empty rollout and zero hidden states."""
    fresh = models.init(key, {} if config.alpha is None else {"alpha": config.alpha})
    params = {name: (params or {}).get(name, fresh[name]) for name in models.names}
    specs = {
        **rollout_specs(models.policy.observation_space, action_space, config.privileged_size),
        **rnn_specs(models),
    }
    observation_size = compute_space_size(models.policy.observation_space, occupied_size=True)
    observation_size += config.privileged_size
    memory = RolloutMemory(
        memory_init(config.rollouts, num_envs, specs), jnp.zeros((num_envs, observation_size), jnp.float32)
    )
    return AgentState(init_learner(models, config, params), memory, models.initial_carry(num_envs))


# --- act --------------------------------------------------------------------------------------


def policy_step(
    models: ActorCritic,
    config: OnPolicyConfig,
    learner: OnPolicyLearner,
    carry: Any,
    observations: jax.Array,
    key: jax.Array,
) -> tuple[jax.Array, dict[str, Any]]:
    """The policy's actions for ``observations`` ``(N, observation_size)`` and the extras ``record``
    stores (``log_prob``, ``values``, ``outputs``, and ``rnn``, the next hidden states, if recurrent)."""
    step = act_step(models, config, learner, observations, key, rnn=carry)
    return step.actions, _extras(step)


def random_step(
    models: ActorCritic,
    config: OnPolicyConfig,
    action_space: gymnasium.Space,
    learner: OnPolicyLearner,
    carry: Any,
    observations: jax.Array,
    key: jax.Array,
    dtype: Any,
) -> tuple[jax.Array, dict[str, Any]]:
    """skrl's random_timesteps: uniform actions from the space (as ``dtype``), scored by the policy."""
    sample_key, act_key = jax.random.split(key)
    batch = observations.shape[0]
    taken = sample_space(action_space, sample_key, (batch,)).reshape(batch, -1).astype(jnp.float32)
    step = act_step(models, config, learner, observations, act_key, taken_actions=taken, rnn=carry)
    return taken.astype(dtype), _extras(step)


def _extras(step: Step) -> dict[str, Any]:
    extras = {"log_prob": step.log_prob, "values": step.values, "outputs": step.outputs}
    return extras if step.rnn is None else {**extras, "rnn": step.rnn}


def agent_act(
    models: ActorCritic,
    config: OnPolicyConfig,
    action_space: gymnasium.Space,
    state: AgentState,
    observations: jax.Array,
    key: jax.Array,
    timestep: jax.Array,
    deterministic: bool = False,
) -> tuple[jax.Array, dict[str, Any]]:
    """``AgentFunctions.act``: random actions before ``random_timesteps``, the policy's after;
    with ``deterministic`` the greedy ones."""
    learner, carry = state.learner, state.carry
    policy = functools.partial(policy_step, models, config)
    if deterministic:
        _, extras = policy(learner, carry, observations, key)
        return greedy_actions(models.policy, extras["outputs"]), extras
    if not config.random_timesteps:
        return policy(learner, carry, observations, key)
    dtype = jax.eval_shape(policy, learner, carry, observations, key)[0].dtype
    return jax.lax.cond(
        timestep < config.random_timesteps,
        lambda: random_step(models, config, action_space, learner, carry, observations, key, dtype),
        lambda: policy(learner, carry, observations, key),
    )


# --- record -----------------------------------------------------------------------------------


def rollout_rows(
    config: OnPolicyConfig,
    num_envs: int,
    timesteps: int,
    transition: Transition,
    extras: Mapping[str, Any],
    timestep: jax.Array,
    state_carry: Any,
    record_samples: bool = False,
) -> dict[str, jax.Array]:
    """One step's row of the rollout memory (``rollout_specs`` and ``rnn_specs``), ``(N, size)``
    each: rewards shaped (and bootstrapped at time limits) as skrl, the hidden states
    ``state_carry`` the step acted from, and as "actions" the policy's samples where
    ``record_samples`` (``ActorCritic.records_samples``), the actions taken otherwise."""
    values = extras["values"]
    rewards = shape_rewards(
        transition,
        timestep,
        timesteps,
        config.rewards_shaper,
        config.discount_factor,
        values if config.time_limit_bootstrap else None,
    )
    hidden = {  # (num_layers, N, hidden) -> (N, num_layers * hidden)
        f"rnn_{name}_{index}": jnp.swapaxes(h, 0, 1).reshape(num_envs, -1)
        for name, states in (state_carry or {}).items()
        for index, h in enumerate(states)
    }
    return {
        "states": transition.observations,
        "actions": extras["outputs"]["samples"] if record_samples else transition.actions,
        "rewards": rewards,
        "terminated": transition.terminated,
        "truncated": transition.truncated,
        "log_prob": extras["log_prob"],
        "values": values,
        **hidden,
    }


def next_carry(carry: Any, extras: Mapping[str, Any], finished: jax.Array) -> Any:
    """The hidden states after a step (``extras["rnn"]``), reset where the episode ended (skrl)."""
    return None if carry is None else reset_finished(extras["rnn"], finished)


def agent_record(
    config: OnPolicyConfig,
    num_envs: int,
    timesteps: int,
    state: AgentState,
    transition: Transition,
    extras: Mapping[str, Any],
    timestep: jax.Array,
    record_samples: bool = False,
) -> AgentState:
    """``AgentFunctions.record``: the step's row appended to the rollout, the observations after it
    kept for bootstrapping, the hidden states moved on."""
    row = rollout_rows(config, num_envs, timesteps, transition, extras, timestep, state.carry, record_samples)
    rollout = memory_add(state.memory.rollout, row)
    next_states = jnp.reshape(transition.next_observations, state.memory.next_states.shape)
    carry = next_carry(state.carry, extras, transition.terminated | transition.truncated)
    return state._replace(memory=RolloutMemory(rollout, next_states.astype(jnp.float32)), carry=carry)


# --- update -----------------------------------------------------------------------------------


def recorded_rollout(state: AgentState) -> Rollout:
    """The full rollout memory as a ``Rollout``: the hidden states ``(T, N, num_layers * hidden)``
    back to ``(T, N, num_layers, hidden)``, and the ones ``next_states`` meets from the carry."""
    tensors = state.memory.rollout.tensors
    rnn = None
    if state.carry is not None:
        rnn = {
            name: [
                tensors[f"rnn_{name}_{index}"].reshape(*tensors["states"].shape[:2], *h.shape[::2])
                for index, h in enumerate(states)
            ]
            for name, states in state.carry.items()
        }
    return Rollout(
        **{name: tensors[name] for name in Rollout._fields if name not in ("next_states", "rnn", "next_rnn")},
        next_states=state.memory.next_states,
        rnn=rnn,
        next_rnn=state.carry,
    )


def agent_update(
    models: ActorCritic,
    config: OnPolicyConfig,
    loss_function: LossFunction,
    state: AgentState,
    key: jax.Array,
    timestep: jax.Array,
) -> tuple[AgentState, dict[str, jax.Array]]:
    """``AgentFunctions.update``: ``update_learner`` on the recorded rollout."""
    learner, metrics = update_learner(models, config, loss_function, state.learner, recorded_rollout(state), key)
    return state._replace(learner=learner), metrics


def metric_tags(config: OnPolicyConfig) -> dict[str, str]:
    """The metrics worth logging for ``config`` under their TensorBoard tags."""
    tags = {
        name: tag
        for name, tag in TRACKED_METRICS.items()
        if not (name == "entropy_loss" and not config.entropy_loss_scale)
        and not (name == "learning_rate" and config.scheduler is None)
    }
    if config.sharing_diagnostics:
        tags.update(DIAGNOSTIC_TAGS)
    return tags


# --- the agent interface ----------------------------------------------------------------------


def make_on_policy_functions(
    models: ActorCritic,
    config: OnPolicyConfig,
    loss_function: LossFunction,
    action_space: gymnasium.Space,
    num_envs: int,
    timesteps: int = 0,
) -> AgentFunctions:
    """The pure functions of an on-policy agent over ``num_envs`` environments.

    ``timesteps`` is the trainer's total, which skrl passes to ``rewards_shaper``.
    """

    # named functions rather than partials: callers read them (chex.assert_max_traces reads the
    # source, jax.jit(static_argnames="deterministic") the signature)
    def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
        return init_state(models, config, action_space, num_envs, key, params)

    def act(
        state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic: bool = False
    ) -> tuple[jax.Array, dict[str, Any]]:
        return agent_act(models, config, action_space, state, observations, key, timestep, deterministic)

    def record(state: AgentState, transition: Transition, extras: Mapping[str, Any], timestep: jax.Array) -> AgentState:
        return agent_record(config, num_envs, timesteps, state, transition, extras, timestep, models.records_samples)

    def update(state: AgentState, key: jax.Array, timestep: jax.Array) -> tuple[AgentState, dict[str, jax.Array]]:
        return agent_update(models, config, loss_function, state, key, timestep)

    return AgentFunctions(
        init=init,
        act=act,
        record=record,
        update=update,
        update_interval=config.rollouts,
        learning_starts=config.learning_starts,
        metric_tags=metric_tags(config),
        describe_gradient_step=lambda index: (
            f"epoch {index // config.mini_batches}, minibatch {index % config.mini_batches}"
        ),
        init_carry=None if not models.recurrent_names else models.initial_carry,
        next_carry=next_carry,
    )
