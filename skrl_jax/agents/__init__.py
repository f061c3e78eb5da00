"""Agents: skrl's agent API over pure update functions."""
