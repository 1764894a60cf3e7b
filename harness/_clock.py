"""The harness clock: one source of time for the model, the journal and every fault.

Two kinds: :class:`SystemClock` follows the wall clock (for clients in other processes), and
:class:`VirtualClock` only moves when told to (for in-process clients, whose sleeps become
jumps). Nothing else in the harness reads ``time`` directly, which is what makes a run with the
same seed replay exactly.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["DEFAULT_EPOCH", "Clock", "SystemClock", "VirtualClock"]

#: Where virtual time starts: a fixed instant, so timestamps in answers are reproducible.
DEFAULT_EPOCH = datetime(2026, 6, 20, 9, 0, 0, tzinfo=UTC).timestamp()


@runtime_checkable
class Clock(Protocol):
    """Seconds since the Unix epoch on the harness timeline."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time. ``now`` is wall time, but it never goes backwards within one run."""

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._wall0 + (time.monotonic() - self._mono0)

    def sleep(self, seconds: float) -> None:
        # An Event wait rather than time.sleep: tests that patch time.sleep must not patch us.
        threading.Event().wait(max(0.0, seconds))

    def __repr__(self) -> str:
        return "SystemClock()"


class VirtualClock:
    """Time that moves only by :meth:`advance` (or :meth:`sleep`, which is the same jump)."""

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Jump forward; returns the new time. Time never goes backwards."""
        if seconds < 0:
            raise ValueError(f"time can't go backwards (advance({seconds!r})); pass seconds >= 0")
        with self._lock:
            self._now += seconds
            return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))

    def __repr__(self) -> str:
        return f"VirtualClock(now={self._now!r})"
