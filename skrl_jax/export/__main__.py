"""``python -m skrl_jax.export``: a checkpoint to a StableHLO or ONNX policy.

A checkpoint holds state, not the model's definition, so the command also takes where the agent
comes from: ``BUILDER``, a function that builds it as the training script did (same models, spaces,
cfg and memory), named ``package.module:function`` or ``path/to/script.py:function``. It may
return an agent (its checkpoint: ``agent.save`` / the trainers' ``checkpoints/agent_<t>.ckpt``) or
a model (its checkpoint: ``model.save``, or ``store_separately``'s per-model files).

    python -m skrl_jax.export examples/export_pendulum.py:build_agent \\
        --checkpoint runs/.../checkpoints/best_agent.ckpt --output policy.onnx
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

from skrl_jax.export.artefacts import export_policy, load_policy
from skrl_jax.export.metadata import ExportError, metadata_path
from skrl_jax.models.base import Model


def builder(spec: str) -> Any:
    """The function ``spec`` names (``module:function`` or ``file.py:function``)."""
    location, separator, name = spec.rpartition(":")
    if not separator or not location or not name:
        raise ExportError(f"BUILDER must be 'module:function' or 'path/to/file.py:function', got {spec!r}")
    if location.endswith(".py"):
        path = Path(location)
        if not path.is_file():
            raise ExportError(f"BUILDER {spec!r}: no file {path}")
        module_spec = importlib.util.spec_from_file_location(f"skrl_jax_export_builder_{path.stem}", path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_spec.name] = module
        module_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(location)
        except ModuleNotFoundError as error:
            raise ExportError(f"BUILDER {spec!r}: cannot import {location} ({error})") from None
    function = getattr(module, name, None)
    if not callable(function):
        raise ExportError(f"BUILDER {spec!r}: {location} has no function {name!r}")
    return function


def restored(source: Any, checkpoint: Path | None) -> Any:
    """``source`` (an agent or a model) with the checkpoint's parameters and statistics."""
    if isinstance(source, Model):
        if checkpoint is not None:
            source.load(str(checkpoint))
        return source
    if not callable(getattr(source, "deployed_policy", None)):
        raise ExportError(f"BUILDER returned a {type(source).__name__}; expected an agent or a skrl_jax Model")
    if source.state is None:
        source.init({"timesteps": 0})
    if checkpoint is not None:
        source.load(checkpoint)
    return source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m skrl_jax.export", description=__doc__.split("\n\n")[0])
    parser.add_argument("builder", metavar="BUILDER", help="module:function or file.py:function building the agent")
    parser.add_argument("--checkpoint", type=Path, help="the agent's (or model's) checkpoint; none: its current state")
    parser.add_argument("--output", type=Path, required=True, help="the artefact to write (.onnx: ONNX)")
    parser.add_argument("--format", choices=("stablehlo", "onnx"), help="default: from --output's suffix")
    parser.add_argument("--stochastic", action="store_true", help="a sampling artefact with a key input (StableHLO)")
    args = parser.parse_args(argv)
    try:
        source = restored(builder(args.builder)(), args.checkpoint)
        path = export_policy(source, None, args.output, format=args.format, stochastic=args.stochastic)
        metadata = load_policy(path).metadata
    except ExportError as error:
        parser.exit(2, f"error: {error}\n")
    inputs = ", ".join(f"{entry['name']} {entry['dtype']}{entry['shape']}" for entry in metadata["inputs"])
    print(f"wrote {path} ({metadata['artefact']}, {metadata['policy_kind']} policy) and {metadata_path(path)}")
    print(f"inputs: {inputs}; outputs: {', '.join(metadata['outputs'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
