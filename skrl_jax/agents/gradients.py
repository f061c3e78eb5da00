"""One gradient step for every algorithm: loss -> gradients -> optax update -> new parameters.

The learning rate lives in the optimizer state (``optax.inject_hyperparams``), so a schedule, the
KL-adaptive rate or a multi-device reduction all go through the same path:

    optimizer = make_optimizer(learning_rate=1e-3, grad_norm_clip=0.5)
    opt_state = optimizer.init(params)
    params, opt_state, loss, aux = gradient_step(loss_fn, optimizer, params, opt_state, batch)
    opt_state = set_learning_rate(opt_state, 5e-4)

Separate models trained together (skrl's separate policy and value models) are the top-level
entries of one parameter dict under one optimizer, clipped by their joint norm, as in skrl's
PyTorch backend.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

from skrl_jax.agents.sharing import scale_groups


def _adam(
    learning_rate: float,
    grad_norm_clip: float,
    group_labels: Callable[[Any], Any] | None = None,
    group_scales: Mapping[str, float] | None = None,
) -> optax.GradientTransformation:
    """skrl's Adam: global-norm clipping (when > 0), Adam's scaling, then the learning rate; with
    ``group_scales``, each group's learning rate multiplied by its scale (a frozen group's gradients
    are zeroed before the clipping, so they do not count in its norm: a frozen PyTorch parameter has
    no gradient)."""
    scales = dict(group_scales or {})
    frozen = {group: 0.0 for group, scale in scales.items() if scale == 0}

    def make(learning_rate: Any) -> optax.GradientTransformation:
        steps = [optax.scale_by_adam(), optax.scale_by_learning_rate(learning_rate)]
        if grad_norm_clip > 0:
            steps.insert(0, optax.clip_by_global_norm(grad_norm_clip))
        if frozen:
            steps.insert(0, scale_groups(group_labels, frozen))
        if any(scale != 1 for scale in scales.values()):
            steps.append(scale_groups(group_labels, scales))
        return optax.chain(*steps)

    return optax.inject_hyperparams(make)(learning_rate=learning_rate)


def make_optimizer(
    learning_rate: float,
    grad_norm_clip: float = 0.0,
    group_labels: Callable[[Any], Any] | None = None,
    group_scales: Mapping[str, float] | None = None,
) -> optax.GradientTransformation:
    """Adam with the learning rate in its state.

    Args:
        learning_rate: the initial learning rate (``set_learning_rate`` changes it later).
        grad_norm_clip: clip the gradients to this global norm over the whole tree (0: no clipping).
        group_labels: ``params -> the same tree with a group name per leaf`` (``sharing.group_labels``).
        group_scales: ``{group: multiplier of the learning rate}``; 0 freezes the group.
    """
    if group_scales and group_labels is None:
        raise ValueError("make_optimizer: group_scales needs group_labels")
    return _adam(learning_rate, grad_norm_clip, group_labels, group_scales)


def _is_injected(node: Any) -> bool:
    return isinstance(node, optax.InjectStatefulHyperparamsState)


def set_learning_rate(opt_state: Any, learning_rate: jax.Array | float) -> Any:
    """``opt_state`` with every optimizer's learning rate set to ``learning_rate`` (pure)."""

    def replace(node: Any) -> Any:
        if not _is_injected(node):
            return node
        current = node.hyperparams["learning_rate"]
        value = jnp.asarray(learning_rate, current.dtype)
        return node._replace(hyperparams={**node.hyperparams, "learning_rate": value})

    return jax.tree.map(replace, opt_state, is_leaf=_is_injected)


def get_learning_rate(opt_state: Any) -> jax.Array:
    """The learning rate held in ``opt_state`` (the first optimizer's, when there are several)."""
    found = [node for node in jax.tree.leaves(opt_state, is_leaf=_is_injected) if _is_injected(node)]
    if not found:
        raise ValueError("the optimizer state holds no learning rate: build the optimizer with make_optimizer")
    return found[0].hyperparams["learning_rate"]


def gradient_step(
    loss_fn: Callable[..., tuple[jax.Array, Any]],
    optimizer: optax.GradientTransformation,
    params: Any,
    opt_state: Any,
    *args: Any,
    axis_name: str | None = None,
) -> tuple[Any, Any, jax.Array, Any]:
    """One step of ``optimizer`` on ``loss_fn(params, *args) -> (loss, aux)`` (pure).

    With ``axis_name`` the gradients are averaged over that mapped axis (``lax.pmean``) before
    the optimizer sees them, so every device applies the same step.

    Returns:
        ``(new_params, new_opt_state, loss, aux)``.
    """
    (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, *args)
    if axis_name is not None:
        grads = jax.lax.pmean(grads, axis_name)
    params, opt_state = apply_gradients(optimizer, grads, params, opt_state)
    return params, opt_state, loss, aux


def apply_gradients(
    optimizer: optax.GradientTransformation, grads: Any, params: Any, opt_state: Any
) -> tuple[Any, Any]:
    """``(new_params, new_opt_state)``: one step of ``optimizer`` along ``grads`` (pure)."""
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state
