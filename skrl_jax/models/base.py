"""``Model``: a thin object over the pure pair ``init`` / ``apply(params, inputs, role)``.

Its parts live beside it: roles (``roles.py``), inputs (``inputs.py``), parameters held for
agents, checkpoints and ``parameter_roles`` (``parameters.py``); the linen module that runs the
user's layers (``module.py``); the joint pass that computes a shared trunk once (``joint.py``).

A ``Model`` object does not change while it is called: what one call needs (the params and key
that a user's ``act`` override does not pass on, the joint pass's outputs that the per-role
``act`` calls read) lives in a context scoped to that call (``_CALL_SCOPE``), not on ``self``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from skrl_jax import config as library_config
from skrl_jax.core.spaces import check_space, compute_space_size
from skrl_jax.core.validation import Choice, describe, raise_if_not_finite
from skrl_jax.models.conventions import SKRL_1_4_CONVENTIONS, SKRL_2_CONVENTIONS, ModelConventions
from skrl_jax.models.greedy import greedy_actions
from skrl_jax.models.initialization import (
    make_initializer,
    pytorch_initialization,
    redraw_parameters,
)
from skrl_jax.models.inputs import ObservationInputs
from skrl_jax.models.joint import computed_once
from skrl_jax.models.module import ModelModule, traced_once
from skrl_jax.models.parameters import ParameterStore
from skrl_jax.models.roles import RoleRegistry, RoleSpec

Role = str | tuple[str, ...]
SKRL_APIS = ("1.4", "2.x")
NOT_GIVEN: Any = object()  # state_space not passed: a skrl 1.4 model


class _JointPass(NamedTuple):
    """The outputs of one joint forward pass, handed to the per-role ``act`` calls that follow it."""

    params: Any
    inputs: dict[str, Any]
    outputs: dict[str, Any]


class _CallScope(NamedTuple):
    """What one call of a model hands to the calls it makes: the ``params`` / ``key`` given to a
    user's ``act`` override (its mixin call may not pass them on) and the joint pass in progress."""

    model: Any
    params: Any
    key: Any
    joint: _JointPass | None


_CALL_SCOPE: contextvars.ContextVar[_CallScope | None] = contextvars.ContextVar("skrl_jax_model_call", default=None)


@contextlib.contextmanager
def _call_scope(model: Any, params: Any, key: Any, joint: _JointPass | None) -> Iterator[None]:
    token = _CALL_SCOPE.set(_CallScope(model, params, key, joint))
    try:
        yield
    finally:
        _CALL_SCOPE.reset(token)


def _scope_of(model: Any) -> _CallScope | None:
    """The scope of the call of ``model`` in progress (a call of another model does not count)."""
    scope = _CALL_SCOPE.get()
    return scope if scope is not None and scope.model is model else None


def _same_inputs(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a.keys() == b.keys() and all(a[name] is b[name] for name in a)


def _cast_floating(tree: Any, dtype: Any) -> Any:
    return jax.tree.map(lambda x: x.astype(dtype) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else x, tree)


def _is_traced(tree: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def act_triple(result: tuple) -> tuple[Any, Any, Any]:
    """``(actions, log_prob, outputs)`` from what a model's ``act`` returned: skrl 1.4's triple as it
    is, or 2.x's ``(actions, outputs)`` with ``outputs.get("log_prob")`` (None for a deterministic
    role). The agents read every model through it, whichever API the model was built with."""
    if len(result) == 3:
        return result
    actions, outputs = result
    return actions, outputs.get("log_prob"), outputs


def check_key(key: Any, where: str) -> None:
    """A ``TypeError`` naming ``key`` unless it is one JAX PRNG key: a typed key
    (``jax.random.key``) or a legacy ``uint32[2]`` (``jax.random.PRNGKey``). Dtype and shape are
    static, so this holds inside ``jit`` too."""
    dtype, shape = getattr(key, "dtype", None), getattr(key, "shape", None)
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if shape == ():
            return
    elif dtype == jnp.uint32 and shape == (2,):
        return
    got = f"an array of shape {shape} and dtype {dtype}" if dtype is not None else describe(key)
    raise TypeError(
        f"{where}: key must be one JAX PRNG key (jax.random.key(seed), or a legacy jax.random.PRNGKey(seed)), got {got}"
    )


class Model(RoleRegistry, ObservationInputs, ParameterStore):
    """Base class of every skrl_jax model (subclass it together with the mixins, as in skrl).

    A subclass declares its layers in ``setup()`` with ``flax.linen`` and returns, from
    ``compute(inputs, role)``, what its mixin expects for that role (or, as skrl's JAX models,
    creates them inline in an ``@nn.compact`` ``__call__(inputs, role)``). The object itself holds
    no parameters other than ``self.params`` (the current parameters for the agents); the
    layers run inside an internal linen module, so ``init`` / ``apply`` / ``act`` are pure
    functions of their arguments when ``params`` and ``key`` are passed.

    Args:
        observation_space: gymnasium space of the observations (Box, Discrete, MultiDiscrete,
            MultiBinary, Dict or Tuple); ``inputs["states"]`` is its flat layout.
        action_space: gymnasium space of the actions.
        device: kept for skrl compatibility; JAX places arrays on its default device.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        user_init = cls.__dict__.get("__init__")
        if user_init is not None:
            # a subclass whose __init__ forgets Model.__init__ would fail later on a private name
            @functools.wraps(user_init)
            def __init__(self, *args, **kwargs):
                user_init(self, *args, **kwargs)
                if type(self).__init__ is __init__ and "_role_specs" not in self.__dict__:
                    name = type(self).__name__
                    raise TypeError(
                        f"{name}.__init__ did not call Model.__init__(self, observation_space, action_space, ...): "
                        f"call it first in {name}.__init__, before the mixin constructors"
                    )

            cls.__init__ = __init__
        user_act = cls.__dict__.get("act")
        if user_act is None or cls.__module__.startswith("skrl_jax.models."):
            return

        parameters = inspect.signature(user_act).parameters.values()
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
        accepted = {name for name in ("params", "key") if takes_any or name in {p.name for p in parameters}}

        # A user's act dispatches single roles (skrl's `if role == "policy"`); a tuple of
        # roles is a joint call that the mixins answer, so it never reaches that code. An
        # override written as skrl's, act(self, inputs, role), does not pass params and key on:
        # the mixin's act it calls takes them from here, so the call stays pure.
        @functools.wraps(user_act)
        def act(self, inputs, role="", *args, params=None, key=None, **kwargs):
            if isinstance(role, tuple):
                return Model.joint_act(self, inputs, role, params=params, key=key)
            self._check_roles((role,))
            given = {"params": params, "key": key}
            kwargs.update({name: value for name, value in given.items() if name in accepted})
            outer = _scope_of(self)
            with _call_scope(self, params, key, outer.joint if outer is not None else None):
                result = user_act(self, inputs, *args, role=role, **kwargs)
            if result is None:
                raise ValueError(
                    f"{type(self).__name__}.act(inputs, role={role!r}) returned None: act has no branch for it"
                )
            return result

        cls.act = act

    def __init__(
        self,
        observation_space: Any = None,
        action_space: Any = None,
        device: Any = None,
        parameter_init: str | None = None,
        *,
        state_space: Any = NOT_GIVEN,
        skrl_api: str | None = None,
        **kwargs: Any,
    ) -> None:
        """``parameter_init``: ``"flax"`` or ``"pytorch"`` (PyTorch's Dense / Conv initialisation, for
        a model ported from skrl torch); by default ``skrl_jax.config.set_parameter_init``'s choice.

        A model is a skrl 2.x model when built the 2.x way, with ``state_space=`` (the privileged
        state's space, ``None`` when the environment has none), or with ``skrl_api="2.x"``. Then
        ``compute`` reads ``inputs["observations"]`` and ``inputs["states"]`` (privileged),
        ``act`` returns ``(actions, outputs)`` with ``outputs["log_prob"]``, and a Gaussian's
        ``compute`` returns ``mean_actions, {"log_std": ...}``. Otherwise (``skrl_api="1.4"``, the
        default) it is skrl 1.4's: ``inputs["states"]`` and ``(actions, log_prob, outputs)``.

        This is where the API is read: it becomes ``self.conventions`` (a ``ModelConventions``: the
        observation input's name, the ``compute`` and ``act`` forms, the multivariate Gaussian's
        default scale), and the model's code reads only those fields. ``self.skrl_api`` stays
        readable for the code around the model (agents, network specs).
        """
        if skrl_api is None:
            skrl_api = "1.4" if state_space is NOT_GIVEN else "2.x"
        Choice(SKRL_APIS).check(skrl_api, f"{type(self).__name__}: skrl_api")
        if observation_space is None:
            raise TypeError(
                f"{type(self).__name__}: Model.__init__ needs the observation space (observation_space=env.observation_space)"
            )
        check_space(observation_space, "observation space")
        if action_space is not None:
            check_space(action_space, "action space")
        state_space = None if state_space is NOT_GIVEN else state_space
        if state_space is not None:
            check_space(state_space, "state space")
        self.skrl_api = skrl_api
        self.conventions: ModelConventions = SKRL_2_CONVENTIONS if skrl_api == "2.x" else SKRL_1_4_CONVENTIONS
        self.observation_space = observation_space
        self.state_space = state_space
        self.action_space = action_space
        self.device = device
        self.parameter_init = library_config.check_parameter_init(
            parameter_init if parameter_init is not None else library_config.parameter_init()
        )
        self.num_observations = compute_space_size(observation_space)
        self.num_actions = compute_space_size(action_space)
        self.num_states = compute_space_size(state_space)
        self.training = False
        self.observation_size = compute_space_size(observation_space, occupied_size=True)
        self._params_binding: tuple[Callable[[], Any], Callable[[Any], None]] | None = None
        self._params: Any = None
        self._role_specs: list[RoleSpec] = []
        self._module = ModelModule(skrl_model=self)
        self._eager_key = jax.random.key(0)
        self._eager_calls = 0
        self._eager_act = jax.jit(functools.partial(_pure_act, self), static_argnames="role")
        self._initializer_rules: tuple[tuple[str, Any], ...] = ()  # init_parameters / init_weights / init_biases

    # --- what the user writes -----------------------------------------------------------

    def setup(self) -> None:
        """Declare the flax.linen layers here (or create them inline in an ``@nn.compact __call__``)."""

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> Any:
        """What the role's mixin expects, e.g. ``(mean_actions, log_std, outputs)`` for a Gaussian policy."""
        raise NotImplementedError(f"{type(self).__name__} must define compute(inputs, role)")

    # --- the pure functions -------------------------------------------------------------

    def init(self, key: jax.Array, inputs: Any = None, roles: Sequence[str] | None = None) -> dict[str, Any]:
        """Initialise the parameters of every role (pure).

        Args:
            key: PRNG key.
            inputs: example inputs (only shapes matter); by default a batch of one
                observation sampled from the observation space with ``key``. A dict without
                "states" adds its entries (e.g. RPO's ``{"alpha": 0.5}``) to that sample;
                ``inputs["key"]`` is a key unless given.
            roles: the roles to run ``compute`` for; by default the declared roles.

        Returns:
            The parameter pytree; a layer used by several roles appears once.
        """
        check_key(key, f"{type(self).__name__}.init")
        roles = tuple(roles) if roles is not None else self._default_roles()
        self._check_roles(roles)
        sample_key, params_key, compute_key = jax.random.split(key, 3)
        if inputs is None or (isinstance(inputs, Mapping) and not self._has_observations(inputs)):
            inputs = {**self.sample_inputs(sample_key), **(inputs or {})}
        elif self.recurrent_sizes() and not (isinstance(inputs, Mapping) and "rnn" in inputs):
            inputs = inputs if isinstance(inputs, Mapping) else {"states": inputs}
            rows = jnp.shape(inputs["states"])[0] if jnp.ndim(inputs["states"]) == 2 else 1
            inputs = {**inputs, "rnn": self.rnn_initial_states(rows)}  # only shapes matter here
        inputs = {"key": compute_key, **self._prepare_inputs(inputs)}

        def create(params_key: jax.Array, inputs: dict[str, Any]) -> tuple[Any, Any]:
            with traced_once():
                outputs, variables = self._module.init_with_output(
                    {"params": params_key}, inputs, roles, method=ModelModule.compute_roles
                )
            params = variables.get("params", {})
            if self.parameter_init == "pytorch":
                params = pytorch_initialization(params, params_key)
            if self._initializer_rules:  # skrl's init_parameters etc. (here: an orthogonal one is a QR too)
                params = redraw_parameters(params, params_key, self._initializer_rules)
            return outputs, {**variables, "params": params}

        # Under vmap (seeds), one seed at a time: a vmapped orthogonal initializer is a batched LAPACK
        # QR, and two of those running at once deadlock XLA's CPU thread pool on a 2-core machine
        # (jaxlib 0.10). Initialisation runs once, so the loop costs nothing that matters.
        outputs, variables = jax.custom_batching.sequential_vmap(create)(params_key, inputs)
        for role in roles:
            self._check_output(outputs[role], role)
        extra = sorted(set(variables) - {"params"})
        if extra:
            raise NotImplementedError(
                f"{type(self).__name__} creates flax variable collections {extra}; only 'params' is supported"
            )
        return dict(variables["params"])

    def init_parameters(self, method_name: str = "normal", *args: Any, **kwargs: Any) -> None:
        """skrl's ``init_parameters``: every parameter drawn by ``flax.linen.initializers.<method_name>(*args,
        **kwargs)`` (e.g. ``("normal", stddev=0.1)``), from now on in ``init`` (so in every agent's and
        seed's parameters) and at once in ``self.params`` if they exist."""
        self._add_initializer_rule("parameters", method_name, args, kwargs)

    def init_weights(self, method_name: str = "normal", *args: Any, **kwargs: Any) -> None:
        """skrl's ``init_weights``: as ``init_parameters``, for the layers' ``kernel`` leaves only."""
        self._add_initializer_rule("weights", method_name, args, kwargs)

    def init_biases(self, method_name: str = "constant", *args: Any, **kwargs: Any) -> None:
        """skrl's ``init_biases``: as ``init_parameters``, for the layers' ``bias`` leaves only
        (``init_biases("constant", 0.0)``)."""
        self._add_initializer_rule("biases", method_name, args, kwargs)

    def _add_initializer_rule(self, what: str, method_name: str, args: tuple, kwargs: dict) -> None:
        initializer = make_initializer(method_name, args, kwargs, f"{type(self).__name__}.init_{what}")
        self._initializer_rules = (*self._initializer_rules, (what, initializer))
        if self.params is not None:
            key = jax.random.fold_in(self._eager_key, len(self._initializer_rules))
            self.params = redraw_parameters(self.params, key, ((what, initializer),))

    def apply(self, params: Any, inputs: Any, role: Role = "") -> Any:
        """What ``compute`` returns for ``role`` (pure).

        Args:
            params: parameters from ``init``.
            inputs: skrl's inputs dict (``{"states": (..., observation_size), ...}``) or a bare
                observation array.
            role: a role name, or a tuple of names for a joint call: then a dict
                ``{role: output}`` is returned, and what several roles compute alike (the shared
                trunk, on the inputs' own arrays or on arrays built from them) is computed once,
                forward and backward (``skrl_jax.models.joint``).
        """
        inputs = self._prepare_inputs(inputs)
        roles = role if isinstance(role, tuple) else (role,)
        self._check_roles(roles)
        if not _is_traced((params, inputs)):
            self._check_eager_call(params, inputs, roles)
        if isinstance(role, tuple):
            outputs = computed_once(self._compute_roles)(params, inputs, role)
            for name in role:
                self._check_output(outputs[name], name)
            return outputs
        scope = _scope_of(self)
        joint = scope.joint if scope is not None else None
        if (
            joint is not None
            and params is joint.params
            and role in joint.outputs
            and _same_inputs(inputs, joint.inputs)
        ):
            return joint.outputs[role]  # computed by the joint pass this act belongs to
        output = self._module.apply({"params": params}, inputs, role, method=ModelModule.compute_role)
        self._check_output(output, role)
        return output

    def _check_output(self, output: Any, role: str) -> None:
        if output is None:
            raise ValueError(
                f"{type(self).__name__}.compute(inputs, role={role!r}) returned None: compute has no branch for "
                f"role {role!r} (declared roles: {', '.join(repr(r) for r in self.roles)})"
            )

    def act(self, inputs: Any, role: Role = "", params: Any = None, key: jax.Array | None = None) -> Any:
        """skrl's ``(actions, log_prob, outputs)`` for ``role``, by the mixin that declared it.

        Pure when ``params`` and ``key`` are given (``key`` may be left out for deterministic
        roles). Without them it is an eager convenience: ``self.params`` and an internal key
        advanced on every call, through one jit-compiled function; that key's counter is the one
        attribute a call writes (the pure form writes none). A tuple of roles returns
        ``{role: (actions, log_prob, outputs)}`` from one joint forward pass.
        """
        return self._act_as(None, inputs, role, params, key)

    def greedy_act(self, inputs: Any, role: str = "", params: Any = None) -> tuple[jax.Array, dict[str, Any]]:
        """``(actions, outputs)``: the role's most likely action, with no sampling and no key (pure
        when ``params`` is given; ``self.params`` otherwise). A Gaussian's is its mean
        (``mean_actions``, as skrl's evaluation takes it: not clipped), a tanh-squashed Gaussian's the
        squashed mean, a Categorical's the argmax of its logits (per branch for a MultiCategorical), a
        deterministic role's its output (clipped when ``clip_actions``)."""
        params = self.params if params is None else params
        if params is None:
            raise RuntimeError(f"{type(self).__name__}.greedy_act: the model has no parameters; pass params=...")
        self._check_roles((role,))
        spec = self._spec_for(role)
        inputs = self._prepare_inputs(inputs)
        output = self.apply(params, inputs, role)
        actions, _, outputs = spec.mixin._distribution(self, spec, output, inputs, role, None)
        return (greedy_actions(self, outputs) if spec.mixin.needs_key else actions), outputs

    def enable_training_mode(self, enabled: bool = True) -> None:
        """skrl 2.x's switch of ``self.training`` (read by a user's ``compute``, e.g. for dropout)."""
        self.training = bool(enabled)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Entropy of the role's distribution, from the ``outputs`` dict that ``act`` returned
        (or, as skrl's JAX backend, from ``stddev`` / logits arrays)."""
        return self._entropy_as(None, outputs, role)

    # --- dispatch to the mixins -----------------------------------------------------------

    def _compute_roles(self, params: Any, inputs: dict[str, Any], roles: tuple[str, ...]) -> dict[str, Any]:
        with traced_once():
            return self._module.apply({"params": params}, inputs, roles, method=ModelModule.compute_roles)

    def _act_as(self, mixin: type | None, inputs: Any, role: Role, params: Any, key: jax.Array | None) -> Any:
        if isinstance(role, tuple):
            return self.joint_act(inputs, role, params=params, key=key)
        scope = _scope_of(self)
        if scope is not None:  # the params and key given to a user's act override that did not pass them on
            params = scope.params if params is None else params
            key = scope.key if key is None else key
        if key is not None:
            check_key(key, f"{type(self).__name__}.act")
        spec = self._spec_for(role, mixin)
        if params is None or (key is None and spec.mixin.needs_key):
            return self._act_eagerly(inputs, role, params, key)
        inputs, key = self._split_compute_key(self._prepare_inputs(inputs), key)
        output = self.apply(params, inputs, role)
        return self._act_result(spec.mixin._distribution(self, spec, output, inputs, role, key))

    def _act_result(self, result: tuple) -> tuple:
        """skrl 1.4's ``(actions, log_prob, outputs)``, or 2.x's ``(actions, outputs)`` with
        ``outputs["log_prob"]`` (left out for a deterministic role, as skrl 2.x)."""
        if not self.conventions.log_prob_in_outputs:
            return result
        actions, log_prob, outputs = result
        return actions, dict(outputs) if log_prob is None else {**outputs, "log_prob": log_prob}

    @staticmethod
    def _split_compute_key(inputs: dict[str, Any], key: jax.Array | None) -> tuple[dict[str, Any], jax.Array | None]:
        """Give ``compute`` a key in ``inputs["key"]`` (as skrl's JAX mixins; e.g. RPO's perturbation)
        unless it has one; returns the inputs and the key left for sampling."""
        if key is None or "key" in inputs:
            return inputs, key
        compute_key, sample_key = jax.random.split(key)
        inputs["key"] = compute_key
        return inputs, sample_key

    def joint_act(
        self,
        inputs: Any,
        roles: Sequence[str],
        *,
        params: Any = None,
        key: jax.Array | None = None,
        compute_dtype: Any = None,
    ) -> dict[str, tuple]:
        """``{role: act(inputs, role)}`` for several roles from one forward pass (pure with ``params`` and ``key``).

        ``compute`` runs for all roles in one joint call (a shared trunk is computed once, forward
        and backward), then the model's own ``act`` (a user's override included) runs for each
        role and is answered from that pass. The first role that samples uses ``key`` (after the
        split that gives ``compute`` its ``inputs["key"]``), a later sampling role ``i`` uses
        ``fold_in(key, i)``, and deterministic roles get no key.

        Args:
            compute_dtype: e.g. ``jnp.bfloat16``: the forward pass runs in that dtype on a cast of
                the (float32) parameters and observations, and its outputs are cast back to
                float32 before the distributions (mixed precision).
        """
        roles = tuple(roles)
        if key is not None:
            check_key(key, f"{type(self).__name__}.act")
        sampling = [self._spec_for(name).mixin.needs_key for name in roles]
        needs_key = any(sampling)
        if params is None or (key is None and needs_key):
            if compute_dtype is not None:
                raise ValueError("joint_act with compute_dtype needs params and key")
            return self._act_eagerly(inputs, roles, params, key)
        inputs, key = self._split_compute_key(self._prepare_inputs(inputs), key)
        # the first sampling role gets the key, a later one (index i) fold_in(key, i), a deterministic one none
        first = sampling.index(True) if needs_key and key is not None else -1
        keys = [
            key if index == first else jax.random.fold_in(key, index) if samples and key is not None else None
            for index, samples in enumerate(sampling)
        ]
        if compute_dtype is None:
            outputs = self.apply(params, inputs, roles)
        else:
            cast_inputs = {
                **inputs,
                **{
                    name: inputs[name].astype(compute_dtype)
                    for name in ("states", "privileged_states")
                    if name in inputs
                },
            }
            outputs = self.apply(_cast_floating(params, compute_dtype), cast_inputs, roles)
            outputs = _cast_floating(outputs, jnp.float32)
        with _call_scope(self, None, None, _JointPass(params, inputs, outputs)):
            return {name: self.act(inputs, name, params=params, key=role_key) for name, role_key in zip(roles, keys)}

    def _entropy_as(self, mixin: type | None, outputs: Any, role: str) -> jax.Array:
        self._check_roles((role,))  # an unknown role would fall back to the mixin's own
        spec = self._spec_for(role, mixin)
        return spec.mixin._entropy(self, spec, outputs, role)

    def _act_eagerly(self, inputs: Any, role: Role, params: Any, key: jax.Array | None) -> Any:
        if _is_traced((inputs, params, key)):
            missing = "params" if params is None else "key"
            raise ValueError(
                f"{type(self).__name__}.act was called inside a traced function (jit/vmap/grad) without {missing}=...: "
                "pass params and key explicitly so the function stays pure"
            )
        if params is None:
            params = self.params
        if params is None:
            raise RuntimeError(
                f"{type(self).__name__} has no parameters: call model.init_state_dict() (or set model.params = "
                "model.init(key)) before act(), or pass params=..."
            )
        if key is None:  # the eager convenience path's one piece of state: a counter that advances its key
            self._eager_calls += 1
            key = jax.random.fold_in(self._eager_key, self._eager_calls)
        inputs = self._prepare_inputs(inputs)
        roles = role if isinstance(role, tuple) else (role,)
        self._check_eager_call(params, inputs, roles)
        for name in roles:  # value checks: inside the compiled call below the inputs are traced
            spec = self._spec_for(name)
            spec.mixin._check_concrete_inputs(self, spec, inputs, name)
        return self._eager_act(params, inputs, key, role=role)

    def _check_eager_call(self, params: Any, inputs: dict[str, Any], roles: Sequence[str]) -> None:
        """What a call outside ``jit`` can check on concrete values: the parameters' tree and, with
        ``skrl_jax.config.set_debug_nans(True)``, finite observations."""
        self.check_params(params, inputs, roles)
        if library_config.debug_nans():
            raise_if_not_finite(
                inputs["states"], "observations (inputs['states'])", f"{type(self).__name__}", rows="batch row"
            )


def _pure_act(model: Model, params: Any, inputs: Any, key: jax.Array, role: Role) -> Any:
    """What the eager convenience path compiles (once per model and role)."""
    return model.act(inputs, role, params=params, key=key)
