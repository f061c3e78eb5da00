"""Resources used by the agents: preprocessors and learning-rate schedulers, as pure state + functions."""
