"""Hypothesis strategies for testing Vexa clients: faults, plans, requests, answers, webhooks.

    from hypothesis import given
    from harness import strategies as vs

    @given(plan=vs.fault_plans(["start_bot"]))
    def test_my_client_survives(plan): ...

Faults and plans — everything a :class:`~harness.faults.FaultPlan` can hold, shrinking towards
the simplest (a reset before a status, the first request before the third, ``after_commit``
before ``before_commit``):

* :func:`faults` — fault values of any kind; :func:`retry_afters` — ``Retry-After`` values as
  delay-seconds or as an HTTP-date;
* :func:`schedules`, :func:`matches`, :func:`phases` — the parts of a rule;
  :func:`fault_rules` — whole rules; :func:`fault_plans` — per operation, a fault (or none)
  for each of its first attempts.

What a client sends — :func:`native_meeting_ids`, :func:`passcodes`, :func:`meeting_urls`,
:func:`meetings` (:class:`MeetingRef`), :func:`bot_requests` (``POST /bots`` bodies Vexa
accepts) and :func:`invalid_bot_requests` (each breaks one of Vexa's rules).

What a client reads — :func:`vexa_responses`: bodies valid against an api.v1 component but
unusual (nulls, unknown fields, empty and long lists, any Unicode); :func:`unusual_answers`:
fault rules that serve them as an operation's answer.

What a webhook receiver gets — :func:`webhook_streams`: deliveries with duplicates and
reorderings (:class:`~harness.webhooks.adversary.StreamPlan`).

Model-based fuzzing over all of these is :mod:`harness.stateful`.
"""

from __future__ import annotations

from harness._strategies.faults import (
    FAULT_KINDS,
    STATUSES,
    fault_plans,
    fault_rules,
    faults,
    matches,
    phases,
    retry_afters,
    schedules,
)
from harness._strategies.operations import OPERATIONS
from harness._strategies.requests import (
    MEETINGS,
    PLATFORMS,
    MeetingRef,
    bot_requests,
    invalid_bot_requests,
    meeting_urls,
    meetings,
    native_meeting_ids,
    passcodes,
)
from harness._strategies.responses import ANSWERS, unusual_answers, vexa_responses
from harness._strategies.webhooks import webhook_streams

__all__ = [
    "ANSWERS",
    "FAULT_KINDS",
    "MEETINGS",
    "OPERATIONS",
    "PLATFORMS",
    "STATUSES",
    "MeetingRef",
    "bot_requests",
    "fault_plans",
    "fault_rules",
    "faults",
    "invalid_bot_requests",
    "matches",
    "meeting_urls",
    "meetings",
    "native_meeting_ids",
    "passcodes",
    "phases",
    "retry_afters",
    "schedules",
    "unusual_answers",
    "vexa_responses",
    "webhook_streams",
]
