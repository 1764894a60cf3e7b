"""A run's journal, regrouped the way the rules ask about it: exchanges, attempts, chains, gaps.

The journal is a flat, ordered list of events. The rules ask questions such as "what happened
to the 2nd ``POST /bots`` for this meeting, and what did the client read before the 3rd?", so
this module folds the events of one exchange into one :class:`Attempt` and groups attempts
into chains of one logical operation (the journal's ``operation`` key: same API key, method
and path — and for ``POST /bots`` the same meeting).

Order is the journal's order (``index``), never timestamps alone: on a virtual clock many
events share one instant, and "the read came after the cut" must still be decidable.

Time symbols follow ``reference/retry.md`` §3.1: ``a_i`` is when request *i* arrived, ``e_i``
when its exchange ended on the server (last byte of the answer, or the cut). The lower-bound
gap is ``g_i = a_(i+1) − e_i`` (a client that slept ``s`` always shows ``g ≥ s``); the
upper-bound gap is ``h_i = a_(i+1) − a_i − P_i`` with ``P_i`` the wait the harness injected.
"""

from __future__ import annotations

import email.utils
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from harness.conformance.verdicts import Run
from harness.journal import (
    AnswerEvent,
    CommitEvent,
    CutEvent,
    Event,
    FaultEvent,
    ReadEvent,
    RequestEvent,
)

__all__ = [
    "AMBIGUOUS_STATUSES",
    "NON_RETRYABLE_STATUSES",
    "Attempt",
    "Timeline",
    "lower_gaps",
    "retry_after_seconds",
    "upper_gaps",
]

#: Answers after which a client cannot know whether ``POST /bots`` took effect.
AMBIGUOUS_STATUSES = frozenset({500, 502, 503, 504})
#: Answers that a retry of the very same request cannot fix (RULES.md).
NON_RETRYABLE_STATUSES = frozenset({400, 401, 403, 404, 409, 422})


@dataclass(frozen=True, slots=True)
class Attempt:
    """One exchange: a request and everything the journal says happened to it."""

    request: RequestEvent
    #: Position of the request in the run's events.
    index: int
    faults: tuple[FaultEvent, ...] = ()
    commits: tuple[CommitEvent, ...] = ()
    reads: tuple[ReadEvent, ...] = ()
    #: Positions of ``reads`` in the run's events.
    read_indices: tuple[int, ...] = ()
    answer: AnswerEvent | None = None
    cut: CutEvent | None = None
    #: Position of the answer or cut in the run's events (None: the exchange never ended).
    end_index: int | None = None

    @property
    def number(self) -> int:
        return self.request.exchange

    @property
    def operation(self) -> str:
        return self.request.operation

    @property
    def start(self) -> float:
        """``a_i``: when the request had fully arrived."""
        return self.request.at

    @property
    def end(self) -> float | None:
        """``e_i``: when the last byte of the answer went out, or the exchange was cut."""
        if self.answer is not None:
            return self.answer.at
        if self.cut is not None:
            return self.cut.at
        return None

    @property
    def ended(self) -> bool:
        return self.end_index is not None

    @property
    def status(self) -> int | None:
        """The status of a *complete* answer; None when the exchange was cut or never ended."""
        return self.answer.status if self.answer is not None else None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """Anything but a complete 2xx answer."""
        return not self.succeeded

    @property
    def meeting(self) -> str | None:
        """``platform/native_meeting_id`` the request concerns, if any."""
        r = self.request
        if r.platform and r.native_meeting_id:
            return f"{r.platform}/{r.native_meeting_id}"
        return None

    @property
    def is_post_bots(self) -> bool:
        return self.request.method == "POST" and self.request.path.rstrip("/") == "/bots"

    @property
    def ambiguous(self) -> bool:
        """The client could not know whether it took effect: cut, 5xx, or never ended."""
        return self.cut is not None or not self.ended or self.status in AMBIGUOUS_STATUSES

    @property
    def fault(self) -> dict[str, Any] | None:
        return self.faults[0].fault if self.faults else None

    @property
    def fault_kind(self) -> str | None:
        fault = self.fault
        kind = fault.get("kind") if fault else None
        return kind if isinstance(kind, str) else None

    @property
    def phase(self) -> str | None:
        return self.faults[0].phase if self.faults else None

    @property
    def clean_read(self) -> ReadEvent | None:
        """What a covering read showed — only if its answer (200) fully reached the client."""
        if self.reads and self.cut is None and self.status == 200:
            return self.reads[-1]
        return None

    @property
    def injected_wait(self) -> float:
        """``P_i``: the wait the harness itself added before the exchange ended (if known)."""
        fault = self.fault or {}
        kind = fault.get("kind")
        if kind == "delay" and fault.get("max_seconds") is None:
            return float(fault.get("seconds", 0.0))
        hang_closed = self.cut is not None and self.cut.how == "close"
        if kind == "hang" and fault.get("seconds") is not None and hang_closed:
            return float(fault["seconds"])
        if kind == "slow_body":
            return float(fault.get("seconds", 0.0))
        return 0.0

    @property
    def identity(self) -> tuple[str | None, str, str, str, str]:
        """What makes two requests "the same request": key, method, path, query, body."""
        r = self.request
        return (r.api_key, r.method, r.path, r.query, r.body_sha256)


#: The last timelines :meth:`Timeline.of` folded, by the identity of their events (which
#: they hold, so an id is never reused while cached). Timelines are never changed once built.
_RECENT = 64
_recent: dict[int, tuple[tuple[Event, ...], Timeline]] = {}


class Timeline:
    """A run's events folded into attempts, with the look-ups the rules need."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.events: tuple[Event, ...] = tuple(events)
        self.t0: float = self.events[0].at if self.events else 0.0
        parts: dict[int, dict[str, Any]] = {}
        order: list[int] = []
        for index, event in enumerate(self.events):
            if isinstance(event, RequestEvent):
                if event.exchange not in parts:
                    order.append(event.exchange)
                parts[event.exchange] = {
                    "request": event,
                    "index": index,
                    "faults": [],
                    "commits": [],
                    "reads": [],
                    "read_indices": [],
                }
                continue
            part = parts.get(event.exchange)
            if part is None:
                continue  # its request fell out of the ring buffer, or no exchange (timers)
            if isinstance(event, FaultEvent):
                part["faults"].append(event)
            elif isinstance(event, CommitEvent):
                part["commits"].append(event)
            elif isinstance(event, ReadEvent):
                part["reads"].append(event)
                part["read_indices"].append(index)
            elif isinstance(event, AnswerEvent | CutEvent) and "end_index" not in part:
                part["answer" if isinstance(event, AnswerEvent) else "cut"] = event
                part["end_index"] = index
        self.attempts: tuple[Attempt, ...] = tuple(
            Attempt(
                request=parts[n]["request"],
                index=parts[n]["index"],
                faults=tuple(parts[n]["faults"]),
                commits=tuple(parts[n]["commits"]),
                reads=tuple(parts[n]["reads"]),
                read_indices=tuple(parts[n]["read_indices"]),
                answer=parts[n].get("answer"),
                cut=parts[n].get("cut"),
                end_index=parts[n].get("end_index"),
            )
            for n in order
        )
        self.by_number: dict[int, Attempt] = {a.number: a for a in self.attempts}
        self._positions = {id(e): i for i, e in enumerate(self.events)}

    @classmethod
    def of(cls, run: Run) -> Timeline:
        """The run's timeline, folded once however many rules ask (each rule asks)."""
        return cls.of_events(run.events)

    @classmethod
    def of_events(cls, events: tuple[Event, ...]) -> Timeline:
        """The timeline of these very events, folded once for everyone who asks."""
        key = id(events)
        cached = _recent.get(key)
        if cached is not None and cached[0] is events:
            return cached[1]
        timeline = cls(events)
        if len(_recent) >= _RECENT:
            del _recent[next(iter(_recent))]
        _recent[key] = (events, timeline)
        return timeline

    def position(self, event: Event) -> int:
        """Where ``event`` (one of this timeline's own event objects) sits in the journal."""
        found = self._positions.get(id(event))
        return found if found is not None else self.events.index(event)

    def rel(self, at: float) -> float:
        """Seconds since the run's first event (how evidence shows times)."""
        return at - self.t0

    # ------------------------------------------------------------------ chains

    def chains(self) -> dict[str, list[Attempt]]:
        """Attempts grouped by logical operation, each in arrival order."""
        chains: dict[str, list[Attempt]] = {}
        for attempt in self.attempts:
            chains.setdefault(attempt.operation, []).append(attempt)
        return chains

    def faulted_chains(self) -> dict[str, list[Attempt]]:
        """The chains in which at least one attempt met an injected fault."""
        return {op: c for op, c in self.chains().items() if any(a.faults for a in c)}

    def main_chain(self) -> list[Attempt]:
        """The faulted operation the client tried most often (ties: the one that began first).

        Under a persistent outage that is the operation the client kept retrying; the
        statistical backoff rules compare this chain across repeated runs.
        """
        chains = self.faulted_chains()
        if not chains:
            return []
        return max(chains.values(), key=lambda c: (len(c), -c[0].index))

    def posts_by_meeting(self) -> dict[tuple[str | None, str], list[Attempt]]:
        """``POST /bots`` attempts grouped by (API key, meeting), in arrival order."""
        posts: dict[tuple[str | None, str], list[Attempt]] = {}
        for attempt in self.attempts:
            meeting = attempt.meeting
            if attempt.is_post_bots and meeting is not None:
                posts.setdefault((attempt.request.api_key, meeting), []).append(attempt)
        return posts

    # ------------------------------------------------------------------ between two points

    def commits(self, effect: str | None = None, meeting: str | None = None) -> list[CommitEvent]:
        return [
            e
            for e in self.events
            if isinstance(e, CommitEvent)
            and effect in (None, e.effect)
            and (meeting is None or f"{e.platform}/{e.native_meeting_id}" == meeting)
        ]

    def settled_index(self, attempt: Attempt) -> int | None:
        """The journal position after which ``attempt`` can no longer change the model.

        The model runs synchronously when a request arrives (``Exchange.walk`` yields only
        for an injected delay), so an exchange is settled at its last commit, or — with no
        commit and no delay — at its own arrival: it committed nothing and never will. A
        delayed exchange may commit late (after the client gave up, ``reference/retry.md``
        §6), so it is settled only when it ended (None: not yet).
        """
        if attempt.commits:
            return self.position(attempt.commits[-1])
        if attempt.fault_kind == "delay":
            return attempt.end_index
        return attempt.index

    def commits_between(self, after: int, before: int) -> list[CommitEvent]:
        return [e for e in self.events[after + 1 : before] if isinstance(e, CommitEvent)]

    def covering_reads(
        self, meeting: str, api_key: str | None, after: int, before: int
    ) -> list[tuple[Attempt, ReadEvent]]:
        """Clean reads by ``api_key`` that covered ``meeting``, taken after event ``after``
        and fully answered before event ``before`` (so the client knew them in time)."""
        found: list[tuple[int, Attempt, ReadEvent]] = []
        for attempt in self.attempts:
            read = attempt.clean_read
            if read is None or attempt.request.api_key != api_key:
                continue
            read_index = attempt.read_indices[-1]
            if read_index <= after or attempt.end_index is None or attempt.end_index >= before:
                continue
            if read.complete or meeting in read.covered:
                found.append((read_index, attempt, read))
        return [(attempt, read) for _, attempt, read in sorted(found, key=lambda f: f[0])]

    def reads_between(self, after: int, before: int) -> list[tuple[Attempt, ReadEvent]]:
        """Every read (clean or not) whose request arrived between two events."""
        return [(a, r) for a in self.attempts if after < a.index < before for r in a.reads[-1:]]

    def last_event_at(self) -> float:
        return self.events[-1].at if self.events else 0.0


# ---------------------------------------------------------------------- gaps


def lower_gaps(chain: Sequence[Attempt]) -> list[float]:
    """``g_i = a_(i+1) − e_i`` (``a_i`` when the exchange never ended: weaker but sound)."""
    gaps = []
    for prev, nxt in itertools.pairwise(chain):
        end = prev.end if prev.end is not None else prev.start
        gaps.append(nxt.start - end)
    return gaps


def upper_gaps(chain: Sequence[Attempt]) -> list[float]:
    """``h_i = a_(i+1) − a_i − P_i``, with ``P_i`` the wait the harness injected."""
    return [nxt.start - prev.start - prev.injected_wait for prev, nxt in itertools.pairwise(chain)]


def failing_prefix(chain: Sequence[Attempt]) -> list[Attempt]:
    """The attempts up to and including the first success: the ones "while failures continue"."""
    out: list[Attempt] = []
    for attempt in chain:
        out.append(attempt)
        if attempt.succeeded:
            break
    return out


def retry_after_seconds(value: str | None, answered_at: float) -> float | None:
    """The wait a ``Retry-After`` value asks for, on the harness clock (None: unparsable).

    delay-seconds counts from the answer; an HTTP-date is compared with the answer's harness
    timestamp (the harness clock is seconds since the epoch, also on virtual time).
    """
    if value is None:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC by RFC 5322
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - answered_at)
