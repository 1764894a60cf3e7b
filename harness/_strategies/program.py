"""A failing sequence of steps as a Python program a person can paste back and run.

Values are written as the calls that build them, with only the fields that differ from their
defaults — ``Rule(fault=Reset(), match=Match(method='POST', path='/bots'), ...)`` — and the
imports they need come first, so the program runs as it is.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Step", "program", "source"]

#: Where each value type a step may carry is imported from (its public home).
_HOMES = {
    "harness.faults.kinds": "harness.faults",
    "harness.faults.plan": "harness.faults",
    "harness._strategies.requests": "harness.strategies",
}


@dataclass(frozen=True, slots=True)
class Step:
    """One rule the state machine ran: its method name and keyword arguments."""

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def render(self, imports: dict[str, set[str]]) -> str:
        args = ", ".join(f"{key}={source(value, imports)}" for key, value in self.kwargs)
        return f"state.{self.name}({args})"


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def source(value: Any, imports: dict[str, set[str]]) -> str:
    """``value`` as Python source; records the ``from X import Y`` it needs in ``imports``."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        home = _HOMES.get(cls.__module__, cls.__module__)
        imports.setdefault(home, set()).add(cls.__name__)
        parts = []
        for f in dataclasses.fields(value):
            if not f.init or f.name == "kind":
                continue
            current = getattr(value, f.name)
            if current == _default(f):
                continue
            parts.append(f"{f.name}={source(current, imports)}")
        return f"{cls.__name__}({', '.join(parts)})"
    if isinstance(value, tuple):
        inner = ", ".join(source(v, imports) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(source(v, imports) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{source(k, imports)}: {source(v, imports)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def program(machine: type, steps: Sequence[Step]) -> str:
    """The steps as a runnable program against ``machine`` (imported if it can be)."""
    imports: dict[str, set[str]] = {}
    body = [f"state = {machine.__name__}()"]
    body += [step.render(imports) for step in steps]
    body.append("state.teardown()")
    module = sys.modules.get(machine.__module__)
    importable = module is not None and getattr(module, machine.__name__, None) is machine
    if importable and machine.__module__ != "__main__":
        imports.setdefault(machine.__module__, set()).add(machine.__name__)
    head = [
        f"from {home} import {', '.join(sorted(names))}" for home, names in sorted(imports.items())
    ]
    return "\n".join([*head, *body])
