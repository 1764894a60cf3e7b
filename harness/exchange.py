"""One request's walk through the fake, without I/O: the one place faults are applied.

    journal the request → fault gate (before commit) → Vexa model (commit, journal)
    → fault gate (after commit: replace, cut or hang the answer) → the outcome

:meth:`Exchange.walk` is a generator: it *yields* the seconds to wait (a delay, a hang) and
*returns* the :class:`Outcome` — the complete answer to send, and the socket-level fault to
apply to it, if any. A sync transport drives it with ``clock.sleep``, the asyncio server with
``await asyncio.sleep``; neither duplicates the logic. The transport then reports how the
exchange really ended (:meth:`answered`, :meth:`cut`), stamped on the harness clock.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.faults.engine import Decision, fault_as_json
from harness.faults.facts import RequestFacts, facts_of
from harness.faults.kinds import (
    Close,
    Delay,
    Fault,
    Garbage,
    Hang,
    Reset,
    SlowBody,
    Status,
    Truncate,
)
from harness.journal import AnswerEvent, CutEvent, FaultEvent, RequestEvent
from harness.web.messages import Request, Response

if TYPE_CHECKING:
    from harness.fake import FakeVexa

__all__ = ["Exchange", "ExchangeLike", "Outcome", "PlainExchange", "drive"]

SocketFault = Hang | Reset | Close | Truncate | Garbage | SlowBody


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to put on the wire: ``response`` (None when nothing is answered) and a socket fault."""

    response: Response | None
    fault: SocketFault | None = None


class ExchangeLike(Protocol):
    """What a transport needs from one exchange: its walk, and a report of how it ended."""

    def walk(self) -> Generator[float, None, Outcome]: ...

    def last_bytes(self) -> None: ...

    def answered(self, response: Response) -> None: ...

    def cut(self, how: str) -> None: ...


class PlainExchange:
    """An exchange with no faults and no journal: a plain ``Request → Response`` handler."""

    def __init__(self, handler: Callable[[Request], Response], request: Request) -> None:
        self.handler = handler
        self.request = request

    def walk(self) -> Generator[float, None, Outcome]:
        yield from ()
        return Outcome(self.handler(self.request))

    def last_bytes(self) -> None:
        """Nothing records plain exchanges."""

    def answered(self, response: Response) -> None:
        """Nothing records plain exchanges."""

    def cut(self, how: str) -> None:
        """Nothing records plain exchanges."""


class Exchange:
    """The walk of one request; created by :meth:`FakeVexa.exchange` under its lock."""

    def __init__(self, fake: FakeVexa, request: Request, number: int) -> None:
        self.fake = fake
        self.request = request
        self.number = number
        self.facts: RequestFacts = facts_of(request)
        self.attempt = fake.next_attempt(self.facts.operation)
        now = fake.clock.now()
        fake.journal.append(
            RequestEvent(
                number,
                now,
                request.method,
                request.path,
                "&".join(f"{k}={v}" for k, v in request.query),
                self.facts.api_key,
                self.facts.body_sha256,
                self.facts.operation,
                self.attempt,
                self.facts.platform,
                self.facts.native_meeting_id,
            )
        )
        self.decision: Decision = fake.fault_engine.decide(self.facts, self.attempt, now)
        if self.decision.fault is not None:
            fake.journal.append(
                FaultEvent(
                    number,
                    now,
                    self.decision.rule or "",
                    self.decision.phase,
                    fault_as_json(self.decision.fault),
                )
            )
        self.ended = False
        #: The answer being streamed, until its last byte is out (see :meth:`answered_body`).
        self.pending: Response | None = None
        self._last_bytes_at: float | None = None

    def walk(self) -> Generator[float, None, Outcome]:
        decision = self.decision
        fault: Fault | None = decision.before
        if isinstance(fault, Delay):
            yield decision.delay
            fault = None
        if fault is None:
            response = self._with_headers(self.fake.commit(self))
            fault = decision.after
            if isinstance(fault, Delay):
                yield decision.delay
                fault = None
        else:
            response = None
        if isinstance(fault, Status):
            headers, body = fault.render()
            return Outcome(self._with_headers(Response(fault.status, headers, body)))
        if isinstance(fault, Hang | Reset | Close | Garbage):
            return Outcome(None, fault)
        if isinstance(fault, Truncate | SlowBody):
            assert response is not None, "answer faults run after commit (see plan.Rule)"
            return Outcome(response, fault)
        assert response is not None
        return Outcome(response)

    def _with_headers(self, response: Response) -> Response:
        if not self.decision.headers:
            return response
        headers = (*response.headers, *self.decision.headers)
        return Response(response.status, headers, response.body, response.payload)

    # -------------------------------------------------------------- how it really ended

    def last_bytes(self) -> None:
        """The answer's last bytes are being handed to the socket: its time is now.

        A socket server stamps the answer here rather than once the write returned: a busy
        server thread may get there after the client already read the answer and slept, and
        the lower-bound rules (``honor-retry-after``) must never see a gap shorter than the
        client's real one.
        """
        self._last_bytes_at = self.fake.clock.now()

    def answered(self, response: Response) -> None:
        if not self.ended:
            self.ended = True
            at = self._last_bytes_at if self._last_bytes_at is not None else self.fake.clock.now()
            retry_after = response.header("retry-after")
            self.fake.journal.append(AnswerEvent(self.number, at, response.status, retry_after))

    def answered_body(self) -> None:
        """The last byte of a streamed answer went out."""
        if self.pending is not None:
            self.answered(self.pending)

    def cut(self, how: str) -> None:
        if not self.ended:
            self.ended = True
            self.fake.journal.append(CutEvent(self.number, self.fake.clock.now(), how))


def drive(walk: Generator[float, None, Outcome], sleep: Callable[[float], None]) -> Outcome:
    """Run a walk synchronously, sleeping with ``sleep`` (the harness clock's, in-process)."""
    try:
        seconds = next(walk)
        while True:
            sleep(seconds)
            seconds = walk.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
