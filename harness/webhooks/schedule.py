"""Vexa's retry policy for one webhook emission, as a pure function of what happened.

The sender asks :func:`after` what to do once an attempt has ended; the answer is when the
next attempt is due (on the harness clock) or how the delivery finished. v0.10, with the
numbers of :class:`~harness.webhooks.profiles.WebhookProfile`:

1. The first attempt, then up to three quick retries after ``min(2**n + U(0, 0.5), 10)`` s
   (≈ 1, 2, 4 s), each on a timeout, a connect error, 429, 500, 502, 503 or 504.
2. Any other failure, or the quick attempts running out, puts the emission in the durable
   queue, first due 60 s after it was queued. The worker polls the queue every 30 s, so an
   attempt happens at the first poll tick at or after its due time; after a failed worker
   attempt that started at tick ``T`` the next is due at ``T + 60, 300, 1800, 7200`` in turn.
   When those run out, or the entry is older than 24 h at its tick, it is dropped.
3. A 2xx is delivered. Any other answer below 500 but 429 (a 4xx, a 3xx left after following
   redirects) stops at once: Vexa records it as delivered and never retries.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Literal

from harness.webhooks.profiles import WebhookProfile

__all__ = [
    "ErrorKind",
    "Outcome",
    "Phase",
    "Result",
    "Step",
    "Track",
    "after",
    "final_result",
    "poll_tick",
    "quick_backoff",
    "quick_retryable",
]

Phase = Literal["immediate", "durable"]
Result = Literal["delivered", "rejected", "exhausted", "expired"]
#: How an attempt without an answer ended.
ErrorKind = Literal["timeout", "connect", "protocol", "error"]

_ERROR_WORDS = {
    "timeout": "timed out",
    "connect": "could not connect",
    "protocol": "connection broke without an answer",
    "error": "failed",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended: an HTTP status, or an error kind with its detail."""

    status: int | None = None
    error: ErrorKind | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def describe(self) -> str:
        if self.status is not None:
            return f"answered {self.status}"
        text = _ERROR_WORDS.get(self.error or "error", "failed")
        return f"{text} ({self.detail})" if self.detail else text


@dataclass(frozen=True, slots=True)
class Track:
    """Where one emission's delivery stands between attempts."""

    phase: Phase = "immediate"
    #: Attempts made so far, all phases.
    attempts: int = 0
    #: Attempts made in the current phase.
    in_phase: int = 0
    #: Harness time it entered the durable queue (its age counts from here).
    queued_at: float | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """What to do after an attempt: try again at ``next_at``, or stop with ``result``."""

    track: Track
    next_at: float | None
    result: Result | None
    reason: str


def quick_backoff(n: int, wp: WebhookProfile, rng: random.Random) -> float:
    """The wait before quick retry ``n + 1`` (``n`` = 0 after the first attempt)."""
    return float(min(wp.backoff_base**n + rng.uniform(0, wp.backoff_jitter), wp.backoff_cap))


def poll_tick(t: float, origin: float, interval: float) -> float:
    """The first poll of a worker started at ``origin`` at or after ``t``."""
    if interval <= 0:
        return t
    ticks = math.ceil(round((t - origin) / interval, 9))
    return origin + max(0, ticks) * interval


def quick_retryable(outcome: Outcome, wp: WebhookProfile) -> bool:
    if outcome.status is not None:
        return outcome.status in wp.quick_retry_statuses
    return outcome.error in ("timeout", "connect")


def final_result(outcome: Outcome) -> Result | None:
    """``delivered`` for a 2xx, ``rejected`` for an answer Vexa never retries, else None."""
    if outcome.ok:
        return "delivered"
    status = outcome.status
    if status is not None and status < 500 and status != 429:
        return "rejected"
    return None


def after(
    wp: WebhookProfile,
    track: Track,
    outcome: Outcome,
    *,
    started: float,
    ended: float,
    origin: float,
    rng: random.Random,
) -> Step:
    """The next step for an emission whose attempt began at ``started`` and ended at ``ended``.

    ``origin`` is when the durable worker started polling (its ticks are ``origin + k·poll``).
    """
    done = replace(track, attempts=track.attempts + 1, in_phase=track.in_phase + 1)
    result = final_result(outcome)
    if result is not None:
        return Step(done, None, result, outcome.describe())
    if done.phase == "immediate":
        if quick_retryable(outcome, wp) and done.in_phase < wp.immediate_attempts:
            wait = quick_backoff(done.in_phase - 1, wp, rng)
            return Step(done, ended + wait, None, f"{outcome.describe()}; quick retry")
        if not wp.durable_delays:
            return Step(done, None, "exhausted", f"{outcome.describe()}; no durable queue")
        queued = Track("durable", done.attempts, 0, ended)
        due = poll_tick(ended + wp.durable_delays[0], origin, wp.durable_poll)
        return _durable(wp, queued, due, f"{outcome.describe()}; queued for durable retry")
    if done.in_phase >= len(wp.durable_delays):
        tries = done.attempts
        return Step(
            done, None, "exhausted", f"{outcome.describe()}; gave up after {tries} attempts"
        )
    due = poll_tick(started + wp.durable_delays[done.in_phase], origin, wp.durable_poll)
    return _durable(wp, done, due, f"{outcome.describe()}; durable retry")


def _durable(wp: WebhookProfile, track: Track, due: float, reason: str) -> Step:
    queued = track.queued_at if track.queued_at is not None else due
    if due - queued > wp.max_age:
        return Step(track, None, "expired", f"{reason}; older than {wp.max_age:g} s, dropped")
    return Step(track, due, None, reason)
