"""Parameters of a ``Model``: the ones held for agents (or read from an agent's state), checkpoints, and who reads what."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp


class ParameterStore:
    """The parameters part of ``Model``: ``params`` (held here, or bound to an agent's state),
    ``init_state_dict``, ``save`` / ``load`` and ``parameter_roles``."""

    _params: Any
    _params_binding: tuple[Callable[[], Any], Callable[[Any], None]] | None

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

    def init_state_dict(self, *args: Any, role: str = "", inputs: Any = None, key: jax.Array | None = None) -> Any:
        """Initialise ``self.params`` (skrl's name): skrl 1.4's ``init_state_dict(role, inputs={}, key=None)``
        or 2.x's ``init_state_dict(inputs={}, *, role="", key=None)``. ``role`` is accepted for
        compatibility and every declared role is initialised. Returns the model."""
        for value in args:
            if isinstance(value, str):
                role = value
            elif isinstance(value, Mapping) or value is None:
                inputs = value
            else:
                key = value
        if role:
            self._check_roles((role,))
        inputs = inputs or None
        key = jax.random.key(0) if key is None else key
        self.params = self.init(key, inputs)
        self._eager_key = jax.random.fold_in(key, 1)
        self._eager_calls = 0
        return self

    def save(self, path: str, params: Any = None) -> None:
        """Write the parameters (``self.params`` by default) to ``path`` in flax's msgpack format.

        The write is atomic: a crash during it leaves an existing file at ``path`` as it was.
        """
        from skrl_jax.core.checkpoints import save_checkpoint

        params = self.params if params is None else params
        if params is None:
            raise RuntimeError(f"{type(self).__name__} has no parameters to save: call init_state_dict() first")
        save_checkpoint(path, params, "model", {"model": type(self).__name__})

    def load(self, path: str) -> Any:
        """Read parameters saved by ``save`` (or skrl's ``.flax`` file of a model with the same
        layer names) into ``self.params``, after checking names, shapes and dtypes. Returns them."""
        from skrl_jax.core.checkpoints import CheckpointError, read_payload, restore

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

    def check_params(self, params: Any, inputs: Any, roles: Sequence[str]) -> None:
        """A ``ValueError`` naming the first paths that differ when ``params`` is not a parameter tree
        of this model (another model's, a flax ``{"params": ...}`` dict, a wrong shape), instead of
        flax's error from deep inside ``apply``. ``roles`` are about to run on ``inputs``: parameters
        only other roles read may be missing (``init(key, roles=...)`` makes such trees).

        The expected trees come from ``jax.eval_shape(init)``, once per model and roles; the tree
        last found good for the same roles is not compared again.
        """
        roles = tuple(roles)
        checked = self.__dict__.setdefault("_checked_params_by_roles", {})
        if checked.get(roles) is params:
            return
        from skrl_jax.core.checkpoints import summarize_differences, tree_differences

        name = type(self).__name__
        if not isinstance(params, Mapping):
            raise TypeError(
                f"params must be the parameter tree of {name} (a dict, as model.init returns), got {type(params).__name__}"
            )
        needed = self._expected_params(roles, inputs)
        if needed is None:
            return
        # without every role's tree, a layer the call does not read cannot be told from a stray one
        full = self._expected_params(None, None)
        reference = {**(full if full is not None else params), **needed}
        expected = {layer: tree for layer, tree in reference.items() if layer in needed or layer in params}
        differences = tree_differences(expected, params, source="params", dtypes=False)
        if differences:
            hint = " (pass params['params']: model.init returns the inner tree)" if set(params) == {"params"} else ""
            raise ValueError(
                f"params do not match {name}'s parameters for roles {list(roles)}{hint}:"
                f"{summarize_differences(differences)}"
            )
        checked[roles] = params

    def _expected_params(self, roles: tuple[str, ...] | None, inputs: Any) -> Any:
        """The shapes ``init`` gives for ``roles`` (all by default), or None when they cannot be found."""
        cache = self.__dict__.setdefault("_expected_params_by_roles", {})
        if roles not in cache:
            try:
                cache[roles] = jax.eval_shape(lambda key: self.init(key, inputs, roles), jax.random.key(0))
            except Exception:  # e.g. a compute that reads inputs these do not hold: no reference, no check
                cache[roles] = None
        return cache[roles]

    def parameter_roles(self, params: Any = None, inputs: Mapping[str, Any] | None = None) -> dict[str, frozenset[str]]:
        """Which roles read each top-level parameter subtree, e.g. ``{"net": {"policy", "value"}}``.

        Found by tracing ``apply`` for every declared role and following which parameters
        its output depends on. ``inputs``: entries ``compute`` reads besides the observation
        (e.g. RPO's ``{"alpha": 0.5}``), added to a sampled observation as ``init`` does.
        """
        params = params if params is not None else self.params
        if params is None:
            params = jax.eval_shape(lambda key: self.init(key, inputs), jax.random.key(0))
        roles = self._default_roles()
        # a key in inputs["key"], as init and the agents give compute one (RPO's perturbation reads it)
        inputs = {"key": jax.random.key(0), **jax.eval_shape(self.sample_inputs, jax.random.key(0)), **(inputs or {})}
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
