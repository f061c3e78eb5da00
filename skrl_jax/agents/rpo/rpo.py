"""RPO (skrl's ``RPO`` and ``RPO_DEFAULT_CONFIG``): PPO that passes ``alpha`` to the models.

As in skrl, every policy and value call gets ``inputs["alpha"]`` (and ``inputs["key"]``); the
policy's ``compute`` uses them to perturb its mean, e.g.
``mean + jax.random.uniform(inputs["key"], mean.shape, minval=-alpha, maxval=alpha)``.
"""

from __future__ import annotations

from skrl_jax.agents.configs import RPO_CFG
from skrl_jax.agents.ppo.ppo import PPO, PPO_DEFAULT_CONFIG

RPO_DEFAULT_CONFIG = {
    **{
        key: value
        for key, value in PPO_DEFAULT_CONFIG.items()
        if key in ("rollouts", "learning_epochs", "mini_batches")
    },
    "alpha": 0.5,
    **{
        key: value
        for key, value in PPO_DEFAULT_CONFIG.items()
        if key not in ("rollouts", "learning_epochs", "mini_batches")
    },
}


class RPO(PPO):
    """Robust Policy Optimization with skrl's configuration keys and defaults."""

    default_config = RPO_DEFAULT_CONFIG
    config_class = RPO_CFG
    uses_alpha = True


class RPO_RNN(RPO):  # noqa: N801 (skrl's name)
    """skrl's ``RPO_RNN``: RPO with recurrent models, trained on whole sequences (as ``PPO_RNN``)."""

    recurrent = True
