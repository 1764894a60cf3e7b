"""The state machine's own invariants, as pure checks on the fake and a call's result.

Each returns what is wrong, in words, or None; :mod:`harness.stateful` turns that into a
:class:`~harness.stateful.RuleViolation` with the program that led there.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping

from harness._strategies.calls import CallResult
from harness.conformance.timeline import Timeline
from harness.fake import Account, FakeVexa
from harness.vexa.lifecycle import LIVE_STATUSES
from harness.web.messages import Request

__all__ = [
    "crashed",
    "live_bot_conflict",
    "lost_meetings",
    "lost_start",
    "unparsed",
    "valid_answer",
]


def live_bot_conflict(fake: FakeVexa) -> str | None:
    """``one-live-bot``: no user has two live bots in one meeting."""
    model = fake.model
    with fake.app.lock:
        model.now()
        live = Counter(
            (m.user_id, m.platform, m.native_meeting_id)
            for m in model.meetings.values()
            if m.status in LIVE_STATUSES and m.native_meeting_id is not None
        )
    for (user, platform, native), count in live.items():
        if count > 1:
            return f"user {user} has {count} live bots in meeting {platform}/{native}"
    return None


def _listed(fake: FakeVexa, account: Account) -> set[int]:
    """The meeting ids ``GET /meetings`` shows the account — read past faults and journal."""
    answer = fake.handle(Request.build("GET", "/meetings", account.headers))
    rows = json.loads(answer.body).get("meetings", []) if answer.status == 200 else []
    return {int(row["id"]) for row in rows}


def lost_meetings(fake: FakeVexa, account: Account, created: Mapping[int, str]) -> str | None:
    """``no-lost-meetings``: every meeting the fake created for the user is listed."""
    if not created:
        return None
    missing = sorted(set(created) - _listed(fake, account))
    if not missing:
        return None
    shown = ", ".join(f"{i} ({created[i]})" for i in missing)
    return f"GET /meetings does not list meeting(s) the fake created: {shown}"


def lost_start(
    fake: FakeVexa, account: Account, result: CallResult, created: Mapping[int, str]
) -> str | None:
    """``no-lost-meetings``: a ``start_bot`` that succeeded left a meeting it created."""
    if result.call.operation != "start_bot" or not result.succeeded:
        return None
    if valid_answer(result) is not None:
        return None  # the answer was the adversary's, not the model's
    args = result.call.args
    platform, native = str(args["platform"]), str(args["native_meeting_id"])
    with fake.app.lock:
        found = fake.model.newest(account.user_id, platform, native)
    if found is not None and found.id in created:
        return None
    return (
        f"start_bot for {platform}/{native} succeeded but the fake holds no meeting it "
        "created for it"
    )


def valid_answer(result: CallResult) -> tuple[int, str] | None:
    """(status, body) when the call's last answer was an injected 2xx body, else None."""
    tl = Timeline.of_events(tuple(result.events))
    if not tl.attempts:
        return None
    last = tl.attempts[-1]
    fault = last.fault
    if not (fault and fault.get("kind") == "status" and last.succeeded):
        return None
    body = str(fault.get("body") or "")
    return int(fault["status"]), body if len(body) <= 300 else body[:297] + "..."


def unparsed(result: CallResult) -> str | None:
    """``parses-valid-answers``: a call answered with a valid body succeeds."""
    valid = valid_answer(result)
    if valid is None or result.succeeded:
        return None
    return (
        f"{result.call.operation} ended {result.end} ({result.detail}) although its answer "
        f"was a complete {valid[0]} whose body validates against api.v1: {valid[1]}"
    )


def crashed(result: CallResult) -> str | None:
    """``no-crash``: a client gives up with an error of its own, never a programming error."""
    if result.end != "crashed":
        return None
    return f"{result.call.operation} crashed (a programming error, not giving up): {result.detail}"
