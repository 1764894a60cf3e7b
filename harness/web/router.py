"""A small pure router: method + path template → handler, with typed path parameters.

Path parameters are validated the way FastAPI validates them (an enum or an int), and a
failure is collected as a FastAPI-style error item rather than raised, so the caller can decide
whether validation or authentication speaks first (that order differs between Vexa versions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

__all__ = ["Match", "Route", "Router", "first_match"]

H = TypeVar("H")

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")


def _int_error(name: str, raw: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": ["path", name],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": raw,
    }


def _enum_error(name: str, raw: str, enum: type[StrEnum]) -> dict[str, Any]:
    values = [f"'{member.value}'" for member in enum]
    expected = " or ".join([", ".join(values[:-1]), values[-1]]) if len(values) > 1 else values[0]
    return {
        "type": "enum",
        "loc": ["path", name],
        "msg": f"Input should be {expected}",
        "input": raw,
        "ctx": {"expected": expected},
    }


@dataclass(frozen=True, slots=True)
class Route(Generic[H]):
    """One method on one path template, e.g. ``GET /bots/id/{meeting_id:int}``."""

    method: str
    template: str
    handler: H
    regex: re.Pattern[str] = field(compare=False)
    converters: dict[str, str] = field(compare=False)

    @classmethod
    def of(cls, method: str, template: str, handler: H) -> Route[H]:
        converters: dict[str, str] = {}

        def to_group(match: re.Match[str]) -> str:
            converters[match.group(1)] = match.group(2) or "str"
            return f"(?P<{match.group(1)}>[^/]+)"

        pattern = (
            "^"
            + _PARAM.sub(to_group, re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
            + "$"
        )
        return cls(method, template, handler, re.compile(pattern), converters)

    @property
    def head(self) -> str | None:
        """The first path segment if it is literal (``"bots"``), else None (a parameter)."""
        first = self.template.lstrip("/").split("/", 1)[0]
        return None if "{" in first else first

    @property
    def openapi_path(self) -> str:
        return _PARAM.sub(lambda m: "{" + m.group(1) + "}", self.template)


@dataclass(frozen=True, slots=True)
class Match(Generic[H]):
    route: Route[H]
    params: dict[str, Any]
    errors: list[dict[str, Any]]


class Router(Generic[H]):
    """Ordered routes; the first whose template and method match wins (as in Starlette)."""

    def __init__(self, enums: dict[str, type[StrEnum]] | None = None) -> None:
        self.routes: list[Route[H]] = []
        #: Path-parameter converters by name (e.g. ``platform`` → the Platform enum).
        self.enums: dict[str, type[StrEnum]] = enums or {}
        self._by_head: dict[str, list[Route[H]]] = {}

    def add(self, method: str, template: str) -> Callable[[H], H]:
        def register(handler: H) -> H:
            self.routes.append(Route.of(method, template, handler))
            self._by_head.clear()
            return handler

        return register

    def candidates(self, path: str) -> list[Route[H]]:
        """The routes that could match ``path``, in registration order (cached by first segment).

        Only routes with the same literal first segment, or a parameter there, can match; a
        request then tries a handful of patterns instead of every route of the fake.
        """
        head = path.lstrip("/").split("/", 1)[0]
        found = self._by_head.get(head)
        if found is None:
            found = [route for route in self.routes if route.head in (head, None)]
            if len(self._by_head) < 1024:  # bounded: unknown heads come from clients
                self._by_head[head] = found
        return found

    def resolve(self, method: str, path: str) -> Match[H] | frozenset[str]:
        """A match, or the methods the path does have (empty: unknown path, 404; else 405)."""
        return first_match(method, path, ((self, route) for route in self.candidates(path)))

    def convert(self, route: Route[H], raw: dict[str, str]) -> Match[H]:
        """``route``'s path parameters, converted (int, enum) or reported as Vexa reports them."""
        params: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        for name, value in raw.items():
            kind = route.converters[name]
            if kind == "int":
                try:
                    params[name] = int(value)
                except ValueError:
                    errors.append(_int_error(name, value))
            elif kind in self.enums:
                enum = self.enums[kind]
                try:
                    params[name] = enum(value)
                except ValueError:
                    errors.append(_enum_error(name, value, enum))
            else:
                params[name] = value
        return Match(route, params, errors)


def first_match(
    method: str, path: str, candidates: Iterable[tuple[Router[H], Route[H]]]
) -> Match[H] | frozenset[str]:
    """The first candidate whose pattern and method match, converted by its router; else the
    methods the path does have (empty: unknown path, 404; else 405)."""
    allowed: set[str] = set()
    for router, route in candidates:
        found = route.regex.match(path)
        if found is None:
            continue
        if route.method != method:
            allowed.add(route.method)
            continue
        return router.convert(route, found.groupdict())
    return frozenset(allowed)
