"""Build a shared model from a trunk module and per-role heads, without writing a class.

    model = shared_model(
        env.observation_space, env.action_space,
        trunk=nn.Sequential([nn.Dense(64), nn.tanh, nn.Dense(64), nn.tanh]),
        heads={"policy": GaussianHead(), "value": DeterministicHead()},
    )

The result is an ordinary ``Model`` (init / apply / act / parameter_roles); its parameters are
``{"trunk": ..., "<role>_head": ..., "<role>_log_std": ...}``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar

import flax.linen as nn
import jax.numpy as jnp

from skrl_jax.models.base import Model
from skrl_jax.models.categorical import CategoricalMixin, MultiCategoricalMixin
from skrl_jax.models.deterministic import DeterministicMixin
from skrl_jax.models.gaussian import GaussianMixin
from skrl_jax.models.multivariate_gaussian import MultivariateGaussianMixin
from skrl_jax.models.recurrent import RecurrentLayer, RecurrentTrunk
from skrl_jax.models.tanh_gaussian import TanhGaussianMixin


@dataclasses.dataclass(frozen=True)
class Head:
    """A role's output layer on top of the trunk and the mixin that turns it into actions.

    ``network`` replaces the default output layer (a ``Dense`` of the size the mixin needs).
    """

    network: nn.Module | None = None
    mixin: ClassVar[type] = DeterministicMixin

    def mixin_kwargs(self) -> dict[str, Any]:
        names = {field.name for field in dataclasses.fields(self)} - {"network", "units", "initial_log_std"}
        return {name: getattr(self, name) for name in names}

    def output_size(self, model: Any) -> int:
        return model.num_actions

    def declare(self, module: Any, role: str) -> None:
        layer = self.network if self.network is not None else nn.Dense(self.output_size(module))
        setattr(module, f"{role}_head", layer)

    def compute(self, module: Any, role: str, features: Any) -> tuple:
        return getattr(module, f"{role}_head")(features), {}


@dataclasses.dataclass(frozen=True)
class DeterministicHead(Head):
    """skrl's DeterministicMixin; ``units`` outputs (1 for a value, None for ``num_actions``)."""

    units: int | None = 1
    clip_actions: bool = False
    mixin: ClassVar[type] = DeterministicMixin

    def output_size(self, model: Any) -> int:
        return model.num_actions if self.units is None else self.units


@dataclasses.dataclass(frozen=True)
class GaussianHead(Head):
    """skrl's GaussianMixin: a mean layer and a state-independent ``log_std`` parameter."""

    clip_actions: bool = False
    clip_log_std: bool = True
    min_log_std: float = -20
    max_log_std: float = 2
    reduction: str = "sum"
    initial_log_std: float = 0.0
    mixin: ClassVar[type] = GaussianMixin

    def declare(self, module: Any, role: str) -> None:
        super().declare(module, role)
        log_std = module.param(f"{role}_log_std", nn.initializers.constant(self.initial_log_std), (module.num_actions,))
        setattr(module, f"{role}_log_std", log_std)

    def compute(self, module: Any, role: str, features: Any) -> tuple:
        return getattr(module, f"{role}_head")(features), getattr(module, f"{role}_log_std"), {}


@dataclasses.dataclass(frozen=True)
class TanhGaussianHead(Head):
    """brax's policy form (``TanhGaussianMixin``): one layer gives ``loc`` and the scale's input, so
    the scale depends on the state (``softplus(.) + min_scale`` by default)."""

    scale: str = "softplus"
    min_scale: float = 0.001
    clip_log_std: bool = True
    min_log_std: float = -20
    max_log_std: float = 2
    reduction: str = "sum"
    mixin: ClassVar[type] = TanhGaussianMixin

    def output_size(self, model: Any) -> int:
        return 2 * model.num_actions

    def compute(self, module: Any, role: str, features: Any) -> tuple:
        loc, scale_input = jnp.split(getattr(module, f"{role}_head")(features), 2, axis=-1)
        return loc, scale_input, {}


@dataclasses.dataclass(frozen=True)
class MultivariateGaussianHead(GaussianHead):
    """skrl's MultivariateGaussianMixin (no ``reduction``); ``squared_scale`` as the mixin's (None: skrl 1.4's
    ``diag(exp(log_std) ** 2)``, the convention of the model ``shared_model`` builds)."""

    squared_scale: bool | None = None
    mixin: ClassVar[type] = MultivariateGaussianMixin

    def mixin_kwargs(self) -> dict[str, Any]:
        kwargs = super().mixin_kwargs()
        del kwargs["reduction"]
        return kwargs


@dataclasses.dataclass(frozen=True)
class CategoricalHead(Head):
    """skrl's CategoricalMixin: ``n`` logits for a Discrete(n) action space."""

    unnormalized_log_prob: bool = True
    mixin: ClassVar[type] = CategoricalMixin


@dataclasses.dataclass(frozen=True)
class MultiCategoricalHead(Head):
    """skrl's MultiCategoricalMixin: ``sum(nvec)`` logits for a MultiDiscrete action space."""

    unnormalized_log_prob: bool = True
    reduction: str = "sum"
    mixin: ClassVar[type] = MultiCategoricalMixin


class FunctionalModel(Model):
    """The model ``shared_model`` builds: ``trunk`` once, then one head per role."""

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        trunk: nn.Module | None,
        heads: Mapping[str, Head],
        device: Any = None,
        parameter_init: str | None = None,
        sequence_length: int | None = None,
    ) -> None:
        Model.__init__(self, observation_space, action_space, device, parameter_init=parameter_init)
        self.recurrent = isinstance(trunk, (RecurrentLayer, RecurrentTrunk))
        if self.recurrent and sequence_length is None:
            raise ValueError(
                f"shared_model: a recurrent trunk ({type(trunk).__name__}) needs sequence_length=..., the length of "
                "the sequences PPO_RNN trains on"
            )
        if not self.recurrent and sequence_length is not None:
            raise ValueError("shared_model: sequence_length is for a recurrent trunk (GRU, LSTM or RecurrentTrunk)")
        self.rnn_length = sequence_length
        if not heads:
            raise ValueError("shared_model needs at least one head, e.g. heads={'policy': GaussianHead()}")
        for role, head in heads.items():
            if not isinstance(head, Head):
                raise TypeError(f"head for role {role!r} must be a Head (GaussianHead(), ...), got {head!r}")
            head.mixin.__init__(self, **head.mixin_kwargs(), role=role)
        self.trunk_module = trunk
        self.heads = dict(heads)

    def setup(self) -> None:
        if self.trunk_module is not None:
            self.trunk = self.trunk_module
        for role, head in self.heads.items():
            head.declare(self, role)

    def get_specification(self) -> dict[str, Any]:
        if not self.recurrent:
            return {}
        return {"rnn": {"sequence_length": self.rnn_length, "sizes": self.trunk_module.sizes(1)}}

    def compute(self, inputs: Mapping[str, Any], role: str) -> Any:
        states = inputs["states"]
        if not self.recurrent:
            features = states if self.trunk_module is None else self.trunk(states)
            return self.heads[role].compute(self, role, features)
        hidden = self.trunk_module.hidden_from(inputs["rnn"])
        features, hidden = self.trunk(states, hidden, inputs.get("terminated"))
        *output, extra = self.heads[role].compute(self, role, features)
        return (*output, {**extra, "rnn": self.trunk_module.rnn_list(hidden)})


def shared_model(
    observation_space: Any,
    action_space: Any,
    trunk: nn.Module | None,
    heads: Mapping[str, Head],
    device: Any = None,
    parameter_init: str | None = None,
    sequence_length: int | None = None,
) -> FunctionalModel:
    """A model whose roles share ``trunk`` (a flax module mapping states to features).

    Args:
        observation_space: gymnasium observation space.
        action_space: gymnasium action space.
        trunk: the shared layers, e.g. ``nn.Sequential([nn.Dense(64), nn.tanh])``; None
            feeds the states to the heads directly.
        heads: role name -> head (``GaussianHead()``, ``DeterministicHead()``,
            ``CategoricalHead()``, ``MultiCategoricalHead()``, ``MultivariateGaussianHead()``).
        parameter_init: ``"flax"`` or ``"pytorch"``, as ``Model``'s argument.
        sequence_length: with a recurrent trunk (``GRU``, ``LSTM`` or ``RecurrentTrunk``), the
            length of the sequences PPO_RNN trains on (skrl's ``get_specification()``); the
            hidden state is ``inputs["rnn"]`` and comes back in each role's ``outputs["rnn"]``.
    """
    return FunctionalModel(observation_space, action_space, trunk, heads, device, parameter_init, sequence_length)
