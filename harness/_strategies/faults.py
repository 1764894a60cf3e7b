"""Strategies for fault values, schedules, rules and whole plans.

Values are plain dataclasses, printed as the calls that make them (``Rule(fault=Reset(),
match=Match(method='POST', path='/bots'), on=Schedule(calls=(1,)), phase='after_commit')``),
so a failing program can be pasted back as it is. They are drawn by composite strategies that
pick a kind, then its few parameters, from ``sampled_from`` lists: a state machine draws
thousands of rules, and nested ``builds``/``one_of`` cost about twice as much per rule.

Order is meaning here. Hypothesis shrinks towards the first element of a ``sampled_from`` (and
``False`` for a boolean), so each list starts with what a person would call the simplest case:
a reset before a status, the first request before the third, ``after_commit`` (the bot exists,
the answer is lost — the fault that does the damage) before ``before_commit``, no
``Retry-After`` before one.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Iterable, Sequence

from hypothesis import strategies as st

from harness._clock import DEFAULT_EPOCH
from harness._strategies.operations import OPERATIONS, target
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
from harness.faults.plan import FaultPlan, Match, Rule, Schedule

__all__ = [
    "ANSWER_KINDS",
    "CHEAP_KINDS",
    "FAULT_KINDS",
    "STATUSES",
    "fault_plans",
    "fault_rules",
    "faults",
    "matches",
    "phases",
    "retry_afters",
    "schedules",
]

#: Every fault kind, simplest first.
FAULT_KINDS: tuple[str, ...] = (
    "reset",
    "status",
    "close",
    "hang",
    "truncate",
    "garbage",
    "delay",
    "slow_body",
)
#: Kinds that act on the real answer: they exist only after the model committed.
ANSWER_KINDS = frozenset({"truncate", "slow_body"})
#: Kinds that cost a real-time client no real seconds (no hang, delay or dribble).
CHEAP_KINDS: tuple[str, ...] = ("reset", "status", "close", "truncate", "garbage")
#: Statuses a fault answers with: transient first, then the non-retryable ones of RULES.md.
STATUSES: tuple[int, ...] = (503, 429, 502, 504, 500, 400, 401, 403, 404, 409, 422)


def retry_afters(
    *, now: float | None = None, max_seconds: int = 10
) -> st.SearchStrategy[int | str]:
    """``Retry-After`` values in both forms of RFC 9110: delay-seconds, or an HTTP-date.

    A date is ``ceil(now) + s`` seconds, ``s`` in ``[0, max_seconds]``; ``now`` defaults to the
    virtual clock's epoch (:data:`harness._clock.DEFAULT_EPOCH`), where every fresh
    :class:`~harness.FakeVexa` on virtual time starts.
    """
    base = math.ceil(DEFAULT_EPOCH if now is None else now)
    seconds = st.integers(0, max_seconds)
    dates = seconds.map(lambda s: email.utils.formatdate(base + s, usegmt=True))
    return st.one_of(seconds, dates)


#: The parameters each kind draws, simplest first (module constants: built once).
_HANG_SECONDS = st.sampled_from([None, 2.0, 30.0, 120.0])
_TRUNCATE_FRACTIONS = st.sampled_from([0.5, 0.0, 0.9])
_DELAY_SECONDS = st.sampled_from([0.5, 2.0, 15.0, 90.0])
_SLOW_SECONDS = st.sampled_from([1.0, 30.0, 120.0])
_PHASES = st.sampled_from(["after_commit", "before_commit"])


def _draw_fault(
    draw: st.DrawFn,
    kind: str,
    statuses: st.SearchStrategy[int],
    retry_after: st.SearchStrategy[int | str],
) -> Fault:
    """One fault of ``kind``, its parameters drawn directly (a state machine draws thousands:
    nested ``builds`` and ``one_of`` cost several times as much)."""
    if kind == "reset":
        return Reset()
    if kind == "status":
        code = draw(statuses)
        return Status(code, retry_after=draw(retry_after) if draw(st.booleans()) else None)
    if kind == "close":
        return Close()
    if kind == "hang":
        return Hang(seconds=draw(_HANG_SECONDS))
    if kind == "truncate":
        return Truncate(fraction=draw(_TRUNCATE_FRACTIONS))
    if kind == "garbage":
        return Garbage()
    if kind == "delay":
        return Delay(seconds=draw(_DELAY_SECONDS))
    if kind == "slow_body":
        return SlowBody(seconds=draw(_SLOW_SECONDS))
    raise ValueError(f"unknown fault kind {kind!r}; the kinds are {', '.join(FAULT_KINDS)}")


@st.composite
def _faults(
    draw: st.DrawFn,
    kinds: st.SearchStrategy[str],
    statuses: st.SearchStrategy[int],
    retry_after: st.SearchStrategy[int | str],
) -> Fault:
    return _draw_fault(draw, draw(kinds), statuses, retry_after)


def _kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    wanted = FAULT_KINDS if kinds is None else tuple(kinds)
    unknown = sorted(set(wanted) - set(FAULT_KINDS))
    if unknown:
        raise ValueError(f"unknown fault kind(s) {unknown}; the kinds are {', '.join(FAULT_KINDS)}")
    return tuple(k for k in FAULT_KINDS if k in wanted)


def faults(
    kinds: Iterable[str] | None = None,
    *,
    statuses: Sequence[int] = STATUSES,
    retry_after: st.SearchStrategy[int | str] | None = None,
) -> st.SearchStrategy[Fault]:
    """Fault values of the given kinds (default: all of :data:`FAULT_KINDS`).

    ``statuses``: what a ``status`` fault answers. ``retry_after``: its ``Retry-After`` values
    (default :func:`retry_afters`); a status fault carries none about half the time.
    """
    chosen = _kinds(kinds)
    if not chosen:
        raise ValueError("faults() needs at least one kind")
    ra = retry_after if retry_after is not None else retry_afters()
    return _faults(st.sampled_from(chosen), st.sampled_from(statuses), ra)


def schedules(*, persistent: bool = True, most: int = 3) -> st.SearchStrategy[Schedule]:
    """When a rule fires, counted from when it was installed.

    The ``calls``-th matching request, the first ``n`` of them, or — with ``persistent`` —
    every one (an outage).
    """
    later = st.integers(2, max(2, most))
    modes = ["next", "later", "first", "every"] if persistent else ["next", "later", "first"]
    return _schedules(st.sampled_from(modes), later)


@st.composite
def _schedules(
    draw: st.DrawFn, modes: st.SearchStrategy[str], later: st.SearchStrategy[int]
) -> Schedule:
    mode = draw(modes)
    if mode == "next":  # the simplest: shrinks first
        return Schedule(calls=(1,))
    if mode == "later":
        return Schedule(calls=(draw(later),))
    if mode == "first":
        return Schedule(first=draw(later))
    return Schedule()


def matches(
    operations: Sequence[str] = OPERATIONS, *, any_request: bool = True
) -> st.SearchStrategy[Match]:
    """The request of one of ``operations`` (a path template), or — with ``any_request`` — any."""
    options = [Match(method=t.method, path=t.path) for t in (target(op) for op in operations)]
    if any_request:
        options.append(Match())
    if not options:
        raise ValueError("matches() needs at least one operation, or any_request=True")
    return st.sampled_from(options)


def phases() -> st.SearchStrategy[str]:
    """``after_commit`` first: the side effect happened, the client cannot know it."""
    return _PHASES


def fault_rules(
    operations: Sequence[str] = OPERATIONS,
    *,
    kinds: Iterable[str] | None = None,
    statuses: Sequence[int] = STATUSES,
    retry_after: st.SearchStrategy[int | str] | None = None,
    persistent: bool = True,
    any_request: bool = True,
) -> st.SearchStrategy[Rule]:
    """Single fault rules: match (an operation's request) → schedule → fault, in a phase.

    Faults that act on the real answer (``truncate``, ``slow_body``) always come
    ``after_commit``; the others in either phase.
    """
    chosen = _kinds(kinds)
    if not chosen:
        raise ValueError("fault_rules() needs at least one fault kind")
    ra = retry_after if retry_after is not None else retry_afters()
    return _rules(
        st.sampled_from(chosen),
        st.sampled_from(statuses),
        ra,
        matches(operations, any_request=any_request),
        schedules(persistent=persistent),
    )


@st.composite
def _rules(
    draw: st.DrawFn,
    kinds: st.SearchStrategy[str],
    statuses: st.SearchStrategy[int],
    retry_after: st.SearchStrategy[int | str],
    where: st.SearchStrategy[Match],
    on: st.SearchStrategy[Schedule],
) -> Rule:
    kind = draw(kinds)
    fault = _draw_fault(draw, kind, statuses, retry_after)
    match = draw(where)
    schedule = draw(on)
    phase = "after_commit" if kind in ANSWER_KINDS else draw(_PHASES)
    return Rule(fault=fault, match=match, on=schedule, phase=phase)  # type: ignore[arg-type]


@st.composite
def _plan(
    draw: st.DrawFn,
    operations: Sequence[str],
    kinds: tuple[str, ...],
    statuses: Sequence[int],
    retry_after: st.SearchStrategy[int | str],
    max_attempts: int,
) -> FaultPlan:
    chosen = draw(st.lists(st.sampled_from(operations), unique=True, max_size=len(operations)))
    fault = faults(kinds, statuses=statuses, retry_after=retry_after)
    step = st.none() | st.tuples(fault, phases())
    rules: list[Rule] = []
    for operation in chosen:
        spec = target(operation)
        sequence = draw(st.lists(step, min_size=1, max_size=max_attempts))
        for attempt, item in enumerate(sequence, start=1):
            if item is None:
                continue
            kind, phase = item
            if isinstance(kind, Truncate | SlowBody):
                phase = "after_commit"
            rules.append(
                Rule(
                    fault=kind,
                    match=Match(method=spec.method, path=spec.path),
                    on=Schedule(attempts=(attempt,)),
                    phase=phase,  # type: ignore[arg-type]
                )
            )
    return FaultPlan(tuple(rules), seed=draw(st.integers(0, 2**32 - 1)))


def fault_plans(
    operations: Sequence[str] = OPERATIONS,
    *,
    kinds: Iterable[str] | None = None,
    statuses: Sequence[int] = STATUSES,
    retry_after: st.SearchStrategy[int | str] | None = None,
    max_attempts: int = 3,
) -> st.SearchStrategy[FaultPlan]:
    """Whole plans: for some operations, a fault (or none) for each of their first attempts.

    Attempt ``n`` is the n-th attempt of one logical operation (the journal's ``operation``:
    same key, method and path — for ``POST /bots`` the same meeting), counted on the fake the
    plan is installed on. Shrinks towards the empty plan.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1 (got {max_attempts})")
    for operation in operations:
        target(operation)
    ra = retry_after if retry_after is not None else retry_afters()
    return _plan(tuple(operations), _kinds(kinds), tuple(statuses), ra, max_attempts)
