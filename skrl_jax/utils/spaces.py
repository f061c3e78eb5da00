"""skrl's ``skrl.utils.spaces`` path: the space helpers of ``skrl_jax.core.spaces``, re-exported."""

from skrl_jax.core.spaces import (
    SUPPORTED_SPACES,
    check_space,
    compute_space_size,
    dict_entries_message,
    flatten_sample,
    sample_space,
)

__all__ = [
    "SUPPORTED_SPACES",
    "check_space",
    "compute_space_size",
    "dict_entries_message",
    "flatten_sample",
    "sample_space",
]
