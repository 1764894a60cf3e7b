"""The journal: what the client did and what the fake did back, on the one harness clock.

Pure and bounded: a ring buffer of frozen events, each stamped by the harness clock and tied
to its exchange (one request) and its logical operation (e.g. every ``POST /bots`` for one
meeting by one key), so the rules can ask "what happened to this operation, attempt by
attempt". Exported as JSON with sorted keys, so the same seed replays byte for byte.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = [
    "AnswerEvent",
    "CommitEvent",
    "CutEvent",
    "Event",
    "FaultEvent",
    "Journal",
    "ReadEvent",
    "RequestEvent",
    "WebhookEvent",
]

DEFAULT_CAP = 100_000


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """A complete request arrived (``at`` is when its last byte was read)."""

    exchange: int
    at: float
    method: str
    path: str
    query: str
    api_key: str | None
    body_sha256: str
    operation: str
    attempt: int
    platform: str | None
    native_meeting_id: str | None
    type: Literal["request"] = "request"


@dataclass(frozen=True, slots=True)
class FaultEvent:
    """The fault engine chose a fault for this exchange."""

    exchange: int
    at: float
    rule: str
    phase: str
    fault: dict[str, Any]
    type: Literal["fault"] = "fault"


@dataclass(frozen=True, slots=True)
class CommitEvent:
    """The Vexa model committed a side effect while answering this exchange."""

    exchange: int
    at: float
    effect: str
    meeting_id: int | None
    platform: str | None
    native_meeting_id: str | None
    user_id: int | None
    type: Literal["commit"] = "commit"


@dataclass(frozen=True, slots=True)
class ReadEvent:
    """A read that tells the client which bots run: what the answer showed.

    ``covered`` lists the meetings (``platform/native_meeting_id``) the answer spoke about;
    ``complete`` says it spoke about *all* the user's meetings (so absence means "not
    running"); ``running`` lists those it showed with a live bot.
    """

    exchange: int
    at: float
    complete: bool
    covered: tuple[str, ...]
    running: tuple[str, ...]
    type: Literal["read"] = "read"


@dataclass(frozen=True, slots=True)
class AnswerEvent:
    """The last byte of a complete answer went out."""

    exchange: int
    at: float
    status: int
    retry_after: str | None
    type: Literal["answer"] = "answer"


@dataclass(frozen=True, slots=True)
class CutEvent:
    """The exchange ended without a complete answer (``how``: reset, close, truncate, ...)."""

    exchange: int
    at: float
    how: str
    type: Literal["cut"] = "cut"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """One webhook delivery attempt and how it ended (see :mod:`harness.webhooks`).

    ``exchange`` is 0: a delivery is the fake calling out, not a client request. ``status`` is
    the receiver's answer, or None with ``error`` (``timeout``, ``connect``, ``protocol``...);
    ``answered_at`` is None only while the attempt is still in flight. ``adversary`` names a
    deliberate deviation (``replay``, ``wrong_secret``...), None for an honest attempt.
    """

    exchange: int
    at: float
    event_id: str
    event_type: str
    attempt: int
    url: str
    status: int | None
    error: str | None
    answered_at: float | None
    adversary: str | None = None
    type: Literal["webhook"] = "webhook"


Event = RequestEvent | FaultEvent | CommitEvent | ReadEvent | AnswerEvent | CutEvent | WebhookEvent


class Journal:
    """A bounded, ordered record of events. ``dropped`` counts what the cap pushed out."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        if cap < 1:
            raise ValueError(f"journal cap must be >= 1 (got {cap})")
        self.cap = cap
        self._events: deque[Event] = deque(maxlen=cap)
        self.dropped = 0

    def append(self, event: Event) -> None:
        if len(self._events) == self.cap:
            self.dropped += 1
        self._events.append(event)

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def clear(self) -> None:
        self._events.clear()
        self.dropped = 0

    def requests(self) -> list[RequestEvent]:
        return [e for e in self if isinstance(e, RequestEvent)]

    def commits(self, effect: str | None = None) -> list[CommitEvent]:
        return [e for e in self if isinstance(e, CommitEvent) and effect in (None, e.effect)]

    def webhooks(self) -> list[WebhookEvent]:
        return [e for e in self if isinstance(e, WebhookEvent)]

    def of_exchange(self, exchange: int) -> list[Event]:
        return [e for e in self if e.exchange == exchange]

    def to_json(self) -> dict[str, Any]:
        return {"cap": self.cap, "dropped": self.dropped, "events": [asdict(e) for e in self]}

    def dumps(self) -> str:
        """Canonical JSON: equal journals give equal bytes."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
