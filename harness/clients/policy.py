"""The retry policy the reference clients share: what to retry, how long to wait, when to stop.

Pure and small on purpose: the sync and asyncio clients differ only in how they sleep and
send, so everything that decides lives here (``reference/retry.md`` §1 for the definitions).

Randomness: jitter draws from ``rng`` when one is given, else from the ``random`` module, so
a harness that reseeds ``random`` per run replays a client exactly, and independent seeds
give independent gaps. Clock: ``time.monotonic`` and ``datetime.datetime.now`` are looked up
at call time (never bound at import), so virtual time can stand in for both.
"""

from __future__ import annotations

import datetime
import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "AMBIGUOUS_STATUSES",
    "LIVE_STATUSES",
    "NON_RETRYABLE_STATUSES",
    "RETRYABLE_STATUSES",
    "Budget",
    "GaveUp",
    "RetryPolicy",
    "Unsupported",
    "parse_retry_after",
]

#: Transient answers worth another attempt (Vexa: "Retry on: 429, 502, 503, 504"; 500 "retry
#: with backoff").
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Answers after which nobody knows whether ``POST /bots`` created a bot.
AMBIGUOUS_STATUSES = frozenset({500, 502, 503, 504})
#: "Don't retry on" (Vexa), plus 409 (a bot is already running) and 422 (validation).
NON_RETRYABLE_STATUSES = frozenset({400, 401, 403, 404, 409, 422})
#: Meeting statuses in which a bot runs: sending another would make a second one.
LIVE_STATUSES = frozenset({"requested", "joining", "awaiting_admission", "active"})


class GaveUp(Exception):
    """The client stopped trying; the message is the one-line reason (command exit 1)."""


class Unsupported(Exception):
    """The client does not implement this operation (command exit 2)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a client retries. The defaults are the well-behaved ones.

    Waits are full jitter, ``U(0, min(cap, base · multiplier^n))`` for the n-th retry (n from
    0); with ``jitter="none"`` the upper bound itself. A ``Retry-After`` answer waits at
    least that long. An attempt is never started once it would end past ``max_time``.
    """

    max_attempts: int | None = 8
    #: Seconds from the first attempt within which every attempt must start.
    max_time: float | None = 120.0
    base: float = 0.5
    multiplier: float = 2.0
    cap: float = 30.0
    jitter: Literal["full", "none"] = "full"
    #: Seconds for every request (connect, write, read, pool); None waits forever.
    timeout: float | None = 10.0
    honour_retry_after: bool = True
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES
    #: Read ``GET /meetings`` before re-sending a ``POST /bots`` whose outcome is unknown.
    reconcile: bool = True
    #: Reads a reconciliation may take before the client gives up on knowing.
    reconcile_reads: int = 3
    rng: random.Random | None = field(default=None, compare=False)

    def backoff(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0 = the first retry), without Retry-After."""
        ceiling = min(self.cap, self.base * self.multiplier**retry)
        if self.jitter == "none":
            return ceiling
        draw = self.rng.uniform if self.rng is not None else random.uniform
        return draw(0.0, ceiling)

    def wait(self, retry: int, retry_after: float | None) -> float:
        backoff = self.backoff(retry)
        if retry_after is not None and self.honour_retry_after:
            return max(retry_after, backoff)
        return backoff

    def budget(self) -> Budget:
        return Budget(self, time.monotonic())


@dataclass(slots=True)
class Budget:
    """Attempts and time left for one operation."""

    policy: RetryPolicy
    started: float
    attempts: int = 0

    def attempt(self) -> None:
        self.attempts += 1

    def next_wait(self, why: str, retry_after: float | None = None) -> float:
        """The wait before the next attempt, or :class:`GaveUp` when the budget is spent."""
        policy = self.policy
        if policy.max_attempts is not None and self.attempts >= policy.max_attempts:
            raise GaveUp(f"gave up after {self.attempts} attempt(s): {why}")
        wait = policy.wait(self.attempts - 1, retry_after)
        if policy.max_time is not None:
            elapsed = time.monotonic() - self.started
            if elapsed + wait > policy.max_time:
                raise GaveUp(
                    f"gave up after {self.attempts} attempt(s) and {elapsed:.1f} s "
                    f"(the next one would start past {policy.max_time:.0f} s): {why}"
                )
        return wait


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` header asks for: delay-seconds or an HTTP-date (RFC 9110)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    now = datetime.datetime.now(datetime.UTC)
    return max(0.0, (when - now).total_seconds())


def describe(status: int, body: Any) -> str:
    """``409 An active or requested meeting already exists…``: a status and Vexa's detail."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        detail = detail[0].get("msg")
    return f"{status} {detail}" if detail else f"HTTP {status}"
