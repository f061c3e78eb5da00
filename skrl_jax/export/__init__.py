"""Ship a trained policy: StableHLO / ONNX artefacts (``export_policy``, ``load_policy``).

``python -m skrl_jax.export --help`` is the command-line form.
"""

from skrl_jax.agents.deployment import DeployedPolicy, policy_function
from skrl_jax.export.artefacts import ExportedPolicy, export_policy, load_policy
from skrl_jax.export.metadata import ExportError, metadata_path

__all__ = [
    "DeployedPolicy",
    "ExportError",
    "ExportedPolicy",
    "export_policy",
    "load_policy",
    "metadata_path",
    "policy_function",
]
