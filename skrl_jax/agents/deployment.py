"""A trained policy as it acts once training is over: ``DeployedPolicy`` and its pure action function.

An agent hands out what acting needs and nothing else (``agent.deployed_policy()``): the model
that acts, the role it acts with, its parameters and the observations' standardisation. Only
the policy's path is computed: a model shared with a value head runs its policy role alone.
``policy_function`` turns that into one pure function of raw observations, the statistics of
the preprocessor folded in as constants: what an exported artefact computes
(``skrl_jax.export``) and what evaluation runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from skrl_jax.core.spaces import flatten_sample
from skrl_jax.models.base import Model, act_triple, check_key
from skrl_jax.resources.preprocessors import RunningStandardScaler, ScalerState

# the mixin that serves the role -> the policy kind an artefact records
POLICY_KINDS = {
    "GaussianMixin": "gaussian",
    "MultivariateGaussianMixin": "multivariate_gaussian",
    "TanhGaussianMixin": "tanh_gaussian",
    "CategoricalMixin": "categorical",
    "MultiCategoricalMixin": "multicategorical",
    "DeterministicMixin": "deterministic",
}
Q_VALUES = "q_values"  # a DQN's q_network: its greedy action is the argmax of its outputs


class DeployedPolicy(NamedTuple):
    """What acting after training needs.

    model: the model that acts; role: the role it acts with ("policy"; a DQN's "q_network");
    params: the model's whole parameter tree (a shared model's value head stays unused);
    preprocessor / scaler: the observations' ``RunningStandardScaler`` and its statistics (None:
    observations are used as they come); inputs: fixed entries ``compute`` reads besides the
    observations (RPO's ``{"alpha": 0.0, "key": ...}``: its mean unperturbed).
    """

    model: Model
    role: str
    params: Any
    preprocessor: RunningStandardScaler | None = None
    scaler: ScalerState | None = None
    inputs: Mapping[str, Any] = {}


def policy_kind(policy: DeployedPolicy) -> str:
    """The kind of the policy (``POLICY_KINDS``' values, or ``"q_values"`` for a DQN's q_network)."""
    if policy.role == "q_network":
        return Q_VALUES
    mixin = policy.model._spec_for(policy.role).mixin.__name__
    if mixin not in POLICY_KINDS:
        raise TypeError(f"{type(policy.model).__name__} acts for role {policy.role!r} with {mixin}, not a policy mixin")
    return POLICY_KINDS[mixin]


def is_recurrent(policy: DeployedPolicy) -> bool:
    return bool(policy.model.recurrent_sizes())


def policy_function(policy: DeployedPolicy, stochastic: bool = False) -> Callable[..., Any]:
    """The pure action function of ``policy``.

    Its arguments are ``observations`` (a batch of the observation space's samples: an array
    ``(batch, *shape)``, or a dict / tuple of them for Dict / Tuple spaces), then, for a recurrent
    policy, ``rnn`` (the list of hidden states, ``(num_layers, batch, hidden_size)`` each), then,
    when ``stochastic``, ``key``. It returns the actions ``(batch, action_size)`` (the greedy ones:
    the mean of a Gaussian, the argmax of a Categorical's logits or of a DQN's Q-values; sampled
    with ``key`` when ``stochastic``), and, for a recurrent policy, the next hidden states.
    """
    kind = policy_kind(policy)
    if stochastic and kind in ("deterministic", Q_VALUES):
        raise ValueError(f"a stochastic action function needs a stochastic policy; this one is {kind!r}")
    model, role = policy.model, policy.role
    recurrent = is_recurrent(policy)

    def act(observations: Any, *args: Any) -> Any:
        rnn, key = (args[0], args[1:]) if recurrent else (None, args)
        key = key[0] if key else None
        states = jnp.asarray(flatten_sample(model.observation_space, observations), jnp.float32)
        if policy.preprocessor is not None:
            states = policy.preprocessor.standardize(policy.scaler, states)
        inputs = {**policy.inputs, "states": states, **({} if rnn is None else {"rnn": list(rnn)})}
        if stochastic:
            check_key(key, "the stochastic policy function")
            actions, _, outputs = act_triple(model.act(inputs, role, params=policy.params, key=key))
        else:
            actions, outputs = model.greedy_act(inputs, role, params=policy.params)
        if kind == Q_VALUES:
            actions = jnp.argmax(actions, axis=-1, keepdims=True).astype(jnp.int32)
        return (actions, list(outputs["rnn"])) if recurrent else actions

    return act


def example_arguments(policy: DeployedPolicy, batch: int, stochastic: bool = False) -> tuple:
    """Arguments of ``policy_function(policy, stochastic)`` for ``batch`` rows (zero observations and
    hidden states; a key when ``stochastic``), e.g. to trace it."""
    space = policy.model.observation_space
    observations = jax.tree.map(lambda x: jnp.zeros((batch, *jnp.shape(x)), jnp.asarray(x).dtype), space.sample())
    arguments: tuple = (observations,)
    if is_recurrent(policy):
        arguments += (policy.model.rnn_initial_states(batch),)
    if stochastic:
        arguments += (jax.random.key(0),)
    return arguments
