"""RandomMemory: skrl's memory as a pytree state and pure add / sample functions.

The buffer holds, for every tensor name, an array of shape ``(memory_size, num_envs, size)``;
``index`` is the next row to write and ``filled`` says whether the buffer wrapped around.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from skrl_jax.core.spaces import compute_space_size
from skrl_jax.core.validation import check_positive_int


class MemoryState(NamedTuple):
    tensors: dict[str, jax.Array]
    index: jax.Array
    filled: jax.Array


def memory_init(memory_size: int, num_envs: int, specs: Mapping[str, tuple[int, Any]]) -> MemoryState:
    """A zeroed buffer; ``specs`` maps each name to ``(size, dtype)``."""
    tensors = {name: jnp.zeros((memory_size, num_envs, size), dtype) for name, (size, dtype) in specs.items()}
    return MemoryState(tensors, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.bool_))


def memory_add(state: MemoryState, samples: Mapping[str, jax.Array]) -> MemoryState:
    """Write one row (one sample per environment) for the given names (pure, jittable).

    Each sample is reshaped to ``(num_envs, size)``; names not given keep their old row.
    """
    tensors = dict(state.tensors)
    for name, value in samples.items():
        buffer = tensors[name]
        row = jnp.reshape(jnp.asarray(value, buffer.dtype), buffer.shape[1:])
        tensors[name] = jax.lax.dynamic_update_index_in_dim(buffer, row, state.index, axis=0)
    memory_size = next(iter(state.tensors.values())).shape[0]
    index = state.index + 1
    return MemoryState(tensors, index % memory_size, state.filled | (index >= memory_size))


def memory_sample(
    state: MemoryState, key: jax.Array, names: Sequence[str], batch_size: int, replacement: bool = True
) -> dict[str, jax.Array]:
    """``batch_size`` transitions drawn uniformly from the filled part, each ``(batch_size, size)`` (pure).

    With ``replacement=False`` no transition is drawn twice (Gumbel top-k over the whole buffer,
    so each draw costs time in the buffer's size) while the filled part holds at least
    ``batch_size``; before that, the batch is every filled transition in random order, repeated
    to ``batch_size`` rows (skrl returns the shorter batch, which a compiled update's fixed shapes
    cannot).
    """
    first = state.tensors[names[0]]
    memory_size, num_envs = first.shape[:2]
    rows = jnp.where(state.filled, memory_size, state.index)
    filled = jnp.maximum(rows, 1) * num_envs
    if replacement:
        flat_index = jax.random.randint(key, (batch_size,), 0, filled)
    else:
        scores = jax.random.gumbel(key, (memory_size * num_envs,))
        scores = jnp.where(jnp.arange(memory_size * num_envs) < filled, scores, -jnp.inf)
        drawn = jax.lax.top_k(scores, batch_size)[1]  # the filled ones first, in random order
        flat_index = drawn[jnp.arange(batch_size) % jnp.minimum(filled, batch_size)]
    return {name: state.tensors[name].reshape(memory_size * num_envs, -1)[flat_index] for name in names}


@functools.partial(jax.jit, donate_argnums=0)
def _add(state: MemoryState, samples: dict[str, jax.Array]) -> MemoryState:
    return memory_add(state, samples)


class RandomMemory:
    """skrl's ``RandomMemory(memory_size, num_envs, device, ...)`` over a ``MemoryState``.

    ``create_tensor`` declares a tensor, ``add_samples`` writes one row through one compiled
    call, ``sample_all`` / ``sample`` read it back. ``state`` is the pytree the pure
    functions (and the compiled agents) use.
    """

    def __init__(
        self, memory_size: int, num_envs: int = 1, device: Any = None, replacement: bool | None = None, **kwargs: Any
    ):
        self.memory_size = check_positive_int(memory_size, "RandomMemory: memory_size")
        self.num_envs = check_positive_int(num_envs, "RandomMemory: num_envs")
        self.device = device
        if replacement is not None and not isinstance(replacement, bool):
            raise TypeError(f"RandomMemory: replacement must be True, False or None, got {replacement!r}")
        self._replacement_given = replacement  # None: the agent given this memory resolves it
        self._replacement = True if replacement is None else replacement  # skrl 1.4's default on its own
        self._specs: dict[str, tuple[int, Any]] = {}
        self._state_binding: tuple[Callable[[], MemoryState], Callable[[MemoryState], None]] | None = None
        self._state: MemoryState | None = None
        self._key = jax.random.key(0)

    @property
    def replacement(self) -> bool:
        """Whether ``sample`` (and an agent's update) draws with replacement: as given, else as
        ``default_replacement`` resolved it (True until then)."""
        return self._replacement

    def default_replacement(self, replacement: bool) -> bool:
        """Resolve ``replacement=None``: an agent given this memory sets its API's default (skrl 1.4:
        True; skrl 2.1: False); a ``replacement`` given to the constructor stays. Returns the value."""
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomMemory.default_replacement: expected True or False, got {replacement!r}")
        if self._replacement_given is None:
            self._replacement = replacement
        return self._replacement

    @property
    def state(self) -> MemoryState | None:
        """The buffer: the agent's, once an agent records into this memory (one place holds it)."""
        return self._state_binding[0]() if self._state_binding is not None else self._state

    @state.setter
    def state(self, value: MemoryState | None) -> None:
        if self._state_binding is not None:
            self._state_binding[1](value)
        else:
            self._state = value

    @property
    def specs(self) -> dict[str, tuple[int, Any]]:
        """Each tensor's ``(size, dtype)``, as ``create_tensor`` declared them."""
        return dict(self._specs)

    def bind_state(self, read: Callable[[], MemoryState] | None, write: Callable[[MemoryState], None]) -> None:
        """Make ``memory.state`` read and assign through an agent's state (``None`` unbinds)."""
        if read is None:
            self._state, self._state_binding = self.state, None
        else:
            self._state_binding = (read, write)

    def __len__(self) -> int:
        if self.state is None:
            return 0
        return self.memory_size * self.num_envs if bool(self.state.filled) else int(self.state.index) * self.num_envs

    def create_tensor(self, name: str, size: Any, dtype: Any = jnp.float32, keep_dimensions: bool = False) -> bool:
        """Declare a tensor of ``size`` values per sample (an int, a shape or a gymnasium space)."""
        size = compute_space_size(size, occupied_size=True)
        if name in self._specs:
            if self._specs[name][0] != size:
                raise ValueError(f"tensor {name!r} exists with size {self._specs[name][0]}, asked for {size}")
            return False
        self._specs[name] = (size, dtype)
        self.state = memory_init(self.memory_size, self.num_envs, self._specs)
        return True

    def add_samples(self, **tensors: Any) -> None:
        """Write one row: each tensor holds ``num_envs`` samples; names never created are ignored."""
        samples = {name: value for name, value in tensors.items() if name in self._specs and value is not None}
        self.state = _add(self.state, samples)

    def get_tensor_by_name(self, name: str, keepdim: bool = True) -> jax.Array:
        tensor = self.state.tensors[name]
        return tensor if keepdim else tensor.reshape(-1, tensor.shape[-1])

    def set_tensor_by_name(self, name: str, tensor: jax.Array) -> None:
        tensors = dict(self.state.tensors)
        tensors[name] = jnp.reshape(jnp.asarray(tensor, tensors[name].dtype), tensors[name].shape)
        self.state = self.state._replace(tensors=tensors)

    def sample_all(self, names: Sequence[str], mini_batches: int = 1) -> list[list[jax.Array]]:
        """All samples, flattened to ``(memory_size * num_envs, size)``, split in order into ``mini_batches`` (as skrl)."""
        views = [self.get_tensor_by_name(name, keepdim=False) for name in names]
        batches = np.array_split(np.arange(views[0].shape[0]), mini_batches)
        return [[view[batch] for view in views] for batch in batches]

    def sample(self, names: Sequence[str], batch_size: int, mini_batches: int = 1) -> list[list[jax.Array]]:
        """``batch_size`` random samples (host convenience; the key advances on the host)."""
        self._key, key = jax.random.split(self._key)
        sampled = memory_sample(self.state, key, names, batch_size, self.replacement)
        batches = np.array_split(np.arange(batch_size), mini_batches)
        return [[sampled[name][batch] for name in names] for batch in batches]
