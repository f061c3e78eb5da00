"""``export_policy`` and ``load_policy``: a trained policy as a StableHLO or ONNX artefact, and back.

An artefact computes ``policy_function`` (``skrl_jax.agents.deployment``): raw observations in,
actions out, the preprocessor's statistics folded in as constants, only the policy's path (a
value head sharing the trunk is not in it). Its inputs are positional and flat, in the order
the metadata lists them:

- the observation's arrays (one for a Box; a Dict's entries in sorted key order, a Tuple's in
  order), each ``(batch, *entry_shape)`` with a free batch size;
- for a recurrent policy, its hidden states ``(num_layers, batch, hidden_size)``;
- for a stochastic artefact (StableHLO only), a key as its raw data, ``uint32[2]``
  (``jax.random.key_data(jax.random.key(seed))``).

Its outputs are the actions ``(batch, action_size)`` (int32 for discrete actions), then the next
hidden states of a recurrent policy. A StableHLO artefact (``jax.export``) runs after
``jax.export.deserialize`` with jax alone; an ONNX one (``jax2onnx``, the ``export`` extra) in
onnxruntime.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.agents.deployment import (
    DeployedPolicy,
    example_arguments,
    is_recurrent,
    policy_function,
    policy_kind,
)
from skrl_jax.core.checkpoints import write_atomically
from skrl_jax.export.metadata import (
    ARTEFACT_FORMATS,
    ExportError,
    check_expected,
    describe_space,
    read_metadata,
    write_metadata,
)
from skrl_jax.models.base import Model
from skrl_jax.resources.preprocessors import RunningStandardScaler

VALUE_ROLES = ("value", "critic", "critic_1", "critic_2")


def deployed(
    source: Any, params: Any = None, role: str | None = None, preprocessor: RunningStandardScaler | None = None
) -> DeployedPolicy:
    """The ``DeployedPolicy`` of an agent (``agent.deployed_policy()``), a model, or a
    ``DeployedPolicy``; ``params`` replaces the parameters it holds (a seed's, from a
    ``CompiledTrainer`` run). A model acts with ``role`` ("policy" by default) and
    ``preprocessor`` (a ``RunningStandardScaler``, its ``state`` folded in)."""
    if isinstance(source, DeployedPolicy):
        policy = source
    elif isinstance(source, Model):
        policy = DeployedPolicy(
            source,
            _policy_role(source, role),
            source.params,
            preprocessor,
            None if preprocessor is None else preprocessor.state,
        )
    elif callable(getattr(source, "deployed_policy", None)):
        policy = source.deployed_policy()
    else:
        raise TypeError(
            f"export_policy exports an agent, a skrl_jax Model or a DeployedPolicy, got {type(source).__name__}"
        )
    if params is not None:
        policy = policy._replace(params=params)
    if policy.params is None:
        raise ExportError(
            f"{type(policy.model).__name__} has no parameters to export: pass params=..., or initialise the model"
        )
    policy.model.check_params(policy.params, policy.model.sample_inputs(jax.random.key(0)), (policy.role,))
    return policy


def _policy_role(model: Model, role: str | None) -> str:
    roles = tuple(model.roles)
    if role is not None:
        if role not in roles:
            raise ExportError(f"{type(model).__name__} has no role {role!r} (its roles: {list(roles)})")
        if role in VALUE_ROLES:
            raise ExportError(f"role {role!r} of {type(model).__name__} is a value function, not a policy")
        return role
    if "policy" in roles:
        return "policy"
    if "q_network" in roles:
        return "q_network"
    if all(name in VALUE_ROLES for name in roles):
        raise ExportError(
            f"{type(model).__name__} is a value-only model (roles {list(roles)}): there is no policy to export; "
            "export the model (or agent) that acts"
        )
    raise ExportError(f"{type(model).__name__} declares roles {list(roles)}: pass role= to name the one that acts")


class Signature(NamedTuple):
    """The flat positional form of a policy function: its inputs' names and specs, its outputs' names."""

    function: Callable[..., tuple]
    input_names: list[str]
    input_specs: list[jax.ShapeDtypeStruct]
    output_names: list[str]
    batch_axes: list[int | None]  # where each input's free batch axis is (None: the key)


def flat_signature(policy: DeployedPolicy, stochastic: bool, batch: Any) -> Signature:
    """``policy_function(policy, stochastic)`` over flat positional inputs with ``batch`` rows (an int or
    a symbolic dimension), returning the actions (a recurrent policy: a tuple, the next hidden states after)."""
    act = policy_function(policy, stochastic)
    arguments = example_arguments(policy, 1, stochastic)
    observation_leaves, observation_tree = jax.tree.flatten(arguments[0])
    paths = [
        jax.tree_util.keystr(path, simple=True, separator="/") for path, _ in jax.tree.leaves_with_path(arguments[0])
    ]
    names = [f"observations/{path}" if path else "observations" for path in paths]
    specs = [jax.ShapeDtypeStruct((batch, *leaf.shape[1:]), leaf.dtype) for leaf in observation_leaves]
    axes: list[int | None] = [0] * len(specs)
    recurrent = is_recurrent(policy)
    hidden = arguments[1] if recurrent else []
    names += [f"rnn_{index}" for index in range(len(hidden))]
    specs += [jax.ShapeDtypeStruct((h.shape[0], batch, *h.shape[2:]), h.dtype) for h in hidden]
    axes += [1] * len(hidden)
    if stochastic:
        names.append("key")
        specs.append(jax.ShapeDtypeStruct((2,), jnp.uint32))
        axes.append(None)
    count = len(observation_leaves)

    def function(*inputs: Any) -> Any:
        observations = jax.tree.unflatten(observation_tree, inputs[:count])
        rest: list[Any] = []
        if recurrent:
            rest.append(list(inputs[count : count + len(hidden)]))
        if stochastic:
            rest.append(jax.random.wrap_key_data(inputs[-1]))
        result = act(observations, *rest)
        return (result[0], *result[1]) if recurrent else result

    output_names = ["actions", *[f"next_rnn_{index}" for index in range(len(hidden))]]
    return Signature(function, names, specs, output_names, axes)


def _stablehlo_bytes(policy: DeployedPolicy, stochastic: bool) -> tuple[bytes, Signature]:
    batch = jax.export.symbolic_shape("batch")[0]
    signature = flat_signature(policy, stochastic, batch)
    exported = jax.export.export(jax.jit(signature.function))(*signature.input_specs)
    return bytes(exported.serialize()), signature


def _onnx_bytes(policy: DeployedPolicy, stochastic: bool) -> tuple[bytes, Signature]:
    if stochastic:
        raise ExportError("an ONNX artefact is greedy only (stochastic=False); a stochastic one exports as StableHLO")
    if sys.version_info < (3, 11):
        raise ExportError(
            f"ONNX export needs jax2onnx, which needs Python >= 3.11 (this is {sys.version.split()[0]}); "
            "a StableHLO artefact (format='stablehlo') works here"
        )
    try:
        from jax2onnx import to_onnx
    except ImportError as error:
        raise ExportError(
            f"ONNX export needs jax2onnx (Python >= 3.11): pip install 'skrl_jax[export]' (import failed: {error})"
        ) from None
    signature = flat_signature(policy, stochastic, 1)
    inputs = [
        tuple("batch" if axis == signature.batch_axes[index] else size for axis, size in enumerate(spec.shape))
        for index, spec in enumerate(signature.input_specs)
    ]
    integer = any(not jnp.issubdtype(spec.dtype, jnp.floating) for spec in signature.input_specs)
    specs = (
        [jax.ShapeDtypeStruct(shape, spec.dtype) for shape, spec in zip(inputs, signature.input_specs)]
        if integer
        else inputs
    )
    serializer_log = logging.getLogger("onnx_ir.serde")  # warns of shape constants it leaves untyped
    level = serializer_log.level
    serializer_log.setLevel(logging.ERROR)
    try:
        proto = to_onnx(
            signature.function,
            inputs=specs,
            model_name="skrl_jax_policy",
            input_names=signature.input_names,
            output_names=signature.output_names,
        )
    finally:
        serializer_log.setLevel(level)
    return proto.SerializeToString(), signature


def export_policy(
    source: Any,
    params: Any = None,
    path: str | os.PathLike = "policy.stablehlo",
    *,
    format: str | None = None,
    stochastic: bool = False,
    role: str | None = None,
    preprocessor: RunningStandardScaler | None = None,
) -> Path:
    """Export the policy of ``source`` (an agent, a ``Model`` or a ``DeployedPolicy``) to ``path``,
    with its metadata beside it (``<path>.json``).

    Args:
        params: the parameters to export (default: those ``source`` holds).
        format: ``"stablehlo"`` or ``"onnx"``; by default from the suffix (``.onnx`` is ONNX).
        stochastic: a sampling artefact taking a key (StableHLO only); greedy by default.
        role: for a bare model: the role that acts ("policy").
        preprocessor: for a bare model: the observations' ``RunningStandardScaler`` (its current
            ``state`` is folded in).

    Returns the artefact's path. Both files are written atomically.
    """
    path = Path(path)
    format = format if format is not None else ("onnx" if path.suffix == ".onnx" else "stablehlo")
    if format not in ARTEFACT_FORMATS:
        raise ExportError(f"format must be one of {ARTEFACT_FORMATS}, got {format!r}")
    policy = deployed(source, params, role, preprocessor)
    kind = policy_kind(policy)
    if stochastic and kind in ("deterministic", "q_values"):
        raise ExportError(f"a stochastic export needs a stochastic policy; this one is {kind!r}")
    data, signature = (_onnx_bytes if format == "onnx" else _stablehlo_bytes)(policy, stochastic)
    model = policy.model
    scaler = policy.preprocessor
    fields = {
        "artefact": format,
        "policy_kind": kind,
        "stochastic": bool(stochastic),
        "observation_space": describe_space(model.observation_space),
        "action_space": describe_space(model.action_space),
        "inputs": [
            {
                "name": name,
                "shape": ["batch" if axis == batch_axis else size for axis, size in enumerate(spec.shape)],
                "dtype": str(np.dtype(spec.dtype)),
            }
            for name, spec, batch_axis in zip(signature.input_names, signature.input_specs, signature.batch_axes)
        ],
        "outputs": signature.output_names,
        "recurrent": [list(size) for size in model.recurrent_sizes()],
        "preprocessor": None
        if scaler is None
        else {
            "kind": type(scaler).__name__,
            "folded_in": True,
            "epsilon": scaler.epsilon,
            "clip_threshold": scaler.clip_threshold,
        },
    }
    write_atomically(path, data)
    write_metadata(path, data, fields)
    return path


class ExportedPolicy:
    """A loaded artefact: ``policy(observations, rnn=None, key=None)`` returns the actions (and the
    next hidden states of a recurrent policy) as numpy arrays; ``metadata`` is its metadata."""

    def __init__(self, path: Path, metadata: dict[str, Any], run: Callable[[list[np.ndarray]], list[Any]]) -> None:
        self.path = path
        self.metadata = metadata
        self._run = run

    def __call__(self, observations: Any, rnn: Sequence[Any] | None = None, key: Any = None) -> Any:
        inputs = [np.asarray(leaf) for leaf in jax.tree.leaves(observations)]
        if self.metadata["recurrent"]:
            if rnn is None:
                raise ExportError(f"{self.path} is a recurrent policy: pass rnn=[hidden states] (zeros to start)")
            inputs += [np.asarray(h, np.float32) for h in rnn]
        if self.metadata["stochastic"]:
            if key is None:
                raise ExportError(f"{self.path} samples its actions: pass key=jax.random.key(seed)")
            inputs.append(
                np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key)
            )
        specs = self.metadata["inputs"]
        if len(inputs) != len(specs):
            raise ExportError(
                f"{self.path} takes {len(specs)} inputs ({[spec['name'] for spec in specs]}), got {len(inputs)}"
            )
        for value, spec in zip(inputs, specs):
            expected = tuple(spec["shape"])
            fits = len(value.shape) == len(expected) and all(
                want == "batch" or want == got for want, got in zip(expected, value.shape)
            )
            if not fits:
                raise ExportError(
                    f"{self.path}: input {spec['name']!r} must have shape {list(expected)}, got {list(value.shape)}"
                )
        inputs = [value.astype(spec["dtype"]) for value, spec in zip(inputs, specs)]
        outputs = [np.asarray(output) for output in self._run(inputs)]
        return (outputs[0], outputs[1:]) if self.metadata["recurrent"] else outputs[0]


def load_policy(
    path: str | os.PathLike,
    *,
    observation_space: Any = None,
    action_space: Any = None,
    policy_kind: str | None = None,
) -> ExportedPolicy:
    """Load an artefact written by ``export_policy``, after checking its metadata against its bytes
    and against the spaces and policy kind given (each optional). ONNX needs onnxruntime."""
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"no exported policy at {path}")
    data = path.read_bytes()
    metadata = read_metadata(path, data)
    check_expected(
        metadata, path, observation_space=observation_space, action_space=action_space, policy_kind=policy_kind
    )
    if metadata.get("artefact") == "onnx":
        return ExportedPolicy(path, metadata, _onnx_runner(path, data))
    return ExportedPolicy(path, metadata, _stablehlo_runner(path, data))


def _stablehlo_runner(path: Path, data: bytes) -> Callable[[list[np.ndarray]], list[Any]]:
    try:
        exported = jax.export.deserialize(bytearray(data))
    except Exception as error:  # flatbuffers raise several types on foreign bytes
        raise ExportError(f"{path} is not a StableHLO artefact written by jax.export: {error}") from None

    def run(inputs: list[np.ndarray]) -> list[Any]:
        outputs = exported.call(*inputs)
        return list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]

    return run


def _onnx_runner(path: Path, data: bytes) -> Callable[[list[np.ndarray]], list[Any]]:
    try:
        import onnxruntime
    except ImportError:
        raise ExportError(
            f"{path} is an ONNX artefact: running it needs onnxruntime (pip install 'skrl_jax[export]')"
        ) from None
    try:
        session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    except Exception as error:
        raise ExportError(f"{path} is not an ONNX model onnxruntime can load: {error}") from None
    names = [node.name for node in session.get_inputs()]
    return lambda inputs: session.run(None, dict(zip(names, inputs)))
