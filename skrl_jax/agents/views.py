"""``StateViews``: the user's model and memory objects as views of an agent's one state.

skrl's users read ``model.params`` (or ``model.state_dict``) and a memory's tensors; here the
parameters and the rollout live in the agent's state pytree, and these objects read it through
the accessors bound below. Reading the parameters is a plain read (recording never changes them);
reading the memory writes the pending transition first (``Agent.state``).
"""

from __future__ import annotations

from typing import Any


class StateViews:
    """The single-agent views: each distinct model reads ``state.learner.params[key]``, the memory
    ``state.memory`` (a subclass narrows it with ``_memory_buffer``)."""

    models: dict[str, Any]
    memory: Any
    _state: Any
    _bound: bool

    def parameter_keys(self) -> dict[str, Any]:
        """Each distinct model under the first key it was passed with (the keys of ``learner.params``)."""
        keys: dict[str, Any] = {}
        for name, model in self.models.items():
            if model is not None and all(model is not other for other in keys.values()):
                keys[name] = model
        return keys

    def held_params(self) -> Any:
        """The parameters the models already hold, to start from (what ``functions.init`` takes)."""
        return {name: model.params for name, model in self.parameter_keys().items() if model.params is not None}

    def _bind(self) -> None:
        """``model.params`` and ``memory.state`` become views of this agent's state. Reading the
        parameters is a plain read (recording never changes them); reading the memory writes the
        pending transition first."""
        self._bound = True

        def write_params(name: str, params: Any) -> None:
            learner = self._state.learner
            self.state = self._state._replace(learner=learner._replace(params={**learner.params, name: params}))

        for name, model in self.parameter_keys().items():
            model.bind_params(
                lambda name=name: self._state.learner.params[name], lambda value, name=name: write_params(name, value)
            )
        if self.memory is not None and hasattr(self.memory, "bind_state"):
            self.memory.bind_state(self._memory_buffer, self._set_memory_buffer)

    def _memory_buffer(self) -> Any:
        """The part of ``state.memory`` that the user's memory object shows (all of it by default)."""
        return self.state.memory

    def _set_memory_buffer(self, buffer: Any) -> None:
        self.state = self.state._replace(memory=buffer)
