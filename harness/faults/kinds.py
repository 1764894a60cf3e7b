"""Faults as values: what the fake does instead of (or to) an honest answer.

Frozen, slotted, comparable and printable, so Hypothesis can generate, shrink and show them,
and a plan file round-trips through JSON. The transports are the only code that interprets
them: an HTTP fault becomes a response; a socket fault becomes a reset, a silent close, cut or
dribbled bytes on a real socket — and, in-process, the exception httpx raises for that event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, with_config

__all__ = [
    "AnyFault",
    "Close",
    "Delay",
    "Fault",
    "Garbage",
    "Hang",
    "Reset",
    "SlowBody",
    "Status",
    "Truncate",
    "gateway_error",
    "rate_limited",
]

#: The HTML a reverse proxy sends for 502/503/504 (nginx's stock page).
_PROXY_PAGE = (
    "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
    504: "Gateway Time-out",
}


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Status:
    """Answer ``status`` instead of the real answer.

    ``retry_after`` is delay-seconds (int) or an HTTP-date string, sent as ``Retry-After``;
    ``body`` overrides the default body: Vexa's JSON for 429 and 5xx, or a proxy's HTML page
    when ``html`` is set.
    """

    status: Annotated[int, Field(ge=100, le=599)]
    retry_after: Annotated[int, Field(ge=0)] | str | None = None
    body: str | None = None
    html: bool = False
    kind: Literal["status"] = "status"

    def render(self) -> tuple[tuple[tuple[str, str], ...], bytes]:
        """Headers and body of this answer (without Content-Length)."""
        headers: list[tuple[str, str]] = []
        if self.retry_after is not None:
            headers.append(("retry-after", str(self.retry_after)))
        if self.body is not None:
            content_type = "text/html" if self.html else "application/json"
            return ((("content-type", content_type), *headers), self.body.encode())
        if self.html:
            reason = _REASONS.get(self.status, "Error")
            page = _PROXY_PAGE.format(code=self.status, reason=reason)
            return ((("content-type", "text/html"), *headers), page.encode())
        return ((("content-type", "application/json"), *headers), _default_json(self).encode())


def _default_json(fault: Status) -> str:
    import json

    payload: dict[str, Any]
    if fault.status == 429:
        payload = {"detail": "Rate limit exceeded"}
        if isinstance(fault.retry_after, int):
            payload["retry_after"] = fault.retry_after
    elif fault.status in (502, 503, 504):
        payload = {"detail": "Service unavailable: upstream connect error"}
    elif fault.status == 500:
        payload = {"detail": "Internal Server Error"}
    else:
        payload = {"detail": _REASONS.get(fault.status, "Injected fault")}
    return json.dumps(payload, separators=(",", ":"))


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Delay:
    """Wait, then answer normally; with ``max_seconds`` the wait is drawn from the rule's stream."""

    seconds: Annotated[float, Field(ge=0)]
    max_seconds: Annotated[float, Field(ge=0)] | None = None
    kind: Literal["delay"] = "delay"


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Hang:
    """Never answer (``seconds`` None), or hold the connection that long and then close it."""

    seconds: Annotated[float, Field(ge=0)] | None = None
    kind: Literal["hang"] = "hang"


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Reset:
    """Abort the TCP connection with RST (SO_LINGER 0): the client sees ``ECONNRESET``."""

    kind: Literal["reset"] = "reset"


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection cleanly without sending a byte of the answer."""

    kind: Literal["close"] = "close"


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Truncate:
    """Send the head and only ``fraction`` of the body, then close: Content-Length promised more."""

    fraction: Annotated[float, Field(ge=0, lt=1)] = 0.5
    kind: Literal["truncate"] = "truncate"


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Garbage:
    """Send bytes that are not HTTP at all, then close."""

    kind: Literal["garbage"] = "garbage"


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class SlowBody:
    """Dribble the real answer's body in ``chunks`` pieces over ``seconds``."""

    seconds: Annotated[float, Field(ge=0)]
    chunks: Annotated[int, Field(ge=1, le=1000)] = 8
    kind: Literal["slow_body"] = "slow_body"


Fault = Status | Delay | Hang | Reset | Close | Truncate | Garbage | SlowBody
#: The tagged union pydantic parses plan files with (``kind`` picks the class).
AnyFault = Annotated[Fault, Field(discriminator="kind")]

#: Faults that end the exchange at the socket: no complete answer reaches the client.
SOCKET_FAULTS = (Hang, Reset, Close, Truncate, Garbage)


def rate_limited(retry_after: int | str | None = 1) -> Status:
    """Vexa's 429: ``{"detail": "Rate limit exceeded", "retry_after": N}`` + ``Retry-After``."""
    return Status(429, retry_after=retry_after)


def gateway_error(status: int = 503, *, html: bool = False) -> Status:
    """A 502/503/504 as the gateway (JSON) or a reverse proxy (HTML) sends it."""
    return Status(status, html=html)


GARBAGE_BYTES = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all \xff\xfe\r\n\r\n"
