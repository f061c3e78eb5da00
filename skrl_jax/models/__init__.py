"""Models: ``Model`` and skrl's five mixins, with explicit parameter sharing between roles."""

from skrl_jax.models.base import Model, RoleSpec
from skrl_jax.models.categorical import CategoricalMixin, MultiCategoricalMixin
from skrl_jax.models.conventions import ModelConventions
from skrl_jax.models.deterministic import DeterministicMixin
from skrl_jax.models.functional import (
    CategoricalHead,
    DeterministicHead,
    FunctionalModel,
    GaussianHead,
    Head,
    MultiCategoricalHead,
    MultivariateGaussianHead,
    shared_model,
)
from skrl_jax.models.gaussian import GaussianMixin
from skrl_jax.models.multivariate_gaussian import MultivariateGaussianMixin
from skrl_jax.models.recurrent import GRU, LSTM, RecurrentLayer, RecurrentTrunk

__all__ = [
    "CategoricalHead",
    "DeterministicHead",
    "FunctionalModel",
    "GaussianHead",
    "Head",
    "MultiCategoricalHead",
    "MultivariateGaussianHead",
    "shared_model",
    "CategoricalMixin",
    "DeterministicMixin",
    "GaussianMixin",
    "Model",
    "ModelConventions",
    "MultiCategoricalMixin",
    "MultivariateGaussianMixin",
    "RoleSpec",
    "GRU",
    "LSTM",
    "RecurrentLayer",
    "RecurrentTrunk",
]
