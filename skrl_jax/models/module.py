"""The linen module that runs a user's ``setup`` / ``compute`` (or ``@nn.compact __call__``).

A ``Model`` is a plain Python object; its layers live in ``ModelModule``, whose ``setup`` and
``compute`` are the user's own functions called with the module as ``self``. Attributes the
module does not have (``num_actions``, ``action_space``, helper methods, ...) are read from the
model, so code written for skrl's ``Model`` runs unchanged.

An attribute that ``compute`` sets (skrl's single-forward-pass model keeps
``self._shared_output`` between its policy and value branches) lives on the module bound for
that one call: flax binds a fresh copy for every ``apply``, so a joint call's roles see it and
no other call does.
"""

from __future__ import annotations

import contextlib
import inspect
import types
from collections.abc import Iterator, Sequence
from typing import Any

import flax.linen as nn
import jax
import numpy as np

# where Model and the mixins live: their placeholder methods are not a model's own
BASE_MODULES = frozenset(
    f"skrl_jax.models.{name}"
    for name in (
        "base",
        "roles",
        "inputs",
        "parameters",
        "mixin",
        "gaussian",
        "deterministic",
        "categorical",
        "multivariate_gaussian",
    )
)


def defines(cls: type, name: str) -> bool:
    """Whether a model class (not ``Model``, a mixin or ``object``) defines ``name``."""
    return any(name in klass.__dict__ for klass in cls.__mro__[:-1] if klass.__module__ not in BASE_MODULES)


class ModelModule(nn.Module):
    """Holds the parameters of one ``Model``; each role is a method call on it.

    A model declares its layers in ``setup()`` and uses them in ``compute(inputs, role)``, or,
    as skrl's JAX models do, creates them inline in an ``@nn.compact`` ``__call__(inputs, role)``.
    """

    skrl_model: Any

    def setup(self) -> None:
        if defines(type(self.skrl_model), "setup"):
            type(self.skrl_model).setup(self)

    @nn.compact
    def compact_role(self, inputs: dict, role: str) -> Any:
        return type(self.skrl_model).__call__(self, inputs, role)

    def compute_role(self, inputs: dict, role: str) -> Any:
        cls = type(self.skrl_model)
        inputs = self.skrl_model.compute_inputs(inputs)
        if defines(cls, "compute"):
            return cls.compute(self, inputs, role)
        if defines(cls, "__call__"):
            return self.compact_role(inputs, role)
        raise NotImplementedError(
            f"{cls.__name__} must define compute(inputs, role) (with its layers in setup()) or an @nn.compact "
            "__call__(inputs, role) as skrl's JAX models do"
        )

    def compute_roles(self, inputs: dict, roles: Sequence[str]) -> dict[str, Any]:
        return {role: self.compute_role(inputs, role) for role in roles}

    def __setattr__(self, name: str, value: Any) -> None:
        state = self.__dict__.get("_state")
        if state is not None and state.is_initialized and not state.in_setup and not _holds_module(value):
            object.__setattr__(self, name, value)  # a value of this call only (e.g. skrl's self._shared_output)
            return
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            model = self.__dict__.get("skrl_model")
            if model is None or (name.startswith("__") and name.endswith("__")):
                raise
        attribute = inspect.getattr_static(type(model), name, None)
        if isinstance(attribute, types.FunctionType):
            return types.MethodType(attribute, self)
        if isinstance(attribute, property) and attribute.fget is not None:
            return attribute.fget(self)
        return getattr(model, name)


def _holds_module(value: Any) -> bool:
    return any(
        isinstance(leaf, nn.Module) for leaf in jax.tree.leaves(value, is_leaf=lambda x: isinstance(x, nn.Module))
    )


def _call_fingerprint(args: tuple, kwargs: dict) -> tuple:
    leaves, treedef = jax.tree.flatten((args, kwargs))
    parts = []
    for leaf in leaves:
        if isinstance(leaf, (jax.Array, np.ndarray)):
            parts.append(("array", id(leaf)))
        else:
            hash(leaf)
            parts.append(("value", leaf))
    return (treedef, tuple(parts))


@contextlib.contextmanager
def traced_once() -> Iterator[None]:
    """Within the block, a submodule called again with the very same arguments returns its first
    result instead of being traced again.

    A joint call's roles each run ``compute``, and each calls the trunk on ``inputs["states"]``:
    this keeps the trunk's Python code (a recurrent scan, say) from being traced once per role.
    It saves tracing only; what is computed once is settled by ``joint.computed_once``, which
    also merges a trunk fed arrays built in ``compute``. The memo lives for one call.
    """
    memo: dict[tuple, tuple[Any, tuple, dict]] = {}

    def interceptor(next_fun, args, kwargs, context):
        module = context.module
        if context.method_name == "setup" or isinstance(module, ModelModule) or module.scope is None:
            return next_fun(*args, **kwargs)
        try:
            key = (module.scope.path, context.method_name, _call_fingerprint(args, kwargs))
        except TypeError:  # an unhashable non-array argument: no memo for this call
            return next_fun(*args, **kwargs)
        if key not in memo:
            # the arguments are kept alive so that their ids cannot be reused within the call
            memo[key] = (next_fun(*args, **kwargs), args, kwargs)
        return memo[key][0]

    with nn.intercept_methods(interceptor):
        yield
