"""Parameter initialisation schemes: flax's defaults, or PyTorch's for models ported from skrl torch.

PyTorch's ``nn.Linear`` and ``nn.ConvNd`` draw both weight and bias from
``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` (``kaiming_uniform_(a=sqrt(5))`` for the weight); flax's
``nn.Dense`` / ``nn.Conv`` draw a LeCun-normal kernel and a zero bias. A skrl torch script
learns from the former, so a port that should follow the same learning curves can ask for it.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any

import flax.linen as nn
import jax


def pytorch_initialization(params: Mapping[str, Any], key: jax.Array) -> dict[str, Any]:
    """Redraw every layer's ``kernel`` (and its sibling ``bias``) as PyTorch initialises them.

    A layer is a parameter dict holding a ``kernel`` leaf; ``fan_in`` is the product of all
    kernel axes but the last (flax's Dense ``(in, out)``, Conv ``(*window, in, out)``), and both
    leaves are drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``. Other leaves (a ``log_std``
    parameter, a LayerNorm's ``scale`` / ``bias``) are kept as flax made them.

    Args:
        params: the parameter tree from ``Model.init``.
        key: PRNG key; each layer gets its own key, folded in from its path.

    Returns:
        A tree with the same structure, shapes and dtypes.
    """

    def redraw(tree: Any, path: str) -> Any:
        if not isinstance(tree, Mapping):
            return tree
        if "kernel" in tree and not isinstance(tree["kernel"], Mapping):
            kernel = tree["kernel"]
            bound = 1.0 / math.sqrt(max(math.prod(kernel.shape[:-1]), 1))
            layer_key = jax.random.fold_in(key, _path_id(path))
            kernel_key, bias_key = jax.random.split(layer_key)
            layer = dict(tree)
            layer["kernel"] = jax.random.uniform(kernel_key, kernel.shape, kernel.dtype, -bound, bound)
            if "bias" in tree and not isinstance(tree["bias"], Mapping):
                bias = tree["bias"]
                layer["bias"] = jax.random.uniform(bias_key, bias.shape, bias.dtype, -bound, bound)
            return layer
        return {name: redraw(value, f"{path}/{name}") for name, value in tree.items()}

    return redraw(params, "")


def _path_id(path: str) -> int:
    # stable across processes, unlike hash() of a str
    return zlib.crc32(path.encode()) & 0x7FFFFFFF


# skrl's init_parameters / init_weights / init_biases: which leaves each redraws
REDRAWN_LEAVES = {"parameters": None, "weights": "kernel", "biases": "bias"}


def make_initializer(method_name: str, args: tuple, kwargs: Mapping[str, Any], owner: str) -> Any:
    """The ``flax.linen.initializers`` function skrl's ``init_parameters(method_name, *args, **kwargs)``
    names: ``zeros`` / ``ones`` as they are, any other name called with the arguments."""
    known = sorted(name for name in dir(nn.initializers) if not name.startswith("_") and name[0].islower())
    if not isinstance(method_name, str) or not hasattr(nn.initializers, method_name):
        raise ValueError(f"{owner}: unknown method_name {method_name!r}; flax.linen.initializers has {known}")
    if method_name in ("zeros", "ones"):
        return getattr(nn.initializers, method_name)
    try:
        return getattr(nn.initializers, method_name)(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{owner}: flax.linen.initializers.{method_name}{args or ''}{kwargs or ''}: {error}") from None


def redraw_parameters(params: Mapping[str, Any], key: jax.Array, rules: Any) -> dict[str, Any]:
    """Apply ``rules`` (``(what, initializer)`` pairs in order, ``what`` a key of ``REDRAWN_LEAVES``):
    each redraws the leaves it names (every leaf, ``kernel`` or ``bias`` leaves), each leaf with its
    own key folded in from its path (skrl's JAX models use one key for every leaf)."""

    def redraw(tree: Any, path: str, name: str | None, initializer: Any, rule_key: jax.Array) -> Any:
        if isinstance(tree, Mapping):
            return {
                child: redraw(value, f"{path}/{child}", name, initializer, rule_key) for child, value in tree.items()
            }
        if name is not None and not path.endswith(f"/{name}"):
            return tree
        try:
            return initializer(jax.random.fold_in(rule_key, _path_id(path)), tree.shape, tree.dtype)
        except Exception as error:
            raise ValueError(f"initializing the parameter {path} of shape {tree.shape}: {error}") from None

    for index, (what, initializer) in enumerate(rules):
        params = redraw(params, "", REDRAWN_LEAVES[what], initializer, jax.random.fold_in(key, index))
    return dict(params)
