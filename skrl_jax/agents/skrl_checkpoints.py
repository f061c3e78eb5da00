"""skrl's own agent checkpoints, loaded into skrl_jax agents (``agent.load`` reads them too).

- skrl's JAX agents (1.4.3 and 2.x) save a pickle of ``{module name: flax bytes}``. It is read
  with ``core.safe_pickle`` (plain data only: nothing in the file is imported or called), then
  each module's bytes with flax's msgpack reader.
- skrl's PyTorch agents save ``{module name: state_dict}`` with ``torch.save``. It is read with
  ``torch.load(weights_only=True)`` (torch is optional) and each model's tensors are mapped onto
  the parameters by layer order and shape (``torch_mapping``), the mapping printed and refused
  where it is ambiguous.

Model parameters and the preprocessors' statistics are loaded; optimizer states are not (training
restarts its optimizer), nor the timestep (skrl's checkpoints do not hold it). Module names are
skrl's: the agent's model keys, and the preprocessors' names of the agent's API (1.4:
``state_preprocessor`` for the observations; 2.x: ``observation_preprocessor``, and
``state_preprocessor`` for the privileged states), ``value_preprocessor``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.core.checkpoints import CheckpointError, restore, summarize_differences, tree_differences
from skrl_jax.core.safe_pickle import load_plain_data
from skrl_jax.resources.preprocessors import ScalerState

TORCH_ZIP_MAGIC = b"PK\x03\x04"


def checkpoint_format(path: str | os.PathLike) -> str:
    """``"skrl_jax"`` (our msgpack), ``"skrl_jax_pickle"`` (skrl's JAX agents) or ``"torch"`` (skrl's
    PyTorch agents), from the file's first bytes."""
    with open(path, "rb") as file:
        head = file.read(4)
    if head.startswith(TORCH_ZIP_MAGIC):
        return "torch"
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:
        return "skrl_jax_pickle"
    return "skrl_jax"


# --- reading the files ------------------------------------------------------------------------


def read_skrl_jax_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """``{module name: state dict}`` of a skrl JAX agent checkpoint, read without running any code."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    modules = load_plain_data(path.read_bytes(), str(path))
    if not isinstance(modules, dict) or not all(
        isinstance(name, str) and isinstance(data, (bytes, bytearray)) for name, data in modules.items()
    ):
        found = (
            type(modules).__name__
            if not isinstance(modules, dict)
            else {k: type(v).__name__ for k, v in modules.items()}
        )
        raise CheckpointError(
            f"{path} is not a skrl JAX agent checkpoint (a pickle of {{module name: flax bytes}}); it holds {found}"
        )
    states = {}
    for name, data in modules.items():
        try:
            states[name] = flax.serialization.msgpack_restore(bytes(data))
        except Exception as error:  # msgpack raises several types on foreign bytes
            raise CheckpointError(
                f"{path}: module {name!r} is not flax bytes (truncated or corrupt?): {error}"
            ) from None
    return states


def read_skrl_torch_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """``{module name: {tensor name: numpy array}}`` of a skrl PyTorch agent checkpoint, read with
    ``torch.load(weights_only=True)``."""
    try:
        import torch
    except ImportError:
        raise CheckpointError(f"{path} is a PyTorch checkpoint: reading it needs torch (pip install torch)") from None
    try:
        modules = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise CheckpointError(f"{path} is not a PyTorch checkpoint torch can read safely: {error}") from None
    if not isinstance(modules, Mapping):
        raise CheckpointError(f"{path} holds a {type(modules).__name__}, not skrl's {{module name: state_dict}}")
    return {
        name: {key: value.detach().cpu().numpy() for key, value in state.items() if isinstance(value, torch.Tensor)}
        for name, state in modules.items()
        if isinstance(state, Mapping)
    }


# --- what goes where --------------------------------------------------------------------------


class LoadReport(NamedTuple):
    """What ``load_skrl_checkpoint`` loaded: model keys, preprocessors, what it left (optimizer
    states...) and, for a PyTorch file, the mapping of each parameter (ours <- torch's)."""

    models: list[str]
    preprocessors: list[str]
    skipped: list[str]
    mapping: dict[str, list[tuple[str, str]]]


def _scalers(agent: Any, learner: Any) -> dict[str, Any]:
    """The agent's scaler states by slot (None where it has no preprocessor)."""
    state = learner.state_scaler
    privileged = getattr(getattr(agent, "config", None), "privileged_preprocessor", None) is not None
    observations, privileged_state = state if privileged else (state, None)
    return {
        "observations": observations,
        "privileged": privileged_state,
        "values": getattr(learner, "value_scaler", None),
    }


def _with_scalers(agent: Any, learner: Any, scalers: Mapping[str, Any]) -> Any:
    privileged = getattr(getattr(agent, "config", None), "privileged_preprocessor", None) is not None
    state = (scalers["observations"], scalers["privileged"]) if privileged else scalers["observations"]
    fields = {"state_scaler": state}
    if hasattr(learner, "value_scaler"):
        fields["value_scaler"] = scalers["values"]
    return learner._replace(**fields)


def _scaler_from(state: Any, target: ScalerState, source: str) -> ScalerState:
    names = ("running_mean", "running_variance", "current_count")
    if not isinstance(state, Mapping) or any(name not in state for name in names):
        raise CheckpointError(f"{source} is not a RunningStandardScaler's state (expected {list(names)})")
    # skrl's PyTorch scalers count in a 0-d tensor, ours (and skrl JAX's) in a (1,) array
    loaded = ScalerState(
        *(
            jnp.asarray(np.asarray(state[name]), jnp.float32).reshape(
                np.shape(old) if np.size(state[name]) == np.size(old) else np.shape(state[name])
            )
            for name, old in zip(names, target)
        )
    )
    differences = tree_differences(target._asdict(), loaded._asdict(), source=source, dtypes=False)
    if differences:
        raise CheckpointError(f"{source} does not fit the agent's preprocessor:{summarize_differences(differences)}")
    return loaded


def _same_arrays(a: Any, b: Any) -> bool:
    leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
    return jax.tree.structure(a) == jax.tree.structure(b) and all(
        np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(leaves_a, leaves_b)
    )


def _check_models(agent: Any, modules: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """``{parameter key: model}`` to load; refuses a checkpoint that lacks one or whose separate models
    this agent shares."""
    stored = agent.parameter_keys()
    for key, model in agent.models.items():
        if model is None or key in stored or key not in modules:
            continue
        owner = next(name for name, other in stored.items() if other is model)
        if owner in modules and _same_arrays(modules[key], modules[owner]):
            continue  # skrl's PyTorch agents save a shared model under each of its keys
        raise CheckpointError(
            f"{path} holds separate parameters for {owner!r} and {key!r}, but this agent passes one model under both "
            f"(a shared model): build the agent with separate models to load it (skrl's JAX agents have no shared models)"
        )
    missing = [key for key in stored if key not in modules]
    if missing:
        raise CheckpointError(
            f"{path} has no module {missing} for this agent's models (its modules: {sorted(modules)})"
        )
    return stored


def load_skrl_checkpoint(agent: Any, path: str | os.PathLike, format: str | None = None) -> LoadReport:
    """Load skrl's agent checkpoint at ``path`` (JAX pickle or PyTorch ``.pt``) into ``agent``
    (initialised: ``agent.init()``), checking every array's shape first; nothing changes on error."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    format = format or checkpoint_format(path)
    if format not in ("skrl_jax_pickle", "torch"):
        raise CheckpointError(f"{path} is not a skrl checkpoint (a JAX agent's pickle or a PyTorch agent's .pt)")
    agent._require_init("loading a skrl checkpoint")
    modules = read_skrl_torch_checkpoint(path) if format == "torch" else read_skrl_jax_checkpoint(path)
    learner = agent.state.learner
    stored = _check_models(agent, modules, path)
    params, mapping = dict(learner.params), {}
    for key in stored:
        source = f"{path} (module {key!r})"
        if format == "torch":
            from skrl_jax.agents.torch_mapping import map_torch_state

            state, mapping[key] = map_torch_state(modules[key], learner.params[key], source)
        else:
            state = modules[key]
            state = state["params"] if isinstance(state, Mapping) and set(state) == {"params"} else state
        params[key] = restore(learner.params[key], state, source)
    scalers, loaded_scalers = _scalers(agent, learner), []
    for name, slot in agent.skrl_preprocessor_names().items():
        has_module, has_scaler = name in modules, scalers[slot] is not None
        if has_module != has_scaler:
            raise CheckpointError(
                f"{path} {'has' if has_module else 'has no'} {name}, but the agent was built "
                f"{'without' if has_module else 'with'} one: build it as the checkpoint's agent was "
                f"(cfg['{name}'] {'= RunningStandardScaler' if has_module else '= None'})"
            )
        if has_module:
            scalers[slot] = _scaler_from(modules[name], scalers[slot], f"{path} ({name})")
            loaded_scalers.append(name)
    used = set(stored) | set(loaded_scalers) | {key for key in agent.models if key in modules}
    agent.state = agent.state._replace(learner=_with_scalers(agent, learner, scalers)._replace(params=params))
    return LoadReport(list(stored), loaded_scalers, sorted(set(modules) - used), mapping)


# --- the other direction ----------------------------------------------------------------------


def save_skrl_checkpoint(agent: Any, path: str | os.PathLike) -> Path:
    """Write ``agent``'s models and preprocessors as a skrl JAX agent checkpoint (a pickle of
    ``{module name: flax bytes}``, protocol 4, as skrl's ``agent.save``), which skrl's
    ``agent.load(path)`` reads into an agent built with the same models. Optimizer states are not
    written (skrl's load leaves a missing module as it is). Written atomically."""
    import pickle

    from skrl_jax.core.checkpoints import write_atomically

    agent._require_init("saving a skrl checkpoint")
    stored = agent.parameter_keys()
    shared = [key for key, model in agent.models.items() if model is not None and key not in stored]
    if shared:
        raise CheckpointError(
            f"{type(agent).__name__} passes one model under several keys ({shared} share another key's model): skrl's "
            "JAX agents have no shared models, so no skrl JAX agent can load this one"
        )
    learner = agent.state.learner
    modules = {key: flax.serialization.to_bytes({"params": jax.device_get(learner.params[key])}) for key in stored}
    scalers = _scalers(agent, learner)
    for name, slot in agent.skrl_preprocessor_names().items():
        if scalers[slot] is not None:
            mean, variance, count = jax.device_get(tuple(scalers[slot]))
            state = {"running_mean": mean, "running_variance": variance, "current_count": count}
            modules[name] = flax.serialization.to_bytes(state)
    return write_atomically(path, pickle.dumps(modules, protocol=4))
