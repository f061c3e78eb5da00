"""Agents: skrl's agent API over pure update functions (skrl 1.4's and 2.x's calls and configurations)."""

from skrl_jax.agents.configs import AgentCfg, ExperimentCfg

__all__ = ["AgentCfg", "ExperimentCfg"]
