"""Role bookkeeping of a ``Model``: what each mixin constructor declared, and which declaration serves a role."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple


class RoleSpec(NamedTuple):
    """What a mixin constructor declared: its role name, its class and its settings."""

    role: str
    mixin: type
    config: Any


class RoleRegistry:
    """The roles part of ``Model``: ``_register_role`` (called by the mixin constructors), the
    declared ``roles``, and the lookup of the declaration serving a role."""

    _role_specs: list[RoleSpec]

    def _register_role(self, mixin: type, role: str, config: Any) -> None:
        if not isinstance(role, str):
            raise TypeError(f"{mixin.__name__}: role must be a string, got {role!r}")
        for spec in self._role_specs:
            if spec.role == role and spec.mixin is mixin:
                raise ValueError(
                    f"{mixin.__name__} is used more than once in {type(self).__name__} with role {role!r}: "
                    f"pass a distinct role to each {mixin.__name__}.__init__ call (e.g. role='critic_1', role='critic_2')"
                )
            if spec.role == role and role:
                raise ValueError(
                    f"role {role!r} of {type(self).__name__} is declared by both {spec.mixin.__name__} and {mixin.__name__}"
                )
        self._role_specs.append(RoleSpec(role, mixin, config))

    @property
    def roles(self) -> tuple[str, ...]:
        """The role names declared by the mixin constructors, in declaration order."""
        return tuple(spec.role for spec in self._role_specs)

    def name_roles(self, names: Sequence[str]) -> None:
        """Name the mixins declared without ``role=`` after the agent keys they serve, as skrl's
        shared examples expect (``GaussianMixin.__init__(self)`` and ``DeterministicMixin.__init__(self)``
        with ``act`` dispatching ``if role == "policy"``): the key ``"policy"`` goes to the model's one
        stochastic mixin, any other key (``"value"``, ``"critic_1"``, ``"q_network"``, ...) to its one
        deterministic mixin. Known from the declarations alone, without running the model's code.
        A model's only undeclared mixin takes the first key it serves. The agents call it with their
        model keys when they are built; a declared role is left as it is, and so is a model that
        dispatches by role without overriding ``act``."""
        if not self._overrides_act():
            return
        for name in names:
            if name in self.roles:
                continue
            unnamed = [index for index, spec in enumerate(self._role_specs) if not spec.role]
            kind = [index for index in unnamed if self._role_specs[index].mixin.needs_key == (name == "policy")]
            chosen = kind if len(kind) == 1 else unnamed if len(unnamed) == 1 else []
            for index in chosen:
                self._role_specs[index] = self._role_specs[index]._replace(role=name)

    def _overrides_act(self) -> bool:
        for cls in type(self).__mro__:
            if "act" in cls.__dict__:
                return not cls.__module__.startswith("skrl_jax.models.")
        return False

    def _spec_for(self, role: str, mixin: type | None = None) -> RoleSpec:
        """The mixin declaration that serves ``role`` (``mixin`` is the class whose act was called)."""
        if not self._role_specs:
            raise TypeError(
                f"{type(self).__name__} declares no mixin: call a mixin constructor (e.g. "
                "GaussianMixin.__init__(self, ...)) in __init__ after Model.__init__"
            )
        if not isinstance(role, str):
            raise TypeError(f"role must be a Python string, got {type(role).__name__} {role!r}")
        named = [spec for spec in self._role_specs if spec.role == role]
        if named:
            return named[0]
        if len(self._role_specs) == 1:
            return self._role_specs[0]
        if mixin is not None and self._overrides_act():
            own = [spec for spec in self._role_specs if spec.mixin is mixin]
            if len(own) == 1:
                return own[0]
        unnamed = [spec for spec in self._role_specs if not spec.role]
        if len(unnamed) == 1 and mixin is None:
            return unnamed[0]
        declared = ", ".join(f"{s.role!r} ({s.mixin.__name__})" for s in self._role_specs)
        raise ValueError(
            f"unknown role {role!r} for {type(self).__name__}: the declared roles are {declared}; "
            "pass role=... to each mixin constructor, or override act() to dispatch by role"
        )

    def _check_roles(self, roles: Sequence[str]) -> None:
        names = [spec.role for spec in self._role_specs]
        for role in roles:
            if not isinstance(role, str):
                raise TypeError(
                    f"role must be a Python string or a tuple of strings, got {type(role).__name__} {role!r}"
                )
            if len(names) > 1 and all(names) and role not in names:
                raise ValueError(
                    f"unknown role {role!r} for {type(self).__name__}: the declared roles are "
                    + ", ".join(repr(n) for n in names)
                )

    def _default_roles(self) -> tuple[str, ...]:
        names = tuple(dict.fromkeys(spec.role for spec in self._role_specs))
        if len(self._role_specs) > 1 and "" in names:
            raise ValueError(
                f"{type(self).__name__} has mixins declared without a role, so it cannot tell which roles "
                "to initialise: pass role=... to the mixin constructors or roles=(...) to init()"
            )
        return names or ("",)
