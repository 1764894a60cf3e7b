"""What one client call met, in the words the rules read: which rules it feeds, with which facts.

The conformance catalogue designs each scenario and states its facts (``kind``, ``burst``...);
a fuzzer does not know in advance what it built, so it reads the facts off the journal of the
call, like :func:`harness.conformance.clients.runs_from_journal` does for a recorded session —
but with the fault plan at hand it can also say whether a fault was a short burst or an outage:

* ``persistent_outage``: a rule with no counting schedule (it fires on every matching request)
  failed the call's requests — feeds ``bounded-retries`` and, over replays, the backoff rules;
* ``transient_burst`` / ``ambiguous_post``: one or two transient faults (429/502/503/504 with
  ``Retry-After`` of at most :data:`RETRY_AFTER_LIMIT` s, reset, close, hang) and nothing else
  stood in the way — no answer of the fake's own was an error (but the 409 a ``start_bot``
  earns with its own earlier POST), and for ``start_bot`` no bot was already running in the
  meeting — feeds ``retries-transient``;
* a ``hang`` fault also feeds ``client-timeout``.

``no-blind-post``, ``no-retry-non-retryable`` and ``honor-retry-after`` judge any call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.conformance.timeline import Timeline, retry_after_seconds
from harness.faults.plan import FaultPlan, Rule
from harness.journal import CommitEvent, Event

__all__ = [
    "ANY_CALL",
    "BURST_LIMIT",
    "RETRY_AFTER_LIMIT",
    "Situation",
    "pure_outage",
    "situation",
]

#: Rules that judge any call, whatever it met.
ANY_CALL = ("no-blind-post", "no-retry-non-retryable", "honor-retry-after")
#: The most injected faults a call may meet and still be a "short burst" (RULES.md: fewer in
#: a row than a client's own budget would need; the catalogue's bursts are 2 long).
BURST_LIMIT = 2
#: The longest ``Retry-After`` a burst may ask for: a client may give up on a longer one
#: (its own time budget), and that is not a failure to retry.
RETRY_AFTER_LIMIT = 10.0
_TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
_TRANSIENT_CUTS = frozenset({"reset", "close", "hang"})
_FAILING_CUTS = _TRANSIENT_CUTS | {"truncate", "garbage"}


@dataclass(frozen=True, slots=True)
class Situation:
    """What a call met: the main run's kind and feeds, and what else to judge or do."""

    kind: str
    feeds: tuple[str, ...]
    facts: dict[str, Any] = field(default_factory=dict)
    #: A ``hang`` fault fired: a second run feeds ``client-timeout``.
    hang: bool = False
    #: A pure outage (:func:`pure_outage`) that changed nothing: replay the call with fresh
    #: seeds for the backoff rules.
    replayable: bool = False


def _rule_of(plan: FaultPlan) -> dict[str, Rule]:
    return dict(zip(plan.rule_ids(), plan.rules, strict=True))


def _always(rule: Rule | None) -> bool:
    """A rule that fires on every request it matches, from now on."""
    if rule is None:
        return False
    on = rule.on
    counting = (on.calls, on.first, on.every, on.probability, on.attempts, on.before)
    return all(mode is None for mode in counting)


def _failing(fault: dict[str, Any]) -> bool:
    kind = fault.get("kind")
    if kind == "status":
        status = int(fault.get("status", 0))
        return status == 429 or status >= 500
    return kind in _FAILING_CUTS


def _transient(fault: dict[str, Any], retry_after: float | None) -> bool:
    kind = fault.get("kind")
    if kind == "status":
        if fault.get("status") not in _TRANSIENT_STATUSES:
            return False
        return retry_after is None or retry_after <= RETRY_AFTER_LIMIT
    return kind in _TRANSIENT_CUTS


def pure_outage(events: Sequence[Event], plan: FaultPlan) -> bool:
    """Only an outage stood between the client and success, on the one operation it retried.

    The backoff rules read the gaps between the attempts of the main chain as the client's
    own waits; that holds only when every fault the call met came from an always-firing,
    failing rule, on that chain. A fault on another request (the reads of a reconciliation)
    or a one-off fault (``calls``, ``first``) would add its own time to some gaps and not to
    others, in some runs and not in others — and the envelope would compare unlike things.
    """
    tl = Timeline.of_events(tuple(events))
    chain = tl.main_chain()
    if len(chain) < 3:
        return False
    rules = _rule_of(plan)
    main = chain[0].operation
    for attempt in tl.attempts:
        for fault in attempt.faults:
            if attempt.operation != main:
                return False
            if not (_always(rules.get(fault.rule)) and _failing(fault.fault)):
                return False
    return True


def situation(
    events: Sequence[Event],
    plan: FaultPlan,
    operation: str,
    *,
    fresh: bool,
) -> Situation:
    """Classify one call. ``fresh``: nothing in the fake stood in the operation's way before it
    began (for ``start_bot``: no bot already running in that meeting)."""
    tl = Timeline.of_events(tuple(events))
    rules = _rule_of(plan)
    faulted = [a for a in tl.attempts if a.faults]
    fired = [a.faults[0] for a in faulted]
    persistent = any(_always(rules.get(f.rule)) and _failing(f.fault) for f in fired)
    hang = any(f.fault.get("kind") == "hang" for f in fired)
    natural_error = any(
        not a.faults
        and a.status is not None
        and a.status >= 400
        and not (fresh and a.is_post_bots and a.status == 409)  # its own earlier POST's bot
        for a in tl.attempts
    )
    transient = (
        0 < len(fired) <= BURST_LIMIT
        and fresh
        and not natural_error
        and all(
            _transient(
                a.faults[0].fault,
                retry_after_seconds(a.answer.retry_after, a.answer.at)
                if a.answer is not None and a.answer.retry_after is not None
                else None,
            )
            for a in faulted
        )
    )
    if persistent:
        committed = any(isinstance(e, CommitEvent) for e in events)
        return Situation(
            "persistent_outage",
            (*ANY_CALL, "bounded-retries"),
            {"kind": "persistent_outage"},
            hang=hang,
            replayable=not committed and pure_outage(events, plan),
        )
    if transient:
        posting = operation == "start_bot" and any(a.is_post_bots for a in faulted)
        kind = "ambiguous_post" if posting else "transient_burst"
        return Situation(
            kind, (*ANY_CALL, "retries-transient"), {"kind": kind, "burst": len(fired)}, hang=hang
        )
    return Situation("fuzz", ANY_CALL, {"kind": "fuzz"}, hang=hang)
