"""``Model``: a thin object over the pure pair ``init`` / ``apply(params, inputs, role)``."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from gymnasium import spaces

from skrl_jax.models.module import ModelModule, shared_calls
from skrl_jax.utils.spaces import check_space, compute_space_size, flatten_sample, sample_space

Role = str | tuple[str, ...]


class RoleSpec(NamedTuple):
    """What a mixin constructor declared: its role name, its class and its settings."""

    role: str
    mixin: type
    config: Any


class _JointPass(NamedTuple):
    """The outputs of one joint forward pass, handed to the per-role ``act`` calls that follow it."""

    params: Any
    inputs: dict[str, Any]
    outputs: dict[str, Any]


def _same_inputs(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return a.keys() == b.keys() and all(a[name] is b[name] for name in a)


def _cast_floating(tree: Any, dtype: Any) -> Any:
    return jax.tree.map(lambda x: x.astype(dtype) if jnp.issubdtype(jnp.result_type(x), jnp.floating) else x, tree)


def _is_traced(tree: Any) -> bool:
    return any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(tree))


def _describe_space(space: Any) -> str:
    return f"{space}" if space is not None else "None"


class Model:
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
        user_act = cls.__dict__.get("act")
        if user_act is None or cls.__module__.startswith("skrl_jax.models."):
            return

        # A user's act dispatches single roles (skrl's `if role == "policy"`); a tuple of
        # roles is a joint call that the mixins answer, so it never reaches that code.
        @functools.wraps(user_act)
        def act(self, inputs, role="", *args, **kwargs):
            if isinstance(role, tuple):
                return Model.joint_act(self, inputs, role, params=kwargs.get("params"), key=kwargs.get("key"))
            self._check_roles((role,))
            result = user_act(self, inputs, role, *args, **kwargs)
            if result is None:
                raise ValueError(
                    f"{type(self).__name__}.act(inputs, role={role!r}) returned None: act has no branch for it"
                )
            return result

        cls.act = act

    def __init__(self, observation_space: Any, action_space: Any, device: Any = None, **kwargs: Any) -> None:
        check_space(observation_space, "observation space")
        if action_space is not None:
            check_space(action_space, "action space")
        self.observation_space = observation_space
        self.action_space = action_space
        self.device = device
        self.num_observations = compute_space_size(observation_space)
        self.num_actions = compute_space_size(action_space)
        self.observation_size = compute_space_size(observation_space, occupied_size=True)
        self._params_binding: tuple[Callable[[], Any], Callable[[Any], None]] | None = None
        self._params: Any = None
        self._joint: _JointPass | None = None
        self._role_specs: list[RoleSpec] = []
        self._module = ModelModule(skrl_model=self)
        self._eager_key = jax.random.key(0)
        self._eager_calls = 0
        self._eager_act = None

    # --- what the user writes -----------------------------------------------------------

    def setup(self) -> None:
        """Declare the flax.linen layers here (or create them inline in an ``@nn.compact __call__``)."""

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> Any:
        """What the role's mixin expects, e.g. ``(mean_actions, log_std, outputs)`` for a Gaussian policy."""
        raise NotImplementedError(f"{type(self).__name__} must define compute(inputs, role)")

    # --- roles --------------------------------------------------------------------------

    def _register_role(self, mixin: type, role: str, config: Any) -> None:
        if not isinstance(role, str):
            raise TypeError(f"{mixin.__name__}: role must be a string, got {role!r}")
        for spec in self._role_specs:
            if spec.role == role and spec.mixin is mixin:
                raise ValueError(
                    f"{mixin.__name__} is used more than once in {type(self).__name__} with role {role!r}: "
                    f"pass a distinct role to each {mixin.__name__}.__init__ call (e.g. role='critic_1', role='critic_2')"
                )
            if spec.role == role and role:
                raise ValueError(
                    f"role {role!r} of {type(self).__name__} is declared by both {spec.mixin.__name__} and {mixin.__name__}"
                )
        self._role_specs.append(RoleSpec(role, mixin, config))
        if self._overrides_act():
            parameters = inspect.signature(type(self).act).parameters.values()
            names = {p.name for p in parameters}
            if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters) and not {"params", "key"} <= names:
                raise TypeError(
                    f"{type(self).__name__}.act overrides Model.act but does not accept params and key: "
                    "define it as act(self, inputs, role, **kwargs) and pass **kwargs on to the mixin's act"
                )

    @property
    def roles(self) -> tuple[str, ...]:
        """The role names declared by the mixin constructors, in declaration order."""
        return tuple(spec.role for spec in self._role_specs)

    def _overrides_act(self) -> bool:
        for cls in type(self).__mro__:
            if "act" in cls.__dict__:
                return not cls.__module__.startswith("skrl_jax.models.")
        return False

    def _spec_for(self, role: str, mixin: type | None = None) -> RoleSpec:
        """The mixin declaration that serves ``role`` (``mixin`` is the class whose act was called)."""
        if not self._role_specs:
            raise TypeError(
                f"{type(self).__name__} declares no mixin: call a mixin constructor (e.g. "
                "GaussianMixin.__init__(self, ...)) in __init__ after Model.__init__"
            )
        if not isinstance(role, str):
            raise TypeError(f"role must be a Python string, got {type(role).__name__} {role!r}")
        named = [spec for spec in self._role_specs if spec.role == role]
        if named:
            return named[0]
        if len(self._role_specs) == 1:
            return self._role_specs[0]
        if mixin is not None and self._overrides_act():
            own = [spec for spec in self._role_specs if spec.mixin is mixin]
            if len(own) == 1:
                return own[0]
        unnamed = [spec for spec in self._role_specs if not spec.role]
        if len(unnamed) == 1 and mixin is None:
            return unnamed[0]
        declared = ", ".join(f"{s.role!r} ({s.mixin.__name__})" for s in self._role_specs)
        raise ValueError(
            f"unknown role {role!r} for {type(self).__name__}: the declared roles are {declared}; "
            "pass role=... to each mixin constructor, or override act() to dispatch by role"
        )

    def _check_roles(self, roles: Sequence[str]) -> None:
        names = [spec.role for spec in self._role_specs]
        for role in roles:
            if not isinstance(role, str):
                raise TypeError(
                    f"role must be a Python string or a tuple of strings, got {type(role).__name__} {role!r}"
                )
            if len(names) > 1 and all(names) and role not in names:
                raise ValueError(
                    f"unknown role {role!r} for {type(self).__name__}: the declared roles are "
                    + ", ".join(repr(n) for n in names)
                )

    def _default_roles(self) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(spec.role for spec in self._role_specs))
        if len(self._role_specs) > 1 and "" in names:
            raise ValueError(
                f"{type(self).__name__} has mixins declared without a role, so it cannot tell which roles "
                "to initialise: pass role=... to the mixin constructors or roles=(...) to init()"
            )
        return names or ("",)

    # --- inputs -------------------------------------------------------------------------

    def _prepare_inputs(self, inputs: Any) -> dict[str, Any]:
        """skrl's inputs dict with ``states`` as a float array of shape ``(..., observation_size)``."""
        if isinstance(inputs, Mapping) and not self._is_observation_dict(inputs):
            if "states" not in inputs:
                raise KeyError(
                    f"inputs has no 'states' entry (keys: {sorted(inputs)}); pass {{'states': observations}}"
                )
            inputs = dict(inputs)
        else:
            inputs = {"states": inputs}
        states = inputs["states"]
        space = self.observation_space
        if isinstance(space, (spaces.Dict, spaces.Tuple)) and isinstance(states, (Mapping, tuple, list)):
            states = flatten_sample(space, states)
        if not hasattr(states, "shape") or not hasattr(states, "dtype"):
            states = jnp.asarray(states)
        floating = jnp.issubdtype(states.dtype, jnp.floating)
        if not (floating or jnp.issubdtype(states.dtype, jnp.integer) or jnp.issubdtype(states.dtype, jnp.bool_)):
            raise TypeError(
                f"{type(self).__name__} expected real-valued observations for {_describe_space(space)}, "
                f"got dtype {states.dtype}"
            )
        if (
            isinstance(space, spaces.Box)
            and len(space.shape) > 1
            and tuple(states.shape[-len(space.shape) :]) == space.shape
        ):
            states = jnp.reshape(states, (*states.shape[: -len(space.shape)], self.observation_size))
        if states.ndim == 0 or states.shape[-1] != self.observation_size:
            raise ValueError(
                f"{type(self).__name__} expected observations of shape (..., {self.observation_size}) "
                f"for {_describe_space(space)}, got shape {tuple(states.shape)}"
            )
        if not floating:
            states = jnp.asarray(states, dtype=jnp.float32)
        inputs["states"] = states
        return inputs

    def _is_observation_dict(self, inputs: Mapping) -> bool:
        space = self.observation_space
        return isinstance(space, spaces.Dict) and "states" not in inputs and set(inputs) == set(space.spaces)

    def sample_inputs(self, key: jax.Array, batch_shape: tuple[int, ...] = (1,)) -> dict[str, jax.Array]:
        """A random ``{"states": ...}`` drawn purely from ``key`` over the observation space."""
        sample = sample_space(self.observation_space, key, batch_shape)
        return self._prepare_inputs({"states": flatten_sample(self.observation_space, sample)})

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
        roles = tuple(roles) if roles is not None else self._default_roles()
        self._check_roles(roles)
        sample_key, params_key, compute_key = jax.random.split(key, 3)
        if inputs is None or (
            isinstance(inputs, Mapping) and "states" not in inputs and not self._is_observation_dict(inputs)
        ):
            inputs = {**self.sample_inputs(sample_key), **(inputs or {})}
        inputs = {"key": compute_key, **self._prepare_inputs(inputs)}
        with shared_calls():
            outputs, variables = self._module.init_with_output(
                {"params": params_key}, inputs, roles, method=ModelModule.compute_roles
            )
        for role in roles:
            self._check_output(outputs[role], role)
        extra = sorted(set(variables) - {"params"})
        if extra:
            raise NotImplementedError(
                f"{type(self).__name__} creates flax variable collections {extra}; only 'params' is supported"
            )
        return dict(variables.get("params", {}))

    def apply(self, params: Any, inputs: Any, role: Role = "") -> Any:
        """What ``compute`` returns for ``role`` (pure).

        Args:
            params: parameters from ``init``.
            inputs: skrl's inputs dict (``{"states": (..., observation_size), ...}``) or a bare
                observation array.
            role: a role name, or a tuple of names for a joint call: then a dict
                ``{role: output}`` is returned and a submodule called with the same arguments
                by several roles (the shared trunk) is computed once.
        """
        inputs = self._prepare_inputs(inputs)
        if isinstance(role, tuple):
            self._check_roles(role)
            with shared_calls():
                outputs = self._module.apply({"params": params}, inputs, role, method=ModelModule.compute_roles)
            for name in role:
                self._check_output(outputs[name], name)
            return outputs
        self._check_roles((role,))
        joint = self._joint
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
        advanced on every call, through one jit-compiled function. A tuple of roles returns
        ``{role: (actions, log_prob, outputs)}`` from one joint forward pass.
        """
        return self._act_as(None, inputs, role, params, key)

    def get_entropy(self, outputs: Any, role: str = "") -> jax.Array:
        """Entropy of the role's distribution, from the ``outputs`` dict that ``act`` returned
        (or, as skrl's JAX backend, from ``stddev`` / logits arrays)."""
        return self._entropy_as(None, outputs, role)

    # --- dispatch to the mixins -----------------------------------------------------------

    def _act_as(self, mixin: type | None, inputs: Any, role: Role, params: Any, key: jax.Array | None) -> Any:
        if isinstance(role, tuple):
            return self.joint_act(inputs, role, params=params, key=key)
        spec = self._spec_for(role, mixin)
        if params is None or (key is None and spec.mixin.needs_key):
            return self._act_eagerly(inputs, role, params, key)
        inputs, key = self._split_compute_key(self._prepare_inputs(inputs), key)
        output = self.apply(params, inputs, role)
        return spec.mixin._distribution(self, spec, output, inputs, role, key)

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
        role and is answered from that pass. Role ``i`` samples with ``fold_in(key, i)``.

        Args:
            compute_dtype: e.g. ``jnp.bfloat16``: the forward pass runs in that dtype on a cast of
                the (float32) parameters and observations, and its outputs are cast back to
                float32 before the distributions (mixed precision).
        """
        roles = tuple(roles)
        needs_key = any(self._spec_for(name).mixin.needs_key for name in roles)
        if params is None or (key is None and needs_key):
            if compute_dtype is not None:
                raise ValueError("joint_act with compute_dtype needs params and key")
            return self._act_eagerly(inputs, roles, params, key)
        inputs, key = self._split_compute_key(self._prepare_inputs(inputs), key)
        if compute_dtype is None:
            outputs = self.apply(params, inputs, roles)
        else:
            cast_inputs = {**inputs, "states": inputs["states"].astype(compute_dtype)}
            outputs = self.apply(_cast_floating(params, compute_dtype), cast_inputs, roles)
            outputs = _cast_floating(outputs, jnp.float32)
        previous, self._joint = self._joint, _JointPass(params, inputs, outputs)
        try:
            return {
                name: self.act(inputs, name, params=params, key=None if key is None else jax.random.fold_in(key, index))
                for index, name in enumerate(roles)
            }
        finally:
            self._joint = previous

    def _entropy_as(self, mixin: type | None, outputs: Any, role: str) -> jax.Array:
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
        if key is None:
            self._eager_calls += 1
            key = jax.random.fold_in(self._eager_key, self._eager_calls)
        if self._eager_act is None:
            model = self

            def pure_act(params, inputs, key, role):
                return model.act(inputs, role, params=params, key=key)

            self._eager_act = jax.jit(pure_act, static_argnames="role")
        return self._eager_act(params, self._prepare_inputs(inputs), key, role=role)

    # --- parameters held for the agents ---------------------------------------------------

    @property
    def params(self) -> Any:
        """The current parameters: the agent's, once an agent trains this model (one place holds them)."""
        if self._params_binding is not None:
            return self._params_binding[0]()
        return self._params

    @params.setter
    def params(self, value: Any) -> None:
        if self._params_binding is not None:
            self._params_binding[1](value)
        else:
            self._params = value

    def bind_params(self, read: Callable[[], Any] | None, write: Callable[[Any], None] | None = None) -> None:
        """Make ``model.params`` read (and assign through) another holder: an agent calls this so
        that its state is the one place the parameters live. ``bind_params(None)`` unbinds, keeping
        the current parameters."""
        if read is None:
            self._params, self._params_binding = self.params, None
        else:
            self._params_binding = (read, write or self._refuse_params_write)

    def _refuse_params_write(self, value: Any) -> None:
        raise AttributeError(
            f"the parameters of {type(self).__name__} are held by an agent that does not accept new ones"
        )

    def init_state_dict(self, role: str = "", inputs: Any = None, key: jax.Array | None = None) -> Model:
        """Initialise ``self.params`` (skrl's name); ``role`` is accepted for compatibility and
        every declared role is initialised. Returns the model."""
        key = jax.random.key(0) if key is None else key
        self.params = self.init(key, inputs)
        self._eager_key = jax.random.fold_in(key, 1)
        self._eager_calls = 0
        return self

    def save(self, path: str, params: Any = None) -> None:
        """Write the parameters (``self.params`` by default) to ``path`` in flax's msgpack format.

        The write is atomic: a crash during it leaves an existing file at ``path`` as it was.
        """
        from skrl_jax.utils.checkpoints import save_checkpoint

        params = self.params if params is None else params
        if params is None:
            raise RuntimeError(f"{type(self).__name__} has no parameters to save: call init_state_dict() first")
        save_checkpoint(path, params, "model", {"model": type(self).__name__})

    def load(self, path: str) -> Any:
        """Read parameters saved by ``save`` (or skrl's ``.flax`` file of a model with the same
        layer names) into ``self.params``, after checking names, shapes and dtypes. Returns them."""
        from skrl_jax.utils.checkpoints import CheckpointError, read_payload, restore

        target = self.params if self.params is not None else jax.eval_shape(self.init, jax.random.key(0))
        target = jax.tree.map(lambda x: jnp.zeros(x.shape, x.dtype), target)
        payload = read_payload(path)
        if isinstance(payload, Mapping) and payload.get("format") == "skrl_jax":
            if payload.get("kind") != "model":
                raise CheckpointError(f"{path} holds a {payload.get('kind')!r} checkpoint, not a model's parameters")
            state = payload["state"]
        elif isinstance(payload, Mapping):
            # skrl's JAX models save flax's variables dict, {"params": {...}}
            state = payload["params"] if set(payload) == {"params"} else payload
        else:
            raise CheckpointError(f"{path} does not hold a parameter tree (found {type(payload).__name__})")
        self.params = restore(target, state, f"{path} ({type(self).__name__})")
        return self.params

    def parameter_roles(self, params: Any = None) -> dict[str, frozenset[str]]:
        """Which roles read each top-level parameter subtree, e.g. ``{"net": {"policy", "value"}}``.

        Found by tracing ``apply`` for every declared role and following which parameters
        its output depends on.
        """
        params = params if params is not None else self.params
        if params is None:
            params = jax.eval_shape(self.init, jax.random.key(0))
        roles = self._default_roles()
        inputs = jax.eval_shape(self.sample_inputs, jax.random.key(0))
        readers: dict[str, set[str]] = {name: set() for name in params}
        for role in roles:
            leaves_with_paths, _ = jax.tree_util.tree_flatten_with_path(params)
            used = _inputs_read(lambda p, x, role=role: self.apply(p, x, role), params, inputs)
            for (path, _), read in zip(leaves_with_paths, used):
                if read:
                    readers[path[0].key].add(role)
        return {name: frozenset(found) for name, found in readers.items()}


def _inputs_read(function: Any, params: Any, inputs: Any) -> list[bool]:
    """For each leaf of ``params``: does ``function(params, inputs)``'s output depend on it?"""
    closed = jax.make_jaxpr(function)(params, inputs)
    jaxpr = closed.jaxpr
    var_type = jax.extend.core.Var if hasattr(jax, "extend") else type(jaxpr.invars[0])
    live = {v for v in jaxpr.outvars if isinstance(v, var_type)}
    for equation in reversed(jaxpr.eqns):
        if equation.effects or any(v in live for v in equation.outvars):
            live.update(v for v in equation.invars if isinstance(v, var_type))
    num_params = len(jax.tree.leaves(params))
    return [v in live for v in jaxpr.invars[:num_params]]
