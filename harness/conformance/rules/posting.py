"""Rules about sending a request again: ``no-blind-post`` and ``no-retry-non-retryable``.

Both are exact: they count requests and order events, and use no durations, so they hold
the same on a virtual clock and in real time.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from harness.conformance.evidence import (
    attempt_events,
    describe_end,
    describe_request,
    make_evidence,
    t,
)
from harness.conformance.rules.registry import Findings, register
from harness.conformance.timeline import NON_RETRYABLE_STATUSES, Attempt, Timeline
from harness.conformance.verdicts import Budgets, Run, Verdict
from harness.journal import Event, ReadEvent

__all__ = ["no_blind_post", "no_retry_non_retryable"]


def _bots(n: int) -> str:
    return f"{n} bot{'s' if n != 1 else ''} {'was' if n == 1 else 'were'} created"


def _last_clear(
    tl: Timeline, meeting: str, key: str | None, after: int, before: int
) -> tuple[Attempt, ReadEvent] | None:
    """The latest clean covering read between two journal positions, if any."""
    reads = tl.covering_reads(meeting, key, after, before)
    return reads[-1] if reads else None


@register("no-blind-post")
def no_blind_post(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``no-blind-post``: never re-send ``POST /bots`` for a meeting without confirming no bot runs.

    Definition (RULES.md): after a ``POST /bots`` whose outcome the client could not know — a
    cut of any kind (reset, close, truncate, garbage, client timeout, client gone, hang), a
    500/502/503/504 answer, or an exchange that had not even ended when the next POST came —
    a further ``POST /bots`` for the same ``(platform, native_meeting_id)`` (by the same API
    key) is a violation unless, after the ambiguous exchange settled (see below) and before
    the new POST arrived, a read by that key whose answer was a complete 200 (not cut, not
    replaced by a fault) covered the meeting (listed it, or was a complete listing such as
    ``GET /bots/status``) and showed no running bot for it. The *latest* such read decides: a
    POST after a read that showed the bot running is a violation. A re-POST after a 409 is a
    violation too — unless a clean read since showed the bot no longer running (then the new
    POST is not blind: the bot really ended). Retries hidden in the client's transport count:
    the server sees two POSTs with no read between.

    A read counts only if it was taken after the ambiguous exchange could no longer change
    state (:meth:`Timeline.settled_index`: at its commit, at its arrival when it committed
    nothing and had no injected delay, else when it ended) — a delayed original could still
    commit after an earlier read (``reference/retry.md`` §6, "commit late"). That also keeps
    the rule free of races on a socket, where the server may notice a client's timeout
    (``client_gone``) after the client's next request has arrived.

    Tolerance: none needed — journal order only; identical on virtual and real time.
    Evidence: the ambiguous POST, its fault and how it ended, the reads that showed the bot
    running, the re-sent POST, and the number of ``bot_created`` commits for the meeting.
    """
    findings = Findings("no-blind-post")
    for run in runs:
        tl = Timeline.of(run)
        risky = 0
        for (key, meeting), posts in tl.posts_by_meeting().items():
            # Every ambiguous (or 409) POST is an observation: the client could have re-sent.
            risky += sum(1 for p in posts if p.ambiguous or p.status == 409)
            for prev, cur in itertools.pairwise(posts):
                unresolved = prev.end_index is None or prev.end_index > cur.index
                if unresolved and not prev.ambiguous:
                    risky += 1  # a concurrent POST: its outcome was unknown when cur came
                elif not (prev.ambiguous or prev.status == 409):
                    continue
                problem = _blind(tl, prev, cur, meeting, key)
                if problem is None:
                    continue
                text, shown = problem
                created = tl.commits("bot_created", meeting)
                findings.fail(
                    make_evidence(
                        run,
                        tl,
                        f"{describe_request(cur)} at {t(tl, cur.start)} {text}; "
                        f"{_bots(len(created))} for the meeting",
                        [*attempt_events(prev), *shown, cur.request, *created],
                    )
                )
        if risky:
            findings.checked += risky
            findings.runs_checked += 1
    return findings.verdict(
        "no scenario made a POST /bots ambiguous (cut or 5xx) or answered it 409, "
        f"in {len(runs)} run(s)"
    )


def _blind(
    tl: Timeline, prev: Attempt, cur: Attempt, meeting: str, key: str | None
) -> tuple[str, list[Event]] | None:
    """Why ``cur`` is a blind re-POST after ``prev`` (text and events to show), or None."""
    if prev.status == 409 and prev.end_index is not None and prev.end_index < cur.index:
        clear = _last_clear(tl, meeting, key, prev.end_index, cur.index)
        if clear is not None and meeting not in clear[1].running:
            return None
        return f"re-sends after a 409 (bot already running) at {t(tl, prev.start)}", []
    if prev.end_index is None or prev.end_index > cur.index:
        what = f"was sent while the earlier POST at {t(tl, prev.start)} was still unanswered"
    else:
        what = f"follows {describe_end(prev)} at {t(tl, prev.end or prev.start)}"
    settled = tl.settled_index(prev)
    if settled is None or settled > cur.index:
        return f"{what}, and that POST could still create a bot (a delayed commit)", []
    clear = _last_clear(tl, meeting, key, settled, cur.index)
    if clear is None:
        early: list[Event] = [
            r
            for a, r in tl.reads_between(prev.index, cur.index)
            if a.read_indices and a.read_indices[-1] < settled
        ]
        if early:
            return (
                f"{what}; the only read was taken before that POST could no longer create a "
                "bot (it committed late), so it proves nothing",
                early,
            )
        return f"{what} with no read in between", []
    attempt, read = clear
    if meeting in read.running:
        return (
            f"{what}, although the read {describe_request(attempt)} at {t(tl, read.at)} "
            "showed its bot running",
            [attempt.request, read],
        )
    return None


@register("no-retry-non-retryable")
def no_retry_non_retryable(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``no-retry-non-retryable``: a 400/401/403/404/409/422 is not answered by the same request.

    Definition (RULES.md): after a 400, 401, 403, 404, 409 or 422 answer, the same request —
    same method, path, query and body (sha256), sent with the same API key (a new key is
    "fixing auth first") — is not sent again in the run. A re-send is not a violation when
    the state it was judged against changed in between: the client's own requests committed a
    side effect (e.g. it created the meeting that was 404), or — for a 409 on ``POST /bots`` —
    a clean read since showed the bot no longer running.

    Tolerance: none needed — journal order only; identical on virtual and real time.
    """
    findings = Findings("no-retry-non-retryable")
    for run in runs:
        tl = Timeline.of(run)
        judged = False
        flagged: set[tuple[str | None, str, str, str, str]] = set()
        for i, first in enumerate(tl.attempts):
            if first.status not in NON_RETRYABLE_STATUSES or first.end_index is None:
                continue
            judged = True
            findings.checked += 1
            if first.identity in flagged:
                continue
            for again in tl.attempts[i + 1 :]:
                if again.identity != first.identity or again.index < first.end_index:
                    continue
                if _state_changed(tl, first, again):
                    break
                flagged.add(first.identity)
                findings.fail(
                    make_evidence(
                        run,
                        tl,
                        f"{describe_request(again)} was sent again at {t(tl, again.start)} "
                        f"(same method, path, body) after {describe_end(first)} at "
                        f"{t(tl, first.end or first.start)}, with nothing changed in between",
                        [*attempt_events(first), again.request],
                    )
                )
                break
        if judged:
            findings.runs_checked += 1
    return findings.verdict(
        f"no request met a 400/401/403/404/409/422 answer in {len(runs)} run(s)"
    )


def _state_changed(tl: Timeline, first: Attempt, again: Attempt) -> bool:
    assert first.end_index is not None
    if tl.commits_between(first.end_index, again.index):
        return True
    meeting = first.meeting
    if first.status == 409 and first.is_post_bots and meeting is not None:
        clear = _last_clear(tl, meeting, first.request.api_key, first.end_index, again.index)
        return clear is not None and meeting not in clear[1].running
    return False
