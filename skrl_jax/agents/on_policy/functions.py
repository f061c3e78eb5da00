"""PPO, A2C and RPO as the agent interface: ``make_on_policy_functions`` -> ``AgentFunctions``.

The state is ``AgentState(learner=OnPolicyLearner, memory=RolloutMemory)``: a rollout of
``rollouts`` rows (``MemoryState``) and the observations that followed its last step;
``update`` runs when it is full (every ``rollouts`` steps).
"""

from __future__ import annotations

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
    init_learner,
    make_act,
    make_update,
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
    specs = {
        **rollout_specs(models.policy.observation_space, action_space, config.privileged_size),
        **rnn_specs(models),
    }
    act_step = make_act(models, config)
    update_learner = make_update(models, config, loss_function)
    extra_inputs = {} if config.alpha is None else {"alpha": config.alpha}

    def init(key: jax.Array, params: Mapping[str, Any] | None = None) -> AgentState:
        fresh = models.init(key, extra_inputs)
        params = {name: (params or {}).get(name, fresh[name]) for name in models.names}
        observation_size = compute_space_size(models.policy.observation_space, occupied_size=True)
        observation_size += config.privileged_size
        memory = RolloutMemory(
            memory_init(config.rollouts, num_envs, specs), jnp.zeros((num_envs, observation_size), jnp.float32)
        )
        return AgentState(init_learner(models, config, params), memory, models.initial_carry(num_envs))

    def extras_of(step) -> dict[str, Any]:
        extras = {"log_prob": step.log_prob, "values": step.values, "outputs": step.outputs}
        return extras if step.rnn is None else {**extras, "rnn": step.rnn}

    def policy_step(learner: OnPolicyLearner, carry: Any, observations: jax.Array, key: jax.Array):
        step = act_step(learner, observations, key, rnn=carry)
        return step.actions, extras_of(step)

    def random_step(learner: OnPolicyLearner, carry: Any, observations: jax.Array, key: jax.Array, dtype: Any):
        # skrl's random_timesteps: uniform actions from the space, scored by the policy
        sample_key, act_key = jax.random.split(key)
        batch = observations.shape[0]
        taken = sample_space(action_space, sample_key, (batch,)).reshape(batch, -1).astype(jnp.float32)
        step = act_step(learner, observations, act_key, taken_actions=taken, rnn=carry)
        return taken.astype(dtype), extras_of(step)

    def act(
        state: AgentState, observations: jax.Array, key: jax.Array, timestep: jax.Array, deterministic: bool = False
    ) -> tuple[jax.Array, dict[str, Any]]:
        learner, carry = state.learner, state.carry
        if deterministic:
            actions, extras = policy_step(learner, carry, observations, key)
            return greedy_actions(models.policy, extras["outputs"]), extras
        if not config.random_timesteps:
            return policy_step(learner, carry, observations, key)
        dtype = jax.eval_shape(policy_step, learner, carry, observations, key)[0].dtype
        return jax.lax.cond(
            timestep < config.random_timesteps,
            lambda: random_step(learner, carry, observations, key, dtype),
            lambda: policy_step(learner, carry, observations, key),
        )

    def rows(
        transition: Transition, extras: Mapping[str, Any], timestep: jax.Array, state_carry: Any
    ) -> dict[str, jax.Array]:
        values = extras["values"]
        rewards = shape_rewards(
            transition,
            timestep,
            timesteps,
            config.rewards_shaper,
            config.discount_factor,
            values if config.time_limit_bootstrap else None,
        )
        hidden = {  # the hidden states the step acted from, (num_layers, N, hidden) -> (N, num_layers * hidden)
            f"rnn_{name}_{index}": jnp.swapaxes(h, 0, 1).reshape(num_envs, -1)
            for name, states in (state_carry or {}).items()
            for index, h in enumerate(states)
        }
        return {
            "states": transition.observations,
            "actions": transition.actions,
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

    def record(state: AgentState, transition: Transition, extras: Mapping[str, Any], timestep: jax.Array) -> AgentState:
        rollout = memory_add(state.memory.rollout, rows(transition, extras, timestep, state.carry))
        next_states = jnp.reshape(transition.next_observations, state.memory.next_states.shape)
        carry = next_carry(state.carry, extras, transition.terminated | transition.truncated)
        return state._replace(memory=RolloutMemory(rollout, next_states.astype(jnp.float32)), carry=carry)

    def update(state: AgentState, key: jax.Array, timestep: jax.Array) -> tuple[AgentState, dict[str, jax.Array]]:
        tensors = state.memory.rollout.tensors
        rnn = None
        if state.carry is not None:  # (T, N, num_layers * hidden) -> (T, N, num_layers, hidden)
            rnn = {
                name: [
                    tensors[f"rnn_{name}_{index}"].reshape(*tensors["states"].shape[:2], *h.shape[::2])
                    for index, h in enumerate(states)
                ]
                for name, states in state.carry.items()
            }
        rollout = Rollout(
            **{name: tensors[name] for name in Rollout._fields if name not in ("next_states", "rnn", "next_rnn")},
            next_states=state.memory.next_states,
            rnn=rnn,
            next_rnn=state.carry,
        )
        learner, metrics = update_learner(state.learner, rollout, key)
        return state._replace(learner=learner), metrics

    tags = {
        name: tag
        for name, tag in TRACKED_METRICS.items()
        if not (name == "entropy_loss" and not config.entropy_loss_scale)
        and not (name == "learning_rate" and config.scheduler is None)
    }
    if config.sharing_diagnostics:
        tags.update(DIAGNOSTIC_TAGS)
    return AgentFunctions(
        init=init,
        act=act,
        record=record,
        update=update,
        update_interval=config.rollouts,
        learning_starts=config.learning_starts,
        metric_tags=tags,
        describe_gradient_step=lambda index: (
            f"epoch {index // config.mini_batches}, minibatch {index % config.mini_batches}"
        ),
        init_carry=None if not models.recurrent_names else models.initial_carry,
        next_carry=next_carry,
    )
