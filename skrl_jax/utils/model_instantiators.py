"""skrl's model instantiators: ``deterministic_model``, ``gaussian_model``, ``multivariate_gaussian_model``,
``categorical_model``, ``multicategorical_model`` (``skrl.utils.model_instantiators.jax``).

Each builds one model from skrl's network specification (``network=[{"name", "input", "layers",
"activations"}]`` and ``output``), through the same parser as the YAML runner
(``skrl_jax.utils.network_spec``): nothing is generated as source code nor ``eval``-ed, so
``return_source=True`` is refused. The API follows skrl's rule for models: called with
``state_space=`` (skrl 2.x's keyword-only form) the model is a 2.x one, whose network reads
``OBSERVATIONS`` (and ``STATES``, the privileged state); otherwise a 1.4 one, whose ``STATES`` are
the observations. The mixin is declared without a role, so the agent names it after its key.
"""

from __future__ import annotations

import enum
from typing import Any

from skrl_jax.models.base import NOT_GIVEN, Model
from skrl_jax.utils.network_spec import DEPRECATED_ARGUMENTS, build_model, parse_role

__all__ = [
    "Shape",
    "deterministic_model",
    "gaussian_model",
    "multivariate_gaussian_model",
    "categorical_model",
    "multicategorical_model",
]


class Shape(enum.Enum):
    """skrl 1.4's shapes of the arguments from before its network format (``input_shape=Shape.STATES``)."""

    ONE = 1
    STATES = 0
    OBSERVATIONS = 0
    ACTIONS = -1
    STATES_ACTIONS = -2


def _instantiate(
    class_name: str,
    observation_space: Any,
    action_space: Any,
    state_space: Any,
    network: Any,
    output: Any,
    return_source: bool,
    arguments: dict[str, Any],
) -> Model:
    where = f"{class_name.removesuffix('Mixin').lower()}_model"
    if return_source:
        raise NotImplementedError(
            f"{where}(return_source=True): skrl_jax builds the model from the specification directly and generates "
            "no source code"
        )
    if observation_space is None:
        raise TypeError(f"{where}: needs the observation space (observation_space=env.observation_space)")
    api = "1.4" if state_space is NOT_GIVEN else "2.x"
    state_space = None if state_space is NOT_GIVEN else state_space
    for name in ("input_shape", "output_shape"):
        if isinstance(arguments.get(name), Shape):
            shape = arguments[name].name
            arguments[name] = "concatenate([STATES, ACTIONS])" if shape == "STATES_ACTIONS" else shape
    spec = {"class": class_name, **arguments}
    if network or not any(name in arguments for name in DEPRECATED_ARGUMENTS):
        spec.update(network=network or [], output=output)
    role = parse_role("", spec, api, observation_space, state_space, action_space, where)
    return build_model([role], observation_space, action_space, api, state_space)


def deterministic_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    clip_actions: bool = False,
    network: list[dict[str, Any]] | None = None,
    output: str | list[str] = "",
    return_source: bool = False,
    *,
    state_space: Any = NOT_GIVEN,
    **kwargs: Any,
) -> Model:
    """A ``DeterministicMixin`` model (skrl's ``deterministic_model``); ``kwargs``: skrl's arguments from
    before 1.3 (``input_shape``, ``hiddens``, ...)."""
    arguments = {"clip_actions": clip_actions, **kwargs}
    return _instantiate(
        "DeterministicMixin", observation_space, action_space, state_space, network, output, return_source, arguments
    )


def gaussian_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    clip_actions: bool = False,
    clip_log_std: bool = True,
    min_log_std: float = -20,
    max_log_std: float = 2,
    reduction: str = "sum",
    initial_log_std: float = 0,
    fixed_log_std: bool = False,
    network: list[dict[str, Any]] | None = None,
    output: str | list[str] = "",
    return_source: bool = False,
    *,
    state_space: Any = NOT_GIVEN,
    clip_mean_actions: bool = False,
    **kwargs: Any,
) -> Model:
    """A ``GaussianMixin`` model (skrl's ``gaussian_model``), its log standard deviation a parameter
    (``initial_log_std``) or fixed (``fixed_log_std``)."""
    arguments = {
        "clip_actions": clip_actions,
        "clip_mean_actions": clip_mean_actions,
        "clip_log_std": clip_log_std,
        "min_log_std": min_log_std,
        "max_log_std": max_log_std,
        "initial_log_std": initial_log_std,
        "fixed_log_std": fixed_log_std,
        "reduction": reduction,
        **kwargs,
    }
    return _instantiate(
        "GaussianMixin", observation_space, action_space, state_space, network, output, return_source, arguments
    )


def multivariate_gaussian_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    clip_actions: bool = False,
    clip_log_std: bool = True,
    min_log_std: float = -20,
    max_log_std: float = 2,
    initial_log_std: float = 0,
    fixed_log_std: bool = False,
    network: list[dict[str, Any]] | None = None,
    output: str | list[str] = "",
    return_source: bool = False,
    *,
    state_space: Any = NOT_GIVEN,
    clip_mean_actions: bool = False,
    **kwargs: Any,
) -> Model:
    """A ``MultivariateGaussianMixin`` model (skrl's PyTorch ``multivariate_gaussian_model``)."""
    arguments = {
        "clip_actions": clip_actions,
        "clip_mean_actions": clip_mean_actions,
        "clip_log_std": clip_log_std,
        "min_log_std": min_log_std,
        "max_log_std": max_log_std,
        "initial_log_std": initial_log_std,
        "fixed_log_std": fixed_log_std,
        **kwargs,
    }
    return _instantiate(
        "MultivariateGaussianMixin",
        observation_space,
        action_space,
        state_space,
        network,
        output,
        return_source,
        arguments,
    )


def categorical_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    unnormalized_log_prob: bool = True,
    network: list[dict[str, Any]] | None = None,
    output: str | list[str] = "",
    return_source: bool = False,
    *,
    state_space: Any = NOT_GIVEN,
    **kwargs: Any,
) -> Model:
    """A ``CategoricalMixin`` model (skrl's ``categorical_model``): logits per action."""
    arguments = {"unnormalized_log_prob": unnormalized_log_prob, **kwargs}
    return _instantiate(
        "CategoricalMixin", observation_space, action_space, state_space, network, output, return_source, arguments
    )


def multicategorical_model(
    observation_space: Any = None,
    action_space: Any = None,
    device: Any = None,
    unnormalized_log_prob: bool = True,
    reduction: str = "sum",
    network: list[dict[str, Any]] | None = None,
    output: str | list[str] = "",
    return_source: bool = False,
    *,
    state_space: Any = NOT_GIVEN,
    **kwargs: Any,
) -> Model:
    """A ``MultiCategoricalMixin`` model (skrl's ``multicategorical_model``)."""
    arguments = {"unnormalized_log_prob": unnormalized_log_prob, "reduction": reduction, **kwargs}
    return _instantiate(
        "MultiCategoricalMixin", observation_space, action_space, state_space, network, output, return_source, arguments
    )
