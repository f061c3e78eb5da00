"""Read a pickle that holds plain data only, executing nothing.

skrl's JAX agents save their checkpoints as a pickle of ``{module name: flax bytes}``. Unpickling
with ``pickle.load`` runs whatever the file names (any importable callable, with any arguments).
``load_plain_data`` builds only what the pickle opcodes build by themselves (dicts, lists,
tuples, strings, bytes, numbers, booleans, None): every reference to a class or a function, by
name, by extension code or by persistent id, is refused before it is looked up, so nothing in the
file is imported or called.
"""

from __future__ import annotations

import io
import pickle
from typing import Any

PLAIN_TYPES = (dict, list, tuple, str, bytes, bytearray, int, float, bool, type(None))


class UnsafePickleError(ValueError):
    """A pickle that refers to code (a class or function) or holds anything but plain data."""


class _PlainDataUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        raise UnsafePickleError(
            f"{self.source} refers to {module}.{name}: a pickle that imports or calls code is refused "
            "(skrl's checkpoints hold only dicts of bytes)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(f"{self.source} refers to an external object ({pid!r}); refused")


def _check_plain(value: Any, source: str, depth: int = 0) -> None:
    if depth > 100 or not isinstance(value, PLAIN_TYPES):
        raise UnsafePickleError(f"{source} holds a {type(value).__name__}, not plain data")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key, source, depth + 1)
            _check_plain(item, source, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_plain(item, source, depth + 1)


def load_plain_data(data: bytes, source: str = "the pickle") -> Any:
    """The plain data a pickle holds; an ``UnsafePickleError`` (before anything runs) for one that
    refers to code, a ``ValueError`` for one that is truncated or not a pickle."""
    try:
        value = _PlainDataUnpickler(io.BytesIO(data), source).load()
    except UnsafePickleError:
        raise
    except Exception as error:  # truncated or foreign bytes raise several types
        raise ValueError(f"{source} is not a readable pickle (truncated or another format?): {error}") from None
    _check_plain(value, source)
    return value
