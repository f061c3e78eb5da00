"""What differs between skrl 1.4's and skrl 2.x's model API, as explicit settings of a model.

``Model.__init__`` turns the API a model is built with (``skrl_api``) into one ``ModelConventions``,
``model.conventions``; the rest of the model (inputs, mixins, ``act``) reads only its fields.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ModelConventions:
    """How a model names its inputs and what ``compute`` and ``act`` return.

    Attributes:
        observation_input: the key of the observations in the inputs a caller passes and in those
            ``compute`` reads: ``"states"`` (skrl 1.4) or ``"observations"`` (skrl 2.x).
        privileged_state_input: the key of the environment's privileged state in those inputs:
            ``"states"`` (skrl 2.x; ``compute`` reads None there when the environment has none), or
            None when the model has no such input (skrl 1.4).
        log_std_in_outputs: a Gaussian role's ``compute`` returns ``mean_actions, {"log_std": ..., ...}``
            (True, skrl 2.x) rather than ``(mean_actions, log_std, outputs)`` (False, skrl 1.4).
        log_prob_in_outputs: ``act`` returns ``(actions, outputs)`` with ``outputs["log_prob"]`` (left
            out for a deterministic role) (True, skrl 2.x) rather than ``(actions, log_prob, outputs)``
            (False, skrl 1.4).
        multivariate_squared_scale: the default of ``MultivariateGaussianMixin``'s ``squared_scale``:
            True, skrl 1.4's ``scale_tril = diag(exp(log_std) ** 2)`` (each action's standard
            deviation is ``exp(2 * log_std)``); False, skrl 2.x's ``diag(exp(log_std))``.
    """

    observation_input: str
    privileged_state_input: str | None
    log_std_in_outputs: bool
    log_prob_in_outputs: bool
    multivariate_squared_scale: bool


SKRL_1_4_CONVENTIONS = ModelConventions(
    observation_input="states",
    privileged_state_input=None,
    log_std_in_outputs=False,
    log_prob_in_outputs=False,
    multivariate_squared_scale=True,
)
SKRL_2_CONVENTIONS = ModelConventions(
    observation_input="observations",
    privileged_state_input="states",
    log_std_in_outputs=True,
    log_prob_in_outputs=True,
    multivariate_squared_scale=False,
)
