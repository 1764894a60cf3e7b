"""Rules about giving up in time: ``bounded-retries`` and ``client-timeout``.

Both bound something from above. Attempt counts are exact everywhere; durations are exact on
a virtual clock, and on real time an excess is only *suspect* until it repeats (RULES.md:
real-time upper bounds are never a hard failure on one observation).
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.conformance.evidence import (
    attempt_events,
    describe_request,
    make_evidence,
    seconds,
    t,
)
from harness.conformance.rules.registry import Findings, eps_up, register
from harness.conformance.timeline import Attempt, Timeline
from harness.conformance.verdicts import Budgets, Evidence, Run, Verdict
from harness.journal import Event

__all__ = ["bounded_retries", "client_timeout"]


def _time_excess(findings: Findings, run: Run, evidence: Evidence) -> None:
    """Over a time budget: a failure on virtual time, a suspect on real time."""
    if run.virtual_time:
        findings.fail(evidence)
    else:
        findings.suspects.append(evidence)


@register("bounded-retries")
def bounded_retries(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``bounded-retries``: under a persistent outage the client gives up, in attempts and time.

    Definition (RULES.md): in runs with ``facts["kind"] == "persistent_outage"``, for every
    logical operation that met an injected fault, the number of attempts is at most
    ``budgets.max_attempts`` (default 10) and ``a_last − a_first`` (first to last arrival) is at
    most ``budgets.max_retry_time`` (default 300 s of harness time). A run that ended ``hung``
    (the runner had to kill a client that was still retrying or waiting) fails.

    Tolerance: the attempt count is exact. The time span is exact on virtual time (ε = 1e-6 s);
    on real time an excess beyond max(0.25 s, 5 % of the budget) is suspect, and fails only when
    it happens at least twice (two observations); a single one makes the verdict ``skip``.
    """
    findings = Findings("bounded-retries")
    for run in runs:
        kind = run.facts.get("kind")
        if kind != "persistent_outage":
            findings.notes.append(f"{run.scenario}: kind {kind!r} is not a persistent outage")
            continue
        tl = Timeline.of(run)
        chains = tl.faulted_chains()
        if run.end == "hung":
            findings.checked += 1
            findings.runs_checked += 1
            last = tl.attempts[-1] if tl.attempts else None
            findings.fail(
                make_evidence(
                    run,
                    tl,
                    f"the client was still retrying when the run ended: the runner killed it "
                    f"after {len(tl.attempts)} request(s)"
                    + (f", the last at {t(tl, last.start)}" if last else ""),
                    attempt_events(last) if last else [],
                )
            )
            continue
        if not chains:
            findings.notes.append(f"{run.scenario}: no injected fault fired")
            continue
        findings.runs_checked += 1
        for chain in chains.values():
            findings.checked += 1
            _judge_chain(findings, run, tl, chain, budgets)
    return findings.verdict(f"no persistent-outage scenario ran ({len(runs)} run(s))")


def _judge_chain(
    findings: Findings, run: Run, tl: Timeline, chain: Sequence[Attempt], budgets: Budgets
) -> None:
    first, last = chain[0], chain[-1]
    if len(chain) > budgets.max_attempts:
        over = chain[budgets.max_attempts]
        findings.fail(
            make_evidence(
                run,
                tl,
                f"{describe_request(first)} was attempted {len(chain)} times (budget "
                f"{budgets.max_attempts}) from {t(tl, first.start)} to {t(tl, last.start)}; "
                f"attempt {budgets.max_attempts + 1} came at {t(tl, over.start)}",
                [first.request, over.request, last.request],
            )
        )
    span = last.start - first.start
    if span > budgets.max_retry_time + eps_up(run, budgets.max_retry_time):
        _time_excess(
            findings,
            run,
            make_evidence(
                run,
                tl,
                f"{describe_request(first)} kept being retried for {seconds(span)} "
                f"(budget {seconds(budgets.max_retry_time)}): first attempt at "
                f"{t(tl, first.start)}, attempt {len(chain)} at {t(tl, last.start)}",
                [first.request, last.request],
            ),
        )


@register("client-timeout")
def client_timeout(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``client-timeout``: a request the server never answers is abandoned within the budget.

    Definition (RULES.md): in runs with ``facts["kind"] == "hang"``, every exchange that met an
    injected ``hang`` fault ends by the client leaving — a cut ``client_timeout`` (in-process) or
    ``client_gone`` (socket) — no later than ``budgets.timeout_budget`` (default 60 s of harness
    time) after the request arrived. It fails when:

    * the run ended ``hung`` (the runner killed the client);
    * the client has no timeout at all in-process: the run ended ``crashed`` with
      ``ClientWouldHang`` in its detail, or the exchange was cut ``hang``;
    * the client left after more than the budget, or stayed until the server itself closed a
      finite hang that lasted longer than the budget.

    A finite hang that the server ended within the budget proves nothing (the client may not
    have had to time out): that exchange is not counted.

    Tolerance: exact on virtual time (ε = 1e-6 s). On real time an excess beyond
    max(0.25 s, 5 % of the budget) is suspect, and fails only when it happens at least twice; a
    single one makes the verdict ``skip``. Killed or timeout-less clients fail on any clock.
    """
    findings = Findings("client-timeout")
    budget = budgets.timeout_budget
    for run in runs:
        kind = run.facts.get("kind")
        if kind != "hang":
            findings.notes.append(f"{run.scenario}: kind {kind!r} is not a hang scenario")
            continue
        tl = Timeline.of(run)
        hung = [a for a in tl.attempts if a.fault_kind == "hang"]
        no_timeout = run.end == "crashed" and "ClientWouldHang" in run.detail
        if run.end == "hung" or no_timeout:
            findings.checked += 1
            findings.runs_checked += 1
            _fail_whole_run(findings, run, tl, hung)
            continue
        if not hung:
            findings.notes.append(f"{run.scenario}: no hang fault fired")
            continue
        judged = [_judge_hang(findings, run, tl, attempt, budget) for attempt in hung]
        findings.runs_checked += any(judged)
    return findings.verdict(f"no hang scenario left a request unanswered ({len(runs)} run(s))")


def _fail_whole_run(findings: Findings, run: Run, tl: Timeline, hung: list[Attempt]) -> None:
    """The client never left by itself: killed by the runner, or no timeout in-process."""
    open_ = [a for a in hung if not a.ended or (a.cut is not None and a.cut.how == "hang")]
    shown = open_[0] if open_ else (hung[0] if hung else None)
    why = (
        "the runner had to kill the client: it never gave up on a request the server never answered"
        if run.end == "hung"
        else f"the client has no read timeout (it would wait forever): {run.detail}"
    )
    where = f"{describe_request(shown)} at {t(tl, shown.start)}: " if shown else ""
    findings.fail(make_evidence(run, tl, where + why, attempt_events(shown) if shown else []))


def _judge_hang(
    findings: Findings, run: Run, tl: Timeline, attempt: Attempt, budget: float
) -> bool:
    """Judge one hung exchange; False when it proves nothing either way."""
    shown: list[Event] = attempt_events(attempt)
    if attempt.cut is not None and attempt.cut.how == "hang":
        findings.checked += 1
        findings.fail(
            make_evidence(
                run,
                tl,
                f"{describe_request(attempt)} at {t(tl, attempt.start)} met a hang and the "
                "client has no read timeout (it would wait forever)",
                shown,
            )
        )
        return True
    end = attempt.end
    if end is None:
        findings.notes.append(f"{run.scenario}: a hung exchange never ended in the journal")
        return False
    waited = end - attempt.start
    left = attempt.cut is not None and attempt.cut.how in ("client_timeout", "client_gone")
    over = waited > budget + eps_up(run, budget)
    if not left and not over:
        findings.notes.append(
            f"{run.scenario}: the server ended the hang after {seconds(waited)}, within the "
            "budget, before the client had to time out"
        )
        return False
    findings.checked += 1
    if not over:
        return True
    how = "gave up" if left else "was still waiting when the server itself closed the connection"
    _time_excess(
        findings,
        run,
        make_evidence(
            run,
            tl,
            f"{describe_request(attempt)} arrived at {t(tl, attempt.start)} and the server never "
            f"answered; the client {how} only after {seconds(waited)} (budget {seconds(budget)})",
            shown,
        ),
    )
    return True
