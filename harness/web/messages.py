"""Plain HTTP request and response values.

Every transport (in-process httpx, the loopback socket server, ASGI) turns what it received
into a :class:`Request`, hands it to the one application, and turns the :class:`Response`
back into bytes or an httpx response. Keeping these as frozen values is what lets the routing,
the Vexa model and (later) the fault engine stay pure: they never see a socket.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

__all__ = ["Headers", "Request", "Response", "json_response"]


@dataclass(frozen=True, slots=True)
class Headers:
    """Case-insensitive, order-keeping, multi-valued header list."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] | Mapping[str, str] | None) -> Headers:
        if pairs is None:
            return cls()
        if isinstance(pairs, Mapping):
            pairs = pairs.items()
        return cls(tuple((str(k).lower(), str(v)) for k, v in pairs))

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.items:
            if key == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.items if key == name]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request as the server saw it (path already percent-decoded)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""

    @classmethod
    def build(
        cls,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]] | Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Request:
        """Build from a raw request target such as ``/meetings?limit=5``."""
        raw_path, _, raw_query = target.partition("?")
        return cls(
            method=method.upper(),
            path=(unquote(raw_path) if "%" in raw_path else raw_path) or "/",
            query=tuple(parse_qsl(raw_query, keep_blank_values=True)) if raw_query else (),
            headers=Headers.of(headers),
            body=body,
        )

    def query_param(self, name: str) -> str | None:
        for key, value in self.query:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Response:
    """One HTTP response: status, headers and the complete body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    #: The JSON value ``body`` encodes, when the answer was built from one: what the journal
    #: reads off an answer without parsing back the bytes it just wrote. Not part of equality.
    payload: Any = field(default=None, compare=False, repr=False)

    def header(self, name: str) -> str | None:
        return Headers(self.headers).get(name)

    def json(self) -> Any:
        return json.loads(self.body)


#: FastAPI's JSON: compact, UTF-8, no ASCII escaping (one encoder: ``json.dumps`` with
#: non-default options builds a new one per call, on every answer of the fake).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def json_response(status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """Serialize like FastAPI does (compact separators, UTF-8, no ASCII escaping).

    A 204 carries no body at all.
    """
    if status == 204:
        return Response(status=status, headers=tuple(headers), body=b"")
    body = _ENCODER.encode(payload).encode()
    return Response(
        status=status,
        headers=(("content-type", "application/json"), *headers),
        body=body,
        payload=payload,
    )
