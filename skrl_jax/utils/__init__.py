"""Helpers shared by models, agents and environments."""
