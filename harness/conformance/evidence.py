"""Evidence for people: the few journal events that show a violation, in words and times.

A failing verdict must let someone see what went wrong without reading the raw journal:
"POST /bots (meeting google_meet/abc-defg-hij) at t=3.21 s follows a reset after commit at
t=0.4 s with no read in between; 2 bots were created". Times are shown relative to the run's
first event (``t=``), so two runs of one scenario read alike; the raw events, with their
absolute harness-clock stamps, travel along in :attr:`Evidence.events` for the JSON report.
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.conformance.timeline import Attempt, Timeline
from harness.conformance.verdicts import Evidence, Run, Verdict
from harness.journal import (
    AnswerEvent,
    CommitEvent,
    CutEvent,
    Event,
    FaultEvent,
    ReadEvent,
    RequestEvent,
    WebhookEvent,
)

__all__ = [
    "describe_end",
    "describe_request",
    "format_verdict",
    "headline",
    "make_evidence",
    "render_event",
    "seconds",
]

_CUTS = {
    "reset": "a reset",
    "close": "a close without an answer",
    "truncate": "a truncated answer",
    "garbage": "a garbage answer",
    "client_timeout": "a client timeout",
    "client_gone": "the client hanging up",
    "hang": "a hang the client would never leave",
}


def seconds(value: float) -> str:
    """``3.21 s``, ``0.4 s``, ``0.5 ms``: short, but never rounding a difference to nothing."""
    if value == 0:
        return "0 s"
    if abs(value) >= 0.01:
        return f"{value:.3f}".rstrip("0").rstrip(".") + " s"
    return f"{value * 1000:.3g} ms"


def t(timeline: Timeline, at: float) -> str:
    """``t=3.21 s``: a harness timestamp relative to the run's first event."""
    return f"t={seconds(timeline.rel(at))}"


def describe_request(attempt: Attempt) -> str:
    """``POST /bots (meeting google_meet/abc-defg-hij)`` or ``GET /meetings?limit=5``."""
    r = attempt.request
    text = f"{r.method} {r.path}" + (f"?{r.query}" if r.query else "")
    if attempt.is_post_bots and attempt.meeting:
        text += f" (meeting {attempt.meeting})"
    return text


def describe_end(attempt: Attempt) -> str:
    """How the exchange ended, as the client met it: ``a reset after commit``, ``a 503 answer``."""
    phase = attempt.phase
    where = f" {phase.replace('_', ' ')}" if phase else ""
    if attempt.cut is not None:
        text = _CUTS.get(attempt.cut.how, f"a cut ({attempt.cut.how})")
        return text + (
            where if attempt.cut.how in ("reset", "close", "truncate", "garbage") else ""
        )
    if attempt.answer is not None:
        ra = attempt.answer.retry_after
        return f"a {attempt.answer.status} answer" + (f" (Retry-After: {ra})" if ra else "")
    return "no answer (the exchange never ended)"


def render_event(event: Event, timeline: Timeline) -> str:
    """One journal event as a line: ``t=0.4 s  #1 cut: reset``."""
    head = f"{t(timeline, event.at):>12}  #{event.exchange}"
    if isinstance(event, RequestEvent):
        meeting = (
            f" [{event.platform}/{event.native_meeting_id}]" if event.native_meeting_id else ""
        )
        query = f"?{event.query}" if event.query else ""
        return (
            f"{head} {event.method} {event.path}{query}{meeting} attempt {event.attempt} "
            f"(body sha256 {event.body_sha256[:12]})"
        )
    if isinstance(event, FaultEvent):
        spec = ", ".join(f"{k}={v}" for k, v in sorted(event.fault.items()) if k != "kind")
        kind = event.fault.get("kind", "?")
        return f"{head} fault {kind}{f' ({spec})' if spec else ''} {event.phase} [{event.rule}]"
    if isinstance(event, CommitEvent):
        return (
            f"{head} commit {event.effect} meeting {event.meeting_id} "
            f"({event.platform}/{event.native_meeting_id})"
        )
    if isinstance(event, ReadEvent):
        scope = "all meetings" if event.complete else ", ".join(event.covered) or "nothing"
        running = ", ".join(event.running) or "none"
        return f"{head} read showed {scope}; running: {running}"
    if isinstance(event, AnswerEvent):
        ra = f" Retry-After: {event.retry_after}" if event.retry_after is not None else ""
        return f"{head} answer {event.status}{ra}"
    if isinstance(event, CutEvent):
        return f"{head} cut: {event.how}"
    if isinstance(event, WebhookEvent):
        from harness.webhooks.verdicts import describe_webhook_event

        return f"{head} {describe_webhook_event(event)}"
    return f"{head} {event.type}"


def make_evidence(run: Run, timeline: Timeline, text: str, events: Iterable[Event]) -> Evidence:
    """Evidence whose summary is one headline (scenario, seed, what happened) and event lines."""
    unique = {id(e): e for e in events}
    chosen = sorted(unique.values(), key=timeline.position)
    lines = [f"{run.scenario} (seed {run.seed}): {text}"]
    lines += ["  " + render_event(e, timeline) for e in chosen]
    return Evidence(run.scenario, run.seed, "\n".join(lines), tuple(chosen))


def attempt_events(attempt: Attempt, *, reads: bool = False) -> list[Event]:
    """The request, its faults and commits, how it ended (and what it read, if asked)."""
    events: list[Event] = [attempt.request, *attempt.faults, *attempt.commits]
    if reads:
        events += attempt.reads
    if attempt.answer is not None:
        events.append(attempt.answer)
    if attempt.cut is not None:
        events.append(attempt.cut)
    return events


def headline(evidence: Evidence) -> str:
    """The first line of an evidence summary."""
    return evidence.summary.split("\n", 1)[0]


def format_verdict(verdict: Verdict) -> str:
    """A verdict as text for a terminal: ``FAIL no-blind-post: reason`` then its evidence."""
    lines = [f"{verdict.verdict.upper():4} {verdict.rule}: {verdict.reason}"]
    for evidence in verdict.evidence:
        lines += ["    " + line for line in evidence.summary.split("\n")]
    return "\n".join(lines)
