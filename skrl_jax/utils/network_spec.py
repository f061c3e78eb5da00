"""skrl's network specification (its model instantiators' ``network`` / ``output`` entries), built as flax models.

A role of a runner YAML reads::

    class: GaussianMixin          # or CategoricalMixin, MultiCategoricalMixin, MultivariateGaussianMixin,
    clip_actions: False           #    DeterministicMixin; then the mixin's own arguments
    network:
      - name: net                 # containers run in order; a later one may read an earlier one by name
        input: OBSERVATIONS       # an expression of tokens and container names (see below)
        layers: [64, 64]          # ints are Dense layers; {linear: ...}, flatten
        activations: elu          # one for every layer, or one per layer
    output: ACTIONS               # a token (a Dense of that size on the last container), maybe inside an
                                  #    expression: 2 * tanh(ACTIONS)

Expressions are parsed with ``ast`` and evaluated by a small interpreter that knows only
arithmetic (``+ - * /``, unary ``-``), indexing and slicing, lists, numbers and the functions
``concatenate``, ``permute``, ``one_hot_encoding`` and the activations: nothing is ``eval``-ed.

Input tokens: ``OBSERVATIONS`` (skrl 2.x; in 1.4 ``STATES``), ``STATES`` (1.4: the
observations; 2.x: the environment's privileged state), ``ACTIONS`` / ``TAKEN_ACTIONS``
(``inputs["taken_actions"]``), ``OBSERVATION_SPACE`` / ``STATE_SPACE`` / ``ACTION_SPACE`` (for
``one_hot_encoding``). Sizes in layers: ``NUM_OBSERVATIONS``, ``NUM_STATES``, ``NUM_ACTIONS``,
``ONE``. Output tokens: ``ACTIONS`` (or ``NUM_ACTIONS``) and ``ONE``.

Parameter names follow skrl's JAX instantiators: a container is ``<name>_container`` (a flax
``Sequential``, so its layers are ``layers_0``, ``layers_2``, ...), a Gaussian's log-std is
``log_std_parameter``; a separate model puts its output layer at the end of its last container
(as skrl's JAX instantiators), a shared model gives each role its own ``<role>_layer`` on top of
the shared containers (as skrl's PyTorch shared instantiator).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import keyword
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from skrl_jax.core.spaces import compute_space_size
from skrl_jax.models import (
    CategoricalMixin,
    DeterministicMixin,
    GaussianMixin,
    Model,
    MultiCategoricalMixin,
    MultivariateGaussianMixin,
)

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array] | None] = {
    "elu": nn.elu,
    "relu": nn.relu,
    "tanh": nn.tanh,
    "sigmoid": nn.sigmoid,
    "leaky_relu": nn.leaky_relu,
    "selu": nn.selu,
    "softplus": nn.softplus,
    "softsign": nn.soft_sign,
    "softmax": nn.softmax,
    "identity": None,
}

# class name (lower case, as skrl matches it) -> (mixin, its YAML arguments and their defaults)
_GAUSSIAN_ARGUMENTS = {
    "clip_actions": False,
    "clip_mean_actions": False,
    "clip_log_std": True,
    "min_log_std": -20.0,
    "max_log_std": 2.0,
    "initial_log_std": 0.0,
    "fixed_log_std": False,
}
MIXINS: dict[str, tuple[type, dict[str, Any]]] = {
    "gaussianmixin": (GaussianMixin, {**_GAUSSIAN_ARGUMENTS, "reduction": "sum"}),
    "multivariategaussianmixin": (MultivariateGaussianMixin, dict(_GAUSSIAN_ARGUMENTS)),
    "categoricalmixin": (CategoricalMixin, {"unnormalized_log_prob": True}),
    "multicategoricalmixin": (MultiCategoricalMixin, {"unnormalized_log_prob": True, "reduction": "sum"}),
    "deterministicmixin": (DeterministicMixin, {"clip_actions": False}),
}
MIXIN_NAMES = (
    "GaussianMixin",
    "CategoricalMixin",
    "MultiCategoricalMixin",
    "MultivariateGaussianMixin",
    "DeterministicMixin",
)
# skrl 1.4's arguments from before its network/output format (converted as skrl 1.4 did, with a warning)
DEPRECATED_ARGUMENTS = (
    "input_shape",
    "hiddens",
    "hidden_activation",
    "output_shape",
    "output_activation",
    "output_scale",
)

INPUT_TOKENS = {
    "1.4": {"STATES": "observations", "ACTIONS": "taken_actions", "TAKEN_ACTIONS": "taken_actions"},
    "2.x": {
        "OBSERVATIONS": "observations",
        "STATES": "states",
        "ACTIONS": "taken_actions",
        "TAKEN_ACTIONS": "taken_actions",
    },
}
SPACE_TOKENS = {"OBSERVATION_SPACE": "observation_space", "STATE_SPACE": "state_space", "ACTION_SPACE": "action_space"}
OUTPUT_TOKENS = {"ACTIONS": "num_actions", "NUM_ACTIONS": "num_actions", "ONE": 1}
FUNCTIONS = ("concatenate", "permute", "one_hot_encoding", *(name for name in ACTIVATIONS if name != "identity"))
_BINARY = {ast.Add: jnp.add, ast.Sub: jnp.subtract, ast.Mult: jnp.multiply, ast.Div: jnp.divide}
_UNARY = {ast.USub: jnp.negative, ast.UAdd: lambda x: x}


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointing at the first caller outside the runner's modules."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__") in (__name__, "skrl_jax.utils.runner"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


# --- expressions ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Expression:
    """A parsed network input or output expression and the names it reads (no function names)."""

    source: str
    tree: ast.Expression
    names: tuple[str, ...]

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return _evaluate(self.tree.body, values, self.source)


def parse_expression(source: Any, known: Sequence[str], where: str, hint: str = "") -> Expression:
    """Parse ``source`` and check that it only uses the syntax the interpreter knows and names in ``known``."""
    if isinstance(source, (int, float)) and not isinstance(source, bool):
        source = str(source)
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{where}: expected an expression (a string such as 'OBSERVATIONS'), got {source!r}")
    source = source.replace("Shape.", "")  # skrl 1.4's enum spelling, e.g. Shape.STATES
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise ValueError(f"{where}: {source!r} is not a valid expression ({error.msg})") from None
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                called = ast.unparse(node.func)
                raise ValueError(
                    f"{where}: unknown function {called!r} in {source!r}; expected one of {', '.join(FUNCTIONS)}"
                )
            if node.keywords:
                raise ValueError(f"{where}: keyword arguments are not supported in {source!r}")
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                continue  # a function name (checked as a call above)
            if node.id not in known:
                raise ValueError(
                    f"{where}: unknown name {node.id!r} in {source!r}; expected one of {', '.join(known)}{hint}"
                )
            names.append(node.id)
        elif not isinstance(node, _ALLOWED_NODES):
            raise ValueError(
                f"{where}: {type(node).__name__} syntax is not supported in {source!r} (supported: tokens, container "
                "names, numbers, + - * /, indexing and slicing, lists and the functions " + ", ".join(FUNCTIONS) + ")"
            )
    for node in ast.walk(tree):  # a bare function name used as a value
        if isinstance(node, ast.Name) and node.id in FUNCTIONS and not _is_called(tree, node):
            raise ValueError(f"{where}: {node.id!r} is a function; call it, e.g. {node.id}(...), in {source!r}")
    return Expression(source, tree, tuple(dict.fromkeys(names)))


_ALLOWED_NODES = (
    ast.Expression,
    ast.Constant,
    ast.BinOp,
    ast.UnaryOp,
    ast.List,
    ast.Tuple,
    ast.Subscript,
    ast.Slice,
    ast.Load,
    *_BINARY,
    *_UNARY,
)


def _is_called(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(node, ast.Call) and node.func is name for node in ast.walk(tree))


def _evaluate(node: ast.AST, values: Mapping[str, Any], source: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_evaluate(node.left, values, source), _evaluate(node.right, values, source))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_evaluate(node.operand, values, source))
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_evaluate(item, values, source) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else items
    if isinstance(node, ast.Slice):
        return slice(
            *(None if part is None else _evaluate(part, values, source) for part in (node.lower, node.upper, node.step))
        )
    if isinstance(node, ast.Subscript):
        return _evaluate(node.value, values, source)[_evaluate(node.slice, values, source)]
    if isinstance(node, ast.Call):
        arguments = [_evaluate(argument, values, source) for argument in node.args]
        return _call(node.func.id, arguments, source)
    raise ValueError(f"unsupported syntax {type(node).__name__} in {source!r}")  # parse_expression refused it


def _call(name: str, arguments: list, source: str) -> Any:
    def arity(count: int) -> None:
        if len(arguments) != count:
            raise ValueError(f"{name}() takes {count} argument(s), got {len(arguments)} in {source!r}")

    if name == "concatenate":
        arity(1)
        return jnp.concatenate([jnp.asarray(part, jnp.float32) for part in arguments[0]], axis=-1)
    if name == "permute":
        arity(2)
        return jnp.transpose(arguments[0], tuple(arguments[1]))
    if name == "one_hot_encoding":
        arity(2)
        return one_hot_encoding(arguments[0], arguments[1])
    arity(1)
    return ACTIVATIONS[name](arguments[0])


def one_hot_encoding(space: Any, x: jax.Array) -> jax.Array:
    """One-hot encoding of a Discrete (one column) or MultiDiscrete (one column per branch) value."""
    if isinstance(space, spaces.Discrete):
        return jax.nn.one_hot(jnp.asarray(x)[..., 0].astype(jnp.int32) - int(space.start), int(space.n))
    if isinstance(space, spaces.MultiDiscrete):
        nvec = np.asarray(space.nvec).reshape(-1)
        x = jnp.asarray(x).astype(jnp.int32)
        return jnp.concatenate([jax.nn.one_hot(x[..., i], int(n)) for i, n in enumerate(nvec)], axis=-1)
    raise ValueError(f"one_hot_encoding needs a Discrete or MultiDiscrete space, got {space}")


def unflatten(space: Any, x: jax.Array | None) -> Any:
    """A value of skrl's flat layout as skrl's instantiated models see it: a Box of more than one
    dimension reshaped to ``(*batch, *shape)``, a Dict as a dict (sorted keys), a Tuple as a tuple."""
    if x is None or space is None:
        return x
    if isinstance(space, spaces.Box) and len(space.shape) > 1:
        return jnp.reshape(x, (*x.shape[:-1], *space.shape))
    if isinstance(space, (spaces.Dict, spaces.Tuple)):
        entries = (
            [(key, space[key]) for key in sorted(space.spaces)]
            if isinstance(space, spaces.Dict)
            else list(enumerate(space.spaces))
        )
        parts, start = {}, 0
        for key, sub in entries:
            size = compute_space_size(sub, occupied_size=True)
            parts[key] = unflatten(sub, x[..., start : start + size])
            start += size
        return parts if isinstance(space, spaces.Dict) else tuple(parts.values())
    return x


# --- the parsed specification ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class Container:
    """One ``network`` entry: its input expression and its layers (flax modules are made in ``setup``)."""

    name: str
    input: Expression
    layers: tuple[tuple, ...]  # ("dense", features, use_bias) | ("flatten",) | ("activation", name)


@dataclasses.dataclass(frozen=True, eq=False)
class RoleNetworkSpec:
    """What one role of a models section builds: the mixin, its arguments, the network and the output."""

    role: str
    mixin: type
    mixin_kwargs: dict[str, Any]
    initial_log_std: float
    fixed_log_std: bool
    network: tuple[Container, ...]
    output: Expression | None  # None: the last container's output as it is
    output_size: int | None  # the size of the Dense the output token makes (None: no token)

    @property
    def gaussian(self) -> bool:
        return self.mixin in (GaussianMixin, MultivariateGaussianMixin)


def _sizes(api: str, observation_space: Any, state_space: Any, action_space: Any) -> dict[str, int]:
    observations = compute_space_size(observation_space)
    states = compute_space_size(state_space) if api == "2.x" else observations
    actions = compute_space_size(action_space)
    sizes = {"NUM_ACTIONS": actions, "ACTIONS": actions, "ONE": 1, "STATES": states, "NUM_STATES": states}
    if api == "2.x":
        sizes.update({"NUM_OBSERVATIONS": observations, "OBSERVATIONS": observations})
    return sizes


def _features(value: Any, sizes: Mapping[str, int], where: str) -> int:
    if isinstance(value, str) and value.replace("Shape.", "") in sizes:
        return sizes[value.replace("Shape.", "")]
    if isinstance(value, (int, float)) and not isinstance(value, bool) and int(value) == value and value > 0:
        return int(value)
    raise ValueError(f"{where}: expected a positive number of features or one of {', '.join(sizes)}, got {value!r}")


def _parse_layer(layer: Any, sizes: Mapping[str, int], where: str) -> tuple:
    if isinstance(layer, (int, float)) and not isinstance(layer, bool):
        return ("dense", _features(layer, sizes, where), True)
    if isinstance(layer, str):
        if layer.lower() == "flatten":
            return ("flatten",)
        if layer.replace("Shape.", "") in sizes:
            return ("dense", sizes[layer.replace("Shape.", "")], True)
        raise ValueError(f"{where}: unknown layer {layer!r}; expected a number of units, flatten, or {{linear: ...}}")
    if isinstance(layer, Mapping) and len(layer) == 1:
        kind, arguments = next(iter(layer.items()))
        kind = str(kind).lower()
        if kind == "linear":
            if isinstance(arguments, (list, tuple)) and 1 <= len(arguments) <= 2:
                arguments = dict(zip(("features", "use_bias"), arguments))
            elif not isinstance(arguments, Mapping):
                arguments = {"features": arguments}
            names = {"out_features": "features", "bias": "use_bias"}
            arguments = {names.get(key, key): value for key, value in arguments.items() if key != "in_features"}
            unknown = sorted(set(arguments) - {"features", "use_bias"})
            if unknown or "features" not in arguments:
                raise ValueError(
                    f"{where}: a linear layer takes features (out_features) and use_bias (bias), got {dict(layer)!r}"
                )
            return ("dense", _features(arguments["features"], sizes, where), bool(arguments.get("use_bias", True)))
        if kind == "flatten":
            return ("flatten",)
        if kind == "conv2d":
            raise NotImplementedError(
                f"{where}: 'conv2d' layers are not supported by skrl_jax's runner yet; use linear layers, or write "
                "the model as a class (skrl_jax.models.Model) with flax.linen.Conv"
            )
        raise ValueError(f"{where}: unknown layer {kind!r}; expected linear, flatten or a number of units")
    raise ValueError(f"{where}: invalid layer {layer!r}; expected a number of units, 'flatten' or {{linear: ...}}")


def _activation_names(activations: Any, count: int, where: str) -> list[str | None]:
    if activations is None or isinstance(activations, str):
        names = [activations] * count
    elif isinstance(activations, (list, tuple)):
        if len(activations) == 0:
            names = [None] * count
        elif len(activations) == 1:
            names = list(activations) * count
        elif len(activations) == count:
            names = list(activations)
        else:
            raise ValueError(f"{where}: {len(activations)} activations for {count} layers; give one, or one per layer")
    else:
        raise ValueError(f"{where}: activations must be a name or a list of names, got {activations!r}")
    resolved = []
    for name in names:
        key = None if name is None else str(name).lower()
        if key in (None, "", "none", "identity", "linear"):
            resolved.append(None)
        elif key in ACTIVATIONS:
            resolved.append(key)
        else:
            raise ValueError(
                f"{where}: unknown activation {name!r}; expected one of {', '.join(ACTIVATIONS)} (or null for none)"
            )
    return resolved


def convert_deprecated(arguments: dict[str, Any], where: str) -> dict[str, Any]:
    """skrl 1.4's ``input_shape`` / ``hiddens`` / ``hidden_activation`` / ``output_*`` arguments as a
    ``network`` and an ``output`` (skrl 1.4 converts them so, with a deprecation warning)."""
    present = [name for name in DEPRECATED_ARGUMENTS if name in arguments]
    if not present:
        return arguments
    if "network" in arguments:
        raise ValueError(f"{where}: give either network/output or the older {present}, not both")
    warn_user(
        f"{where}: {', '.join(present)} are skrl's arguments from before 1.3; converted to network/output",
        DeprecationWarning,
    )
    arguments = dict(arguments)
    values = {name: arguments.pop(name, None) for name in DEPRECATED_ARGUMENTS}
    activations = values["hidden_activation"] or []
    if isinstance(activations, (list, tuple)) and len(set(activations)) == 1:
        activations = activations[0]
    arguments["network"] = [
        {
            "name": "net",
            "input": str(values["input_shape"] or "STATES").replace("Shape.", ""),
            "layers": values["hiddens"] or [],
            "activations": activations,
        }
    ]
    output = str(values["output_shape"] or "ACTIONS").replace("Shape.", "")
    if values["output_activation"]:
        output = f"{values['output_activation']}({output})"
    scale = values["output_scale"] if values["output_scale"] is not None else 1.0
    arguments["output"] = f"{scale} * {output}" if float(scale) != 1.0 else output
    return arguments


def parse_network(
    network: Any, api: str, sizes: Mapping[str, int], where: str, extra_names: Sequence[str] = ()
) -> tuple[Container, ...]:
    """The containers of a ``network`` list (names, input expressions, layers and activations)."""
    if not isinstance(network, (list, tuple)) or not network:
        raise ValueError(
            f"{where}: expected a list of containers ({{name, input, layers, activations}}), got {network!r}"
        )
    tokens = [*INPUT_TOKENS[api], *SPACE_TOKENS]
    if api == "1.4":
        tokens += ["STATES_ACTIONS", "OBSERVATIONS_ACTIONS"]  # skrl 1.4's shorthands for [states, actions]
    containers: list[Container] = []
    for index, entry in enumerate(network):
        place = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{place}: expected a container {{name, input, layers, activations}}, got {entry!r}")
        unknown = sorted(set(entry) - {"name", "input", "layers", "activations"})
        if unknown:
            raise ValueError(f"{place}: unknown container keys {unknown}; expected name, input, layers, activations")
        name = entry.get("name")
        taken = {container.name for container in containers}
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"{place}: the container name must be a Python identifier, got {name!r}")
        if name in taken or name in tokens or name in FUNCTIONS or name in OUTPUT_TOKENS or name in extra_names:
            raise ValueError(
                f"{place}: the container name {name!r} is taken (a token, a function or another container)"
            )
        place = f"{where}[{index}] ({name!r})"
        known = [*tokens, *taken]
        hint = ""
        if api == "1.4" and "OBSERVATIONS" not in known:
            hint = " (a skrl 1.4 configuration reads the observations as STATES)"
        source = entry.get("input", "OBSERVATIONS" if api == "2.x" else "STATES")
        source = str(source).replace("Shape.", "")
        if api == "1.4":
            for shorthand in ("STATES_ACTIONS", "OBSERVATIONS_ACTIONS"):
                source = source.replace(shorthand, "concatenate([STATES, ACTIONS])")
        expression = parse_expression(source, known, f"{place} input", hint)
        layers_given = entry.get("layers") or []
        if not isinstance(layers_given, (list, tuple)):
            raise ValueError(f"{place}: layers must be a list, got {layers_given!r}")
        layers = [_parse_layer(layer, sizes, f"{place} layers[{i}]") for i, layer in enumerate(layers_given)]
        activations = _activation_names(entry.get("activations"), len(layers), f"{place} activations")
        modules: list[tuple] = []
        for layer, activation in zip(layers, activations):
            modules.append(layer)
            if activation is not None and layer[0] != "flatten":  # skrl adds none after flatten
                modules.append(("activation", activation))
        containers.append(Container(name, expression, tuple(modules)))
    return tuple(containers)


def parse_output(output: Any, containers: Sequence[Container], sizes: Mapping[str, int], where: str) -> tuple:
    """``(expression or None, size of the output Dense or None)`` of an ``output`` entry."""
    if output is None or (isinstance(output, str) and not output.strip()):
        return None, None
    if isinstance(output, (list, tuple)):
        raise NotImplementedError(f"{where}: a list of outputs is not supported (skrl does not support it either)")
    names = [container.name for container in containers]
    expression = parse_expression(output, [*OUTPUT_TOKENS, *names], where, " (a container name or an output token)")
    found = [name for name in expression.names if name in OUTPUT_TOKENS]
    if len({OUTPUT_TOKENS[name] for name in found}) > 1:
        raise ValueError(f"{where}: {output!r} uses several output tokens ({', '.join(found)}); use one")
    size = sizes[found[0]] if found else None
    if expression.names == (names[-1],) and isinstance(expression.tree.body, ast.Name):
        return None, None  # the last container as it is
    return expression, size


def parse_role(
    role: str,
    spec: Mapping[str, Any],
    api: str,
    observation_space: Any,
    state_space: Any,
    action_space: Any,
    where: str,
) -> RoleNetworkSpec:
    """A role of a ``models`` section: ``class``, the mixin's arguments, ``network`` and ``output``."""
    if not isinstance(spec, Mapping):
        raise ValueError(f"{where}: expected a mapping with class, network and output, got {spec!r}")
    class_name = spec.get("class")
    if not class_name:
        raise ValueError(f"{where}: the 'class' field is missing; expected one of {', '.join(MIXIN_NAMES)}")
    if str(class_name).lower() not in MIXINS:
        raise ValueError(f"{where}.class: unknown model class {class_name!r}; expected one of {', '.join(MIXIN_NAMES)}")
    mixin, defaults = MIXINS[str(class_name).lower()]
    arguments = convert_deprecated({key: value for key, value in spec.items() if key != "class"}, where)
    unknown = sorted(set(arguments) - set(defaults) - {"network", "output"})
    if unknown:
        raise ValueError(
            f"{where}: unknown {mixin.__name__} arguments {unknown}; expected {', '.join([*defaults, 'network', 'output'])}"
        )
    if "network" not in arguments:
        raise ValueError(f"{where}: the 'network' field is missing (a list of {{name, input, layers, activations}})")
    values = {**defaults, **{key: value for key, value in arguments.items() if key in defaults}}
    sizes = _sizes(api, observation_space, state_space, action_space)
    network = parse_network(arguments["network"], api, sizes, f"{where}.network")
    if api == "2.x" and state_space is None:
        for container in network:
            if "STATES" in container.input.names:
                raise ValueError(
                    f"{where}.network ({container.name!r}) reads STATES, which in a skrl 2.x configuration is the "
                    "environment's privileged state, but the environment has no state_space; read the observations "
                    "with OBSERVATIONS (skrl 1.4's STATES)"
                )
    output, size = parse_output(arguments.get("output"), network, sizes, f"{where}.output")
    initial_log_std = float(values.pop("initial_log_std", 0.0))
    fixed_log_std = bool(values.pop("fixed_log_std", False))
    return RoleNetworkSpec(role, mixin, values, initial_log_std, fixed_log_std, network, output, size)


# --- the flax side ----------------------------------------------------------------------------------


class InputExpression(nn.Module):
    """A container's input, computed from the arrays it reads (no parameters).

    It is a submodule so that a joint call of a shared model traces it once: called again with
    the very same arrays, it returns its first result (``skrl_jax.models.module.traced_once``),
    and the container after it then sees the same array too (a joint pass would compute it once
    anyway: ``skrl_jax.models.joint``).
    """

    expression: Any
    spaces: Any

    def __call__(self, values: dict[str, Any]) -> Any:
        return self.expression.evaluate({**values, **self.spaces})


def _flatten(x: jax.Array) -> jax.Array:
    return jnp.reshape(x, (x.shape[0], -1))


def _sequential(layers: Sequence[tuple]) -> nn.Module | None:
    modules: list[Any] = []
    for layer in layers:
        if layer[0] == "dense":
            modules.append(nn.Dense(layer[1], use_bias=layer[2]))
        elif layer[0] == "flatten":
            modules.append(_flatten)
        else:
            modules.append(ACTIVATIONS[layer[1]])
    return nn.Sequential(modules) if modules else None


class SpecModel(Model):
    """A model built from the roles of a models section: one role (a separate model) or several
    roles on the containers of the first (a shared model, as skrl's PyTorch shared instantiator).

    Built by ``build_model``, which adds each role's mixin to the class, so that ``isinstance(model,
    GaussianMixin)`` holds as for a hand-written model.
    """

    def __init__(
        self,
        observation_space: Any,
        action_space: Any,
        roles: Sequence[RoleNetworkSpec],
        skrl_api: str = "1.4",
        state_space: Any = None,
    ) -> None:
        if skrl_api == "2.x":
            Model.__init__(self, observation_space, action_space, state_space=state_space, skrl_api="2.x")
        else:
            Model.__init__(self, observation_space, action_space, skrl_api="1.4")
        self.role_specs = {spec.role: spec for spec in roles}
        self.shared = len(roles) > 1
        self.containers = roles[0].network
        gaussians = [spec.role for spec in roles if spec.gaussian]
        self.log_std_names = {
            role: "log_std_parameter" if len(gaussians) == 1 else f"{role}_log_std_parameter" for role in gaussians
        }
        for spec in roles:
            spec.mixin.__init__(self, **spec.mixin_kwargs, role=spec.role)

    def setup(self) -> None:
        model = self.skrl_model
        last = model.containers[-1].name
        tokens_spaces = {
            "OBSERVATION_SPACE": model.observation_space,
            "STATE_SPACE": model.state_space,
            "ACTION_SPACE": model.action_space,
        }
        embedded = None
        if not model.shared:
            spec = next(iter(model.role_specs.values()))
            if spec.output_size is not None:
                embedded = ("dense", spec.output_size, True)  # skrl's JAX instantiators: on the last container
        for container in model.containers:
            spaces_read = {name: tokens_spaces[name] for name in container.input.names if name in SPACE_TOKENS}
            setattr(self, f"{container.name}_input", InputExpression(container.input, spaces_read))
            layers = container.layers + ((embedded,) if embedded and container.name == last else ())
            sequential = _sequential(layers)
            if sequential is not None:
                setattr(self, f"{container.name}_container", sequential)
        if model.shared:
            for role, spec in model.role_specs.items():
                if spec.output_size is not None:
                    setattr(self, f"{role}_layer", nn.Dense(spec.output_size))
        for role, name in model.log_std_names.items():
            spec = model.role_specs[role]
            if not spec.fixed_log_std:
                initial = nn.initializers.constant(spec.initial_log_std)
                setattr(self, name, self.param(name, initial, (model.num_actions,)))

    def compute(self, inputs: Mapping[str, Any], role: str = "") -> Any:
        model = self.skrl_model
        spec = model.role_specs.get(role) if model.shared else next(iter(model.role_specs.values()))
        if spec is None:
            raise ValueError(
                f"unknown role {role!r} for {type(model).__name__}: the roles are {list(model.role_specs)}"
            )
        sources = model.input_sources(inputs)
        outputs: dict[str, Any] = {}
        for container in model.containers:
            values = {}
            for name in container.input.names:
                if name in SPACE_TOKENS:
                    continue
                if name in outputs:
                    values[name] = outputs[name]
                    continue
                source = INPUT_TOKENS[model.skrl_api][name]
                if sources.get(source) is None:
                    raise ValueError(
                        f"{type(model).__name__}: the network {container.name!r} reads {name}, but inputs has no "
                        f"{source!r} entry (keys: {sorted(k for k, v in inputs.items() if v is not None)})"
                    )
                values[name] = sources[source]
            x = getattr(self, f"{container.name}_input")(values)
            sequential = getattr(self, f"{container.name}_container", None)
            outputs[container.name] = sequential(x) if sequential is not None else x
        last = outputs[model.containers[-1].name]
        if spec.output is None:
            output = last
        else:
            token = last
            if model.shared and spec.output_size is not None:
                token = getattr(self, f"{spec.role}_layer")(last)
            values = {**outputs, **{name: token for name in OUTPUT_TOKENS}}
            output = jnp.asarray(spec.output.evaluate(values))
        if not spec.gaussian:
            return output, {}
        name = model.log_std_names[spec.role]
        log_std = (
            jnp.full((model.num_actions,), spec.initial_log_std, jnp.float32)
            if spec.fixed_log_std
            else getattr(self, name)
        )
        if model.skrl_api == "2.x":
            return output, {"log_std": log_std}
        return output, log_std, {}

    def input_sources(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The arrays the tokens read: observations, (privileged) states and taken actions, unflattened
        as skrl's instantiated models see them."""
        if self.skrl_api == "2.x":
            observations, states = inputs.get("observations"), inputs.get("states")
        else:
            observations, states = inputs.get("states"), None
        return {
            "observations": unflatten(self.observation_space, observations),
            "states": unflatten(self.state_space, states),
            "taken_actions": inputs.get("taken_actions"),
        }


@functools.cache
def _model_class(mixins: tuple[type, ...]) -> type:
    name = "".join(mixin.__name__.removesuffix("Mixin") for mixin in mixins) + "Model"
    # the mixins come first (skrl's class order), but the constructor is SpecModel's
    namespace = {"__module__": __name__, "__qualname__": name, "__init__": SpecModel.__init__}
    return type(name, (*mixins, SpecModel), namespace)


def build_model(
    roles: Sequence[RoleNetworkSpec],
    observation_space: Any,
    action_space: Any,
    skrl_api: str = "1.4",
    state_space: Any = None,
) -> SpecModel:
    """One model for ``roles``: a separate model for one role, a shared one (the containers of the first
    role, one output layer per role) for several. Its class derives from the roles' mixins and ``Model``."""
    mixins = tuple(dict.fromkeys(spec.mixin for spec in roles))
    return _model_class(mixins)(observation_space, action_space, roles, skrl_api=skrl_api, state_space=state_space)


def _same_network(a: Sequence[Container], b: Sequence[Container]) -> bool:
    return len(a) == len(b) and all(
        x.name == y.name and x.input.source == y.input.source and x.layers == y.layers for x, y in zip(a, b)
    )


def build_models(
    models_cfg: Mapping[str, Any],
    observation_space: Any,
    action_space: Any,
    skrl_api: str = "1.4",
    state_space: Any = None,
    where: str = "models",
) -> dict[str, SpecModel]:
    """The models of a runner's ``models`` section, by role.

    Reads ``separate`` (default True, as skrl) and one entry per role. ``separate: False`` needs
    exactly two roles (skrl's rule): one model is built whose shared containers are the first role's
    ``network`` (the second role's ``network`` is not used, as in skrl's PyTorch shared
    instantiator; a warning says so when it differs), each role with its own output layer, and the
    same instance is returned under both keys.
    """
    if not isinstance(models_cfg, Mapping):
        raise ValueError(f"{where}: expected a mapping of roles (policy, value, ...), got {models_cfg!r}")
    separate = models_cfg.get("separate", True)
    if not isinstance(separate, bool):
        raise ValueError(f"{where}.separate must be true or false, got {separate!r}")
    role_cfgs = {role: spec for role, spec in models_cfg.items() if role != "separate"}
    if not role_cfgs:
        raise ValueError(f"{where}: no roles are defined (expected e.g. policy and value)")

    def parse(role: str) -> RoleNetworkSpec:
        return parse_role(
            role, role_cfgs[role], skrl_api, observation_space, state_space, action_space, f"{where}.{role}"
        )

    if separate:
        return {
            role: build_model([parse(role)], observation_space, action_space, skrl_api, state_space)
            for role in role_cfgs
        }
    if len(role_cfgs) != 2:
        raise ValueError(
            f"{where}: a shared model (separate: False) is made of exactly two roles, got {list(role_cfgs)}; set "
            "separate: True to build one model per role"
        )
    first, second = (parse(role) for role in role_cfgs)
    if not _same_network(first.network, second.network):
        warn_user(
            f"{where}.{second.role}.network differs from {where}.{first.role}.network; with separate: False the "
            f"shared layers are {first.role}'s network (as in skrl), and {second.role}'s network is not used"
        )
    names = {container.name for container in first.network}
    if second.output is not None:
        unknown = [name for name in second.output.names if name not in names and name not in OUTPUT_TOKENS]
        if unknown:
            raise ValueError(
                f"{where}.{second.role}.output reads {unknown}, which are not containers of the shared network "
                f"({sorted(names)}: {first.role}'s network)"
            )
    second = dataclasses.replace(second, network=first.network)
    model = build_model([first, second], observation_space, action_space, skrl_api, state_space)
    return {first.role: model, second.role: model}
