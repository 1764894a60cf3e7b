"""Rules about recovering from transient trouble: ``retries-transient``, ``honor-retry-after``."""

from __future__ import annotations

from collections.abc import Sequence

from harness.conformance.evidence import (
    attempt_events,
    describe_end,
    describe_request,
    make_evidence,
    seconds,
    t,
)
from harness.conformance.rules.registry import Findings, eps_low, register
from harness.conformance.timeline import Attempt, Timeline, retry_after_seconds
from harness.conformance.verdicts import Budgets, Run, Verdict
from harness.journal import Event

__all__ = ["TRANSIENT_KINDS", "honor_retry_after", "retries_transient"]

#: Scenario kinds (``Run.facts["kind"]``) after which the client is expected to succeed.
TRANSIENT_KINDS = frozenset({"transient_burst", "ambiguous_post", "retry_after"})


def _ended(run: Run) -> str:
    detail = " ".join(run.detail.split())
    if len(detail) > 120:
        detail = detail[:117] + "..."
    return f"ended {run.end}" + (f' ("{detail}")' if detail else "")


def _trouble(run: Run, faulted: Sequence[Attempt]) -> str:
    burst = run.facts.get("burst")
    kinds = sorted({a.fault_kind or "?" for a in faulted})
    statuses = sorted(
        {str(a.fault.get("status")) for a in faulted if a.fault and "status" in a.fault}
    )
    what = ", ".join(statuses if kinds == ["status"] else kinds)
    count = f"a burst of {burst}" if isinstance(burst, int) else f"{len(faulted)}"
    return f"{count} injected failure(s) ({what})"


@register("retries-transient")
def retries_transient(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``retries-transient``: a short burst of transient failures is retried until success.

    Definition (RULES.md): when an operation meets a short burst of transient failures (429,
    502, 503, 504, timeouts, resets; fewer in a row than the client's own budget would need),
    it retries and eventually succeeds. Judged on runs whose ``facts["kind"]`` is
    ``transient_burst``, ``ambiguous_post`` or ``retry_after`` and in which at least one
    injected fault fired:

    * the client ends ``succeeded``; and
    * for ``POST /bots`` (``run.operation == "start_bot"``, or the faults hit ``POST /bots``):
      exactly one ``bot_created`` commit for each meeting
      the client POSTed by the end of the run — reconcile-then-retry after an ambiguous
      failure (a client that read the meeting, saw its bot running and accepted that as
      success also has exactly one);
    * for any other operation: the last attempt of the faulted operation got a complete 2xx.

    Tolerance: none — outcomes and counts only; identical on virtual and real time.
    """
    findings = Findings("retries-transient")
    for run in runs:
        kind = run.facts.get("kind")
        if kind not in TRANSIENT_KINDS:
            findings.notes.append(f"{run.scenario}: kind {kind!r} is not a transient scenario")
            continue
        tl = Timeline.of(run)
        faulted = [a for a in tl.attempts if a.faults]
        if not faulted:
            findings.notes.append(f"{run.scenario}: no injected fault fired")
            continue
        findings.runs_checked += 1
        posts = tl.posts_by_meeting()
        if posts and (run.operation == "start_bot" or any(a.is_post_bots for a in faulted)):
            for (_, meeting), chain in posts.items():
                findings.checked += 1
                created = tl.commits("bot_created", meeting)
                if run.end == "succeeded" and len(created) == 1:
                    continue
                findings.fail(
                    make_evidence(
                        run,
                        tl,
                        f"{run.operation} for meeting {meeting} {_ended(run)} after "
                        f"{len(chain)} POST /bots through {_trouble(run, faulted)}; "
                        f"{len(created)} bot(s) created (exactly 1 expected)",
                        [e for a in chain for e in attempt_events(a)] + list(created),
                    )
                )
            continue
        findings.checked += 1
        chain = tl.chains()[faulted[0].operation]
        last = chain[-1]
        if run.end == "succeeded" and last.succeeded:
            continue
        events: list[Event] = [e for a in chain for e in attempt_events(a)]
        findings.fail(
            make_evidence(
                run,
                tl,
                f"{describe_request(last)}: the client {_ended(run)} after {len(chain)} "
                f"attempt(s) through {_trouble(run, faulted)}; the last attempt, at "
                f"{t(tl, last.start)}, met {describe_end(last)}",
                events,
            )
        )
    return findings.verdict(
        f"no transient-failure scenario injected a fault into the client's requests "
        f"({len(runs)} run(s))"
    )


def _next_after(chain: Sequence[Attempt], i: int) -> Attempt | None:
    """The first attempt of the chain that arrived after attempt ``i``'s answer went out."""
    end = chain[i].end_index
    assert end is not None
    for later in chain[i + 1 :]:
        if later.index > end:
            return later
    return None


@register("honor-retry-after")
def honor_retry_after(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``honor-retry-after``: the next attempt waits at least what ``Retry-After`` asked.

    Definition (RULES.md, RFC 9110 §10.2.3): if a (non-2xx) answer carried ``Retry-After`` —
    delay-seconds ``D`` or an HTTP-date ``T`` — the next attempt of that operation (the first
    request of the same logical operation to arrive after the answer's last byte went out)
    arrives no earlier than ``answer.at + D − ε`` (or ``T − ε``; the date is compared on the
    harness clock, which is seconds since the epoch also on virtual time). A client that gave
    up instead is not judged here (``retries-transient`` covers giving up).

    Tolerance ε (a lower bound, measured from the answer's last byte, so sound on any network):
    1e-6 s on virtual time; 2 ms on real time (``reference/retry.md`` §3.1: a client that slept
    ``s`` shows a gap ≥ s + 0.94 ms on loopback).
    """
    findings = Findings("honor-retry-after")
    for run in runs:
        tl = Timeline.of(run)
        eps = eps_low(run)
        before = findings.checked
        for chain in tl.chains().values():
            for i, prev in enumerate(chain):
                answer = prev.answer
                if answer is None or answer.retry_after is None or 200 <= answer.status < 300:
                    continue
                delay = retry_after_seconds(answer.retry_after, answer.at)
                if delay is None:
                    findings.notes.append(f"unparsable Retry-After {answer.retry_after!r}")
                    continue
                nxt = _next_after(chain, i)
                if nxt is None:
                    findings.notes.append(f"{run.scenario}: no retry followed the Retry-After")
                    continue
                findings.checked += 1
                waited = nxt.start - answer.at
                if waited >= delay - eps:
                    continue
                form = (
                    f"{seconds(delay)}"
                    if answer.retry_after.strip().isdigit()
                    else f"{seconds(delay)} (HTTP-date {answer.retry_after})"
                )
                findings.fail(
                    make_evidence(
                        run,
                        tl,
                        f"{describe_request(nxt)} arrived at {t(tl, nxt.start)}, only "
                        f"{seconds(waited)} after {describe_end(prev)} went out at "
                        f"{t(tl, answer.at)}; Retry-After asked for {form}",
                        [*attempt_events(prev), nxt.request],
                    )
                )
        if findings.checked > before:
            findings.runs_checked += 1
    return findings.verdict(
        f"the client never retried after an answer carrying Retry-After ({len(runs)} run(s))"
    )
