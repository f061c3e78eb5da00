"""Steering a trunk the policy and value share: parameter groups, per-group learning rates and
freezing, the value loss's weight at the trunk, and gradient diagnostics.

A model's ``parameter_roles()`` says which roles read each top-level parameter subtree; here each
subtree gets a *group*: ``"trunk"`` (read by the policy and the value), ``"policy"`` or ``"value"``
(read by that role alone). Separate policy and value models have no trunk: every parameter of the
policy model is ``"policy"``, every one of the value model ``"value"``. The value side may be
several roles: SAC's critics ``critic_1`` and ``critic_2`` (its encoder is the trunk).

The value loss's weight at the trunk and the diagnostics need the policy's and the value's
gradients apart. ``role_gradients`` gets both from ONE forward pass: ``jax.vjp`` of the two losses,
then the backward pass run for both cotangents at once (``vmap`` over them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax

GROUPS = ("trunk", "policy", "value")
UNUSED = "unused"  # a subtree no role reads (it never gets a gradient)


def group_of(
    readers: frozenset[str] | set[str], policy_role: str = "policy", value_role: str | Collection[str] = "value"
) -> str:
    """The group of a subtree read by the roles ``readers``; ``value_role`` may name several roles
    that together are the value side (SAC's ``("critic_1", "critic_2")``)."""
    value_roles = {value_role} if isinstance(value_role, str) else set(value_role)
    reads_policy, reads_value = policy_role in readers, bool(value_roles & set(readers))
    if reads_policy and reads_value:
        return "trunk"
    if reads_policy:
        return "policy"
    if reads_value:
        return "value"
    return UNUSED


def group_labels(groups: Mapping[str, Mapping[str, str]], params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` (``{model key: {subtree: tree}}``) with every leaf replaced by its group's name."""
    return {
        model: {name: jax.tree.map(lambda _, g=groups[model][name]: g, tree) for name, tree in trees.items()}
        for model, trees in params.items()
    }


def trunk_mask(groups: Mapping[str, Mapping[str, str]], params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` (``{model key: {subtree: tree}}``) with True on the trunk's leaves, False elsewhere."""
    return jax.tree.map(lambda group: group == "trunk", group_labels(groups, params))


def stop_gradient_groups(
    groups: Mapping[str, Mapping[str, str]], params: Mapping[str, Any], stopped: Collection[str]
) -> dict[str, Any]:
    """``params`` (``{model key: {subtree: tree}}``) with no gradient through the leaves of the
    groups ``stopped`` (a loss differentiated through it trains only the other groups)."""
    labels = group_labels(groups, params)
    return jax.tree.map(lambda leaf, group: jax.lax.stop_gradient(leaf) if group in stopped else leaf, params, labels)


def check_group_scales(scales: Any, groups: Mapping[str, Mapping[str, str]], owner: str) -> dict[str, float]:
    """``scales`` as ``{group: float}``, or a ``ValueError`` / ``TypeError`` naming what is wrong."""
    if scales is None:
        return {}
    if not isinstance(scales, Mapping):
        raise TypeError(
            f"{owner}: cfg['role_learning_rate_scale'] must be a dict {{group: multiplier}} with groups among "
            f"{list(GROUPS)}, got {type(scales).__name__} {scales!r}"
        )
    present = {group for trees in groups.values() for group in trees.values()}
    checked = {}
    for group, scale in scales.items():
        if group not in GROUPS:
            raise ValueError(
                f"{owner}: cfg['role_learning_rate_scale'] has unknown group {group!r}; expected one of {list(GROUPS)}"
            )
        if group not in present:
            raise ValueError(
                f"{owner}: cfg['role_learning_rate_scale'] names group {group!r} but no parameter of these models is in "
                f"it (groups found: {sorted(present - {UNUSED})}); 'trunk' needs one model for both roles"
            )
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not scale >= 0 or scale == float("inf"):
            raise ValueError(
                f"{owner}: cfg['role_learning_rate_scale'][{group!r}] must be a finite number >= 0 (0 freezes the "
                f"group), got {scale!r}"
            )
        checked[group] = float(scale)
    return checked


def scale_groups(
    labels: Callable[[Any], Any], scales: Mapping[str, float], all_groups: tuple[str, ...] = (*GROUPS, UNUSED)
) -> optax.GradientTransformation:
    """Multiply each group's updates by its scale (``set_to_zero`` for 0, unchanged for a group not named)."""
    transforms = {
        group: optax.set_to_zero() if scales.get(group, 1.0) == 0 else optax.scale(scales.get(group, 1.0))
        for group in all_groups
    }
    return optax.multi_transform(transforms, labels)


def role_gradients(
    loss_fn: Callable[..., tuple[jax.Array, Any]],
    parts: Callable[[Any], tuple[jax.Array, jax.Array]],
    params: Any,
    *args: Any,
) -> tuple[Any, Any, jax.Array, Any]:
    """The gradients of the policy's and the value's parts of ``loss_fn(params, *args) -> (loss, aux)``.

    ``parts(aux) -> (policy_part, value_part)`` must add up to the loss. One forward pass (a joint
    pass computes the trunk once), one backward pass for both parts.

    Returns:
        ``(policy_grads, value_grads, loss, aux)``; ``policy_grads + value_grads`` is the loss's gradient.
    """

    def stacked(p):
        loss, aux = loss_fn(p, *args)
        return jnp.stack(parts(aux)), (loss, aux)

    values, vjp, (loss, aux) = jax.vjp(stacked, params, has_aux=True)
    (grads,) = jax.vmap(vjp)(jnp.eye(2, dtype=values.dtype))
    return jax.tree.map(lambda g: g[0], grads), jax.tree.map(lambda g: g[1], grads), loss, aux


def weight_trunk(grads: Any, trunk_mask: Any, weight: float) -> Any:
    """``grads`` multiplied by ``weight`` on the trunk's leaves (``trunk_mask`` True), unchanged
    elsewhere; a weight of 0 gives zeros there (not ``0 * grad``, which keeps a NaN)."""

    def weighted(grad, on_trunk):
        if not on_trunk or weight == 1:
            return grad
        return jnp.zeros_like(grad) if weight == 0 else weight * grad

    return jax.tree.map(weighted, grads, trunk_mask)


def combine_gradients(policy_grads: Any, value_grads: Any, trunk_mask: Any, trunk_value_weight: float) -> Any:
    """``policy_grads + value_grads``, with the value's gradient multiplied by ``trunk_value_weight``
    on the trunk's leaves (``trunk_mask`` True): 0 keeps the value's gradient out of the trunk."""
    return jax.tree.map(jnp.add, policy_grads, weight_trunk(value_grads, trunk_mask, trunk_value_weight))


def trunk_diagnostics(
    policy_grads: Any,
    value_grads: Any,
    trunk_mask: Any,
    trunk_value_weight: float = 1.0,
    trunk_policy_weight: float = 1.0,
) -> dict[str, jax.Array]:
    """How the two losses pull on the trunk's parameters (raw gradients, before clipping).

    - ``trunk_gradient_cosine``: cosine similarity of the policy's and the value's gradients;
    - ``trunk_gradient_norm_ratio``: ``|value gradient| / |policy gradient|``;
    - ``trunk_policy_share`` / ``trunk_value_share``: each role's share of the trunk's combined
      gradient ``c = a g_policy + w g_value`` (``a``, ``w`` the weights the trunk gives each loss),
      its projection ``<a g_policy, c> / |c|^2`` (and the value's alike): the two add up to 1, and
      a negative share is a role pulling against the step the trunk takes.

    For SAC the policy is the actor's loss and the value the critics' loss.
    """
    pairs = [
        (p, v)
        for p, v, on in zip(jax.tree.leaves(policy_grads), jax.tree.leaves(value_grads), jax.tree.leaves(trunk_mask))
        if on
    ]
    if not pairs:
        raise ValueError("no parameter is read by both the policy and the value: there is no trunk to diagnose")

    def total(products):
        return sum(jnp.sum(x.astype(jnp.float32)) for x in products)

    dot = total(p * v for p, v in pairs)
    policy_sq = total(p * p for p, _ in pairs)
    value_sq = total(v * v for _, v in pairs)
    tiny = jnp.finfo(jnp.float32).tiny
    a, w = trunk_policy_weight, trunk_value_weight
    combined_sq = a * a * policy_sq + 2 * a * w * dot + w * w * value_sq
    return {
        "trunk_gradient_cosine": dot / jnp.maximum(jnp.sqrt(policy_sq * value_sq), tiny),
        "trunk_gradient_norm_ratio": jnp.sqrt(value_sq / jnp.maximum(policy_sq, tiny)),
        "trunk_policy_share": (a * a * policy_sq + a * w * dot) / jnp.maximum(combined_sq, tiny),
        "trunk_value_share": (a * w * dot + w * w * value_sq) / jnp.maximum(combined_sq, tiny),
    }


# the diagnostics' TensorBoard tags
DIAGNOSTIC_TAGS = {
    "trunk_gradient_cosine": "Sharing / Trunk gradient cosine (policy, value)",
    "trunk_gradient_norm_ratio": "Sharing / Trunk gradient norm ratio (value / policy)",
    "trunk_policy_share": "Sharing / Policy share of the trunk gradient",
    "trunk_value_share": "Sharing / Value share of the trunk gradient",
}
