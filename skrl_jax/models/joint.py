"""A joint pass: several roles' ``compute`` traced as one function, each repeated operation computed once.

A shared model's ``compute`` runs once per role, and each run calls the trunk. Within one joint
call those calls read the same parameters and the same inputs, so their operations repeat
exactly, whether the trunk gets ``inputs["states"]`` itself or a fresh
``jnp.concatenate([states, taken_actions])``. XLA's common-subexpression elimination merges
the repeated forward operations but not their backward passes (each copy gets its own
cotangent), so ``computed_once`` merges them before differentiation: it traces the pass to a
jaxpr, replaces every equation that repeats an earlier one (same primitive, same parameters,
same operands) by the earlier one's results, and evaluates what is left. ``grad``, ``vmap`` and
``jit`` see only the merged program: a trunk is computed once, forward and backward.

Nothing is cached between calls: the merge happens within one trace of one call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.extend import core as jax_core

_CLOSURE_DEPTH = 8  # how deep to look through jax's wrappers for the custom_jvp a call came from


def computed_once(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with every operation that its trace repeats computed once.

    ``function`` takes pytrees whose array leaves are traced (other leaves, e.g. Python floats,
    are passed as they are) and returns a pytree (non-array leaves are returned as they are).
    The result equals ``function(*args)``; equations with side effects (``jax.debug.print``)
    are never merged.
    """

    @functools.wraps(function)
    def merged(*args: Any) -> Any:
        leaves, treedef = jax.tree.flatten(args)
        traced = [index for index, leaf in enumerate(leaves) if _is_array(leaf)]
        returned: list[tuple[Any, list[Any]]] = []  # this call's output structure, filled while tracing

        def flat_function(*arrays: Any) -> list[Any]:
            full = list(leaves)
            for index, array in zip(traced, arrays):
                full[index] = array
            result = function(*jax.tree.unflatten(treedef, full))
            out_leaves, out_tree = jax.tree.flatten(result)
            returned.append((out_tree, [None if _is_array(leaf) else leaf for leaf in out_leaves]))
            return [leaf for leaf in out_leaves if _is_array(leaf)]

        arrays = [leaves[index] for index in traced]
        closed = jax.make_jaxpr(flat_function)(*arrays)
        jaxpr = deduplicate(closed.jaxpr)
        outputs = iter(jax_core.jaxpr_as_fun(jax_core.ClosedJaxpr(jaxpr, closed.consts))(*arrays))
        out_tree, static = returned[-1]
        return jax.tree.unflatten(out_tree, [next(outputs) if leaf is None else leaf for leaf in static])

    return merged


def deduplicate(jaxpr: jax_core.Jaxpr) -> jax_core.Jaxpr:
    """``jaxpr`` with each equation that repeats an earlier one (same primitive, parameters and
    operands, no effects) removed and its results read from the earlier one (top level only)."""
    renamed: dict[Any, Any] = {}
    earlier: dict[tuple, list[Any]] = {}
    kept = []

    def read(atom: Any) -> Any:
        return atom if isinstance(atom, jax_core.Literal) else renamed.get(atom, atom)

    for equation in jaxpr.eqns:
        equation = equation.replace(invars=[read(atom) for atom in equation.invars])
        if equation.effects:
            kept.append(equation)
            continue
        signature = (equation.primitive, tuple(_atom_key(atom) for atom in equation.invars))
        same = next(
            (
                previous
                for previous in earlier.get(signature, ())
                if _same_params(previous.params, equation.params)
                and not any(isinstance(out, jax_core.DropVar) for out in previous.outvars)
            ),
            None,
        )
        if same is None:
            earlier.setdefault(signature, []).append(equation)
            kept.append(equation)
        else:
            renamed.update(zip(equation.outvars, same.outvars))
    return jaxpr.replace(eqns=kept, outvars=[read(atom) for atom in jaxpr.outvars])


def _is_array(leaf: Any) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic))


def _atom_key(atom: Any) -> Any:
    if isinstance(atom, jax_core.Literal):
        return ("literal", repr(atom.val), str(atom.aval))
    return atom


def _same_atom(a: Any, b: Any, names: dict[Any, Any]) -> bool:
    if isinstance(a, jax_core.Literal) or isinstance(b, jax_core.Literal):
        return isinstance(a, jax_core.Literal) and isinstance(b, jax_core.Literal) and _atom_key(a) == _atom_key(b)
    return names.get(b) is a


def _same_jaxpr(a: jax_core.Jaxpr, b: jax_core.Jaxpr) -> bool:
    """Whether two jaxprs compute the same thing, up to the names of their variables."""
    if a is b:
        return True
    if (
        len(a.constvars) != len(b.constvars)
        or len(a.invars) != len(b.invars)
        or len(a.eqns) != len(b.eqns)
        or len(a.outvars) != len(b.outvars)
        or a.effects != b.effects
    ):
        return False
    names: dict[Any, Any] = {}  # b's variable -> a's
    for var_a, var_b in zip(a.constvars + a.invars, b.constvars + b.invars):
        if var_a.aval != var_b.aval:
            return False
        names[var_b] = var_a
    for eqn_a, eqn_b in zip(a.eqns, b.eqns):
        if (
            eqn_a.primitive is not eqn_b.primitive
            or len(eqn_a.invars) != len(eqn_b.invars)
            or len(eqn_a.outvars) != len(eqn_b.outvars)
            or not all(_same_atom(x, y, names) for x, y in zip(eqn_a.invars, eqn_b.invars))
            or not _same_params(eqn_a.params, eqn_b.params)
        ):
            return False
        for out_a, out_b in zip(eqn_a.outvars, eqn_b.outvars):
            if out_a.aval != out_b.aval:
                return False
            names[out_b] = out_a
    return all(_same_atom(x, y, names) for x, y in zip(a.outvars, b.outvars))


def _same_params(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a.keys() == b.keys() and all(_same_value(a[name], b[name]) for name in a)


def _same_value(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, jax_core.ClosedJaxpr):
        return (
            len(a.consts) == len(b.consts)
            and all(_same_value(x, y) for x, y in zip(a.consts, b.consts))
            and _same_jaxpr(a.jaxpr, b.jaxpr)
        )
    if isinstance(a, jax_core.Jaxpr):
        return _same_jaxpr(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))
    if isinstance(a, (jax.Array, np.ndarray)):
        if isinstance(a, jax.core.Tracer) or isinstance(b, jax.core.Tracer):
            return False
        return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(np.asarray(a), np.asarray(b)))
    if (callable(a) or hasattr(a, "f")) and not isinstance(a, type):
        # a custom_jvp call's jvp rule is a fresh wrapper per call: the same rule when both wrap the
        # same custom_jvp function (jax.nn.relu, ...); anything else is not known to be the same
        origin = _custom_derivative_origin(a)
        return origin is not None and origin is _custom_derivative_origin(b)
    try:
        return bool(a == b)
    except Exception:  # a parameter without a usable ==: not known to be the same
        return False


def _custom_derivative_origin(function: Any) -> Any:
    """The ``jax.custom_jvp`` / ``jax.custom_vjp`` object a rule wrapper was made from, or None."""
    pending, seen = [(function, 0)], set()
    while pending:
        item, depth = pending.pop()
        if id(item) in seen or depth > _CLOSURE_DEPTH:
            continue
        seen.add(id(item))
        if isinstance(item, (jax.custom_jvp, jax.custom_vjp)):
            return item
        inner = getattr(item, "f", None)  # jax's WrappedFun
        if inner is not None:
            pending.append((inner, depth + 1))
        for cell in getattr(item, "__closure__", None) or ():
            try:
                contents = cell.cell_contents
            except ValueError:
                continue
            values = contents if isinstance(contents, (tuple, list)) else [contents]
            pending.extend((value, depth + 1) for value in values if callable(value) or hasattr(value, "f"))
    return None
