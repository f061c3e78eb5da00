"""Checks of what a user passes in, made before anything is traced: cfg values and finite data.

Each error names the argument or cfg key, what was expected and what came, so that a typo or a
value out of range is reported where it was written instead of as a shape error, a NaN or a
silently wrong run much later.
"""

from __future__ import annotations

import dataclasses
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np


def describe(value: Any) -> str:
    """``value`` as it came, with its type (``'fast' (str)``), for the end of an error message."""
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f"{text} ({type(value).__name__})"


def _scalar_kind(value: Any) -> str:
    """numpy's dtype kind ("i", "u", "f", ...) of a 0-d numpy / JAX array, "" for anything else."""
    if getattr(value, "shape", None) != ():
        return ""
    try:
        return np.dtype(value.dtype).kind
    except (AttributeError, TypeError):  # no dtype, or one numpy does not know (a PRNG key)
        return ""


def _as_number(value: Any, integer: bool) -> float | int | None:
    """The Python number ``value`` stands for (a 0-d numpy / JAX array counts), else None; bools are not numbers here."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if integer:
        return int(value) if isinstance(value, numbers.Integral) or _scalar_kind(value) in ("i", "u") else None
    return float(value) if isinstance(value, numbers.Real) or _scalar_kind(value) in ("i", "u", "f") else None


@dataclasses.dataclass(frozen=True)
class Number:
    """A number, an int with ``integer``, within ``[low, high]`` (``low`` excluded with ``above``);
    ``words`` lists other accepted values (``None``, ``"auto"``)."""

    integer: bool = False
    low: float | None = None
    high: float | None = None
    above: bool = False
    words: tuple[Any, ...] = ()
    note: str = ""

    def expected(self) -> str:
        kind = "an int" if self.integer else "a number"
        if self.low is not None and self.high is not None:
            kind += f" in [{self.low}, {self.high}]"
        elif self.low is not None:
            kind += f" {'>' if self.above else '>='} {self.low}"
        words = " or ".join(repr(word) for word in self.words)
        return f"{words} or {kind}" if words else kind

    def check(self, value: Any, name: str) -> None:
        if any(value is word or (isinstance(value, str) and value == word) for word in self.words):
            return
        number = _as_number(value, self.integer)
        note = f" ({self.note})" if self.note else ""
        if number is None:
            raise TypeError(f"{name} must be {self.expected()}, got {describe(value)}{note}")
        too_low = self.low is not None and (number <= self.low if self.above else number < self.low)
        too_high = self.high is not None and number > self.high
        if too_low or too_high or number != number:  # the last one: NaN
            raise ValueError(f"{name} must be {self.expected()}, got {value!r}{note}")


@dataclasses.dataclass(frozen=True)
class Factory:
    """None or something to call (a class, e.g. ``RunningStandardScaler``); ``hint`` says what to pass."""

    hint: str = ""

    def check(self, value: Any, name: str) -> None:
        if value is None or callable(value):
            return
        hint = f"; {self.hint}" if self.hint else ""
        if isinstance(value, str):
            hint += " (pass the class itself, not its name as a string)"
        raise TypeError(f"{name} must be None or a class / callable, got {describe(value)}{hint}")


@dataclasses.dataclass(frozen=True)
class Keywords:
    """A dict of keyword arguments (``None`` is read as ``{}``)."""

    def check(self, value: Any, name: str) -> None:
        if value is not None and not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict of keyword arguments, got {describe(value)}")


@dataclasses.dataclass(frozen=True)
class Choice:
    """One of the strings ``options``."""

    options: tuple[str, ...]

    def check(self, value: Any, name: str) -> None:
        if not (isinstance(value, str) and value in self.options):
            raise ValueError(f"{name} must be one of {list(self.options)}, got {describe(value)}")


Rule = Number | Factory | Keywords | Choice


def check_config(cfg: Mapping[str, Any], rules: Mapping[str, Rule], owner: str, path: str = "cfg") -> None:
    """Check each key of ``cfg`` (and of the dicts nested in it) that ``rules`` knows.

    A key means the same in every agent's cfg (``discount_factor``, ``batch_size``, ...), so one
    table serves them all; keys without a rule are not checked.
    """
    for key, value in cfg.items():
        name = f"{owner}: {path}[{key!r}]"
        if isinstance(value, Mapping) and key not in rules:
            check_config(value, rules, owner, f"{path}[{key!r}]")
        elif key in rules:
            rules[key].check(value, name)


POSITIVE_INT = Number(integer=True, low=1)


def check_positive_int(value: Any, name: str) -> int:
    """``value`` as an int, or a ``TypeError`` / ``ValueError`` naming ``name`` when it is not an int >= 1."""
    POSITIVE_INT.check(value, name)
    return int(value)


def first_not_finite(values: Any) -> tuple[int, ...] | None:
    """The index of the first NaN / inf in ``values`` (any array-like), None when all are finite."""
    array = np.asarray(values)
    if not np.issubdtype(array.dtype, np.inexact):
        return None
    bad = ~np.isfinite(array)
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def raise_if_not_finite(values: Any, what: str, where: str, rows: str = "environment") -> None:
    """``ValueError`` naming ``what`` (e.g. "observations"), the row (environment) and the value when
    ``values`` holds a NaN or an inf; the first axis of a 2-d array is the environment."""
    index = first_not_finite(values)
    if index is None:
        return
    value = np.asarray(values)[index]
    row = f" in {rows} {index[0]}" if len(index) > 1 else ""
    raise ValueError(
        f"{where}: {what} are not finite: {value}{row} (index {index}); "
        "skrl_jax.config.set_debug_nans(True) is on, which checks them"
    )
