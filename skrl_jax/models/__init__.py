"""Models: ``Model``, skrl's five mixins and brax's tanh-squashed Gaussian, with explicit parameter sharing between roles."""

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
    TanhGaussianHead,
    shared_model,
)
from skrl_jax.models.gaussian import GaussianMixin
from skrl_jax.models.multivariate_gaussian import MultivariateGaussianMixin
from skrl_jax.models.recurrent import GRU, LSTM, RecurrentLayer, RecurrentTrunk
from skrl_jax.models.tanh_gaussian import TanhGaussianMixin

__all__ = [
    "CategoricalHead",
    "DeterministicHead",
    "FunctionalModel",
    "GaussianHead",
    "Head",
    "MultiCategoricalHead",
    "MultivariateGaussianHead",
    "TanhGaussianHead",
    "shared_model",
    "CategoricalMixin",
    "DeterministicMixin",
    "GaussianMixin",
    "Model",
    "ModelConventions",
    "MultiCategoricalMixin",
    "MultivariateGaussianMixin",
    "RoleSpec",
    "TanhGaussianMixin",
    "GRU",
    "LSTM",
    "RecurrentLayer",
    "RecurrentTrunk",
]
