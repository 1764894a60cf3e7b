"""Virtual time for clients that run in-process: their sleeps become jumps of the harness clock.

A retry chain with a minute of backoff then costs milliseconds, and every gap the journal shows
is exactly the wait the client asked for (``reference/retry.md`` §4).

Sync clients: while :class:`VirtualTime` is entered, ``time.sleep``, ``time.monotonic``,
``time.time``, ``time.perf_counter`` (and their ``_ns`` forms) and ``datetime.datetime.now``
/ ``utcnow`` / ``today`` (what HTTP-date parsing compares against) read and move the harness
clock — **for the thread that entered it only**; every other thread keeps real time, so a
server thread or pytest itself is never frozen.

Aliases: ``from time import sleep`` taken *before* the patch binds the real function. Modules
outside the standard library and the harness core are scanned for such aliases of the
functions above (and of ``datetime.datetime``) and patched too, for the duration of the run.
The standard library is deliberately left alone (``queue``, ``threading`` and ``subprocess``
keep real deadlines), and so is a name bound inside a function body — a client that sleeps
through something the scan cannot see (a C extension, a local alias) waits in real time.

asyncio clients: :func:`virtual_loop` is a looptime-style event loop whose ``time()`` is the
harness clock; when nothing is ready it jumps the clock to the next timer instead of waiting.
The fake answers in the same loop (the in-process transport), so nothing races the jumps. A
sync client that runs a loop of its own (``asyncio.run``) gets such a loop too. Work handed to
other threads (``run_in_executor``) races the jumps, as with looptime.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import selectors
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from harness.fake import FakeVexa

__all__ = ["ClientDeadlock", "TimeBudgetExceeded", "VirtualTime", "virtual_loop"]

_REAL_SLEEP = time.sleep
_REAL_MONOTONIC = time.monotonic
_REAL_MONOTONIC_NS = time.monotonic_ns
_REAL_TIME = time.time
_REAL_TIME_NS = time.time_ns
_REAL_PERF = time.perf_counter
_REAL_PERF_NS = time.perf_counter_ns
_REAL_DATETIME = _dt.datetime

#: Real seconds the asyncio loop waits for outside help (a thread) before calling a deadlock.
_DEADLOCK_GRACE = 2.0
#: The virtual loop's clock resolution: a timer this close to due runs (harness clock values
#: are ~1.8e9, whose float spacing is ~2.4e-7 s).
_LOOP_RESOLUTION = 1e-6


class TimeBudgetExceeded(BaseException):
    """The client kept going past the harness's time cap; raised into it to stop the run.

    A ``BaseException``, like ``KeyboardInterrupt``, so that ``except Exception`` in a retry
    loop does not swallow it.
    """


class ClientDeadlock(BaseException):
    """An asyncio client waits for something that can never happen (no timer, no I/O)."""


# ---------------------------------------------------------------------- the thread registry

_sessions: dict[int, VirtualTime] = {}
_lock = threading.Lock()
_installed = 0
_alias_index: dict[str, list[tuple[str, object]]] = {}
#: The modules of ``_alias_index`` that have aliases (most have none: no need to visit them).
_aliased: dict[str, list[tuple[str, object]]] = {}
#: ``sys.modules`` as last indexed: its size and newest name (it only grows, in order).
_indexed_at: tuple[int, str | None] = (0, None)
_patched_aliases: list[tuple[Any, str, object, object]] = []


def _session() -> VirtualTime | None:
    return _sessions.get(threading.get_ident())


def _sleep(seconds: float) -> None:
    session = _session()
    if session is None:
        _REAL_SLEEP(seconds)
    else:
        session.sleep(seconds)


def _monotonic() -> float:
    session = _session()
    return _REAL_MONOTONIC() if session is None else session.now()


def _monotonic_ns() -> int:
    session = _session()
    return _REAL_MONOTONIC_NS() if session is None else int(session.now() * 1e9)


def _time() -> float:
    session = _session()
    return _REAL_TIME() if session is None else session.now()


def _time_ns() -> int:
    session = _session()
    return _REAL_TIME_NS() if session is None else int(session.now() * 1e9)


def _perf_counter() -> float:
    session = _session()
    return _REAL_PERF() if session is None else session.now()


def _perf_counter_ns() -> int:
    session = _session()
    return _REAL_PERF_NS() if session is None else int(session.now() * 1e9)


class _DatetimeMeta(type):
    """``isinstance(real_datetime, FakeDatetime)`` stays true while the class is swapped."""

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, _REAL_DATETIME)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, _REAL_DATETIME)


class _VirtualDatetime(_REAL_DATETIME, metaclass=_DatetimeMeta):
    """``datetime.datetime`` whose clock readings come from the harness clock (in its thread)."""

    @classmethod
    def now(cls, tz: _dt.tzinfo | None = None) -> Self:
        session = _session()
        return cls.fromtimestamp(_REAL_TIME() if session is None else session.now(), tz)

    @classmethod
    def utcnow(cls) -> Self:
        return cls.now(_dt.UTC).replace(tzinfo=None)

    @classmethod
    def today(cls) -> Self:
        return cls.now()


_TIME_PATCHES: dict[str, Callable[..., Any]] = {
    "sleep": _sleep,
    "monotonic": _monotonic,
    "monotonic_ns": _monotonic_ns,
    "time": _time,
    "time_ns": _time_ns,
    "perf_counter": _perf_counter,
    "perf_counter_ns": _perf_counter_ns,
}
_ORIGINALS: dict[str, object] = {
    "sleep": _REAL_SLEEP,
    "monotonic": _REAL_MONOTONIC,
    "monotonic_ns": _REAL_MONOTONIC_NS,
    "time": _REAL_TIME,
    "time_ns": _REAL_TIME_NS,
    "perf_counter": _REAL_PERF,
    "perf_counter_ns": _REAL_PERF_NS,
}
#: id of a real clock function (or of ``datetime.datetime``) → (the real one, its patch).
_REALS: dict[int, tuple[object, object]] = {
    id(real): (real, _TIME_PATCHES[name]) for name, real in _ORIGINALS.items()
}
_REALS[id(_REAL_DATETIME)] = (_REAL_DATETIME, _VirtualDatetime)
#: Module prefixes never scanned for aliases: the harness core keeps its own clock, test
#: runners keep measuring real durations.
_SKIP_PREFIXES = (
    "harness.",
    "_pytest",
    "pytest",
    "pluggy",
    "hypothesis",
    "coverage",
    "looptime",
    "freezegun",
    "time_machine",
)


def _skipped(name: str) -> bool:
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or (
        top.startswith("_") and top[1:] in sys.stdlib_module_names
    ):
        return True
    if name.startswith("harness.clients") or name == "__main__":
        return False
    return name == "harness" or name.startswith(_SKIP_PREFIXES)


def _index_aliases() -> None:
    """Find module-level aliases of the real clock functions in modules not yet scanned.

    Entering virtual time happens once per client call (thousands of times in a fuzzing
    run): when no module was imported since the last scan, there is nothing to scan.
    """
    global _indexed_at
    modules = sys.modules
    fingerprint = (len(modules), next(reversed(modules), None))
    if fingerprint == _indexed_at:
        return
    _indexed_at = fingerprint
    for name, module in list(modules.items()):
        if name in _alias_index:
            continue
        found: list[tuple[str, object]] = []
        namespace = getattr(module, "__dict__", None)
        if not _skipped(name) and isinstance(namespace, dict):
            for attr, value in list(namespace.items()):
                pair = _REALS.get(id(value))
                if pair is not None and pair[0] is value:
                    found.append((attr, value))
        _alias_index[name] = found
        if found:
            _aliased[name] = found


class _VirtualPolicy(asyncio.DefaultEventLoopPolicy):
    """Loops made in a virtual-time thread are virtual loops (``asyncio.run`` in a sync client).

    Without it, a sync client that runs its own event loop would wait for timers on a clock
    that only its own sleeps move — forever.
    """

    def __init__(self, previous: asyncio.AbstractEventLoopPolicy) -> None:
        super().__init__()
        self.previous = previous

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        session = _session()
        if session is None:
            return self.previous.new_event_loop()
        return virtual_loop(session)


_policies: list[asyncio.AbstractEventLoopPolicy] = []


def _install() -> None:
    global _installed
    _installed += 1
    if _installed > 1:
        return
    previous = asyncio.get_event_loop_policy()
    _policies.append(previous)
    asyncio.set_event_loop_policy(_VirtualPolicy(previous))
    for name, patch in _TIME_PATCHES.items():
        setattr(time, name, patch)
    _dt.datetime = _VirtualDatetime  # type: ignore[misc]
    _index_aliases()
    for name, aliases in _aliased.items():
        module = sys.modules.get(name)
        if module is None:
            continue
        for attr, real in aliases:
            if getattr(module, attr, None) is real:
                replacement = _REALS[id(real)][1]
                setattr(module, attr, replacement)
                _patched_aliases.append((module, attr, real, replacement))


def _uninstall() -> None:
    global _installed
    _installed -= 1
    if _installed > 0:
        return
    for name, real in _ORIGINALS.items():
        setattr(time, name, real)
    if _policies:
        asyncio.set_event_loop_policy(_policies.pop())
    _dt.datetime = _REAL_DATETIME  # type: ignore[misc]
    while _patched_aliases:
        module, attr, real, patch = _patched_aliases.pop()
        if getattr(module, attr, None) is patch:
            setattr(module, attr, real)


# ---------------------------------------------------------------------- the session


class VirtualTime:
    """``with VirtualTime(fake, cap=...)``: this thread's clock is the fake's virtual clock.

    ``cap``: harness seconds after entering at which any further sleep raises
    :class:`TimeBudgetExceeded` into the client (a client that would retry forever).
    """

    def __init__(self, fake: FakeVexa, *, cap: float | None = None) -> None:
        self.fake = fake
        self.cap = cap
        self.started = fake.clock.now()
        self._thread: int | None = None

    def now(self) -> float:
        return self.fake.clock.now()

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        self.advance(float(seconds))

    def advance(self, seconds: float) -> None:
        """Jump the harness clock (the lifecycle catches up); stop a client past the cap."""
        self.fake.advance(seconds)
        if self.cap is not None and self.now() - self.started > self.cap:
            raise TimeBudgetExceeded(
                f"still running after {self.now() - self.started:.1f} s of harness time "
                f"(the harness stops a client at {self.cap:.0f} s)"
            )

    def __enter__(self) -> VirtualTime:
        with _lock:
            ident = threading.get_ident()
            if ident in _sessions:
                raise RuntimeError("this thread already runs on virtual time")
            self._thread = ident
            _sessions[ident] = self
            _install()
        return self

    def __exit__(self, *exc_info: object) -> None:
        with _lock:
            if self._thread is not None:
                _sessions.pop(self._thread, None)
                self._thread = None
                _uninstall()


# ---------------------------------------------------------------------- asyncio


class _JumpingSelector(selectors.DefaultSelector):
    """Polls without waiting; a wait the loop asked for becomes a jump of the harness clock."""

    def __init__(self, session: VirtualTime) -> None:
        super().__init__()
        self._session = session

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready: list[tuple[selectors.SelectorKey, int]] = super().select(0)
        if ready:
            return ready
        if timeout is None:
            # No timer and nothing ready: only another thread could still wake the loop.
            ready = super().select(_DEADLOCK_GRACE)
            if ready:
                return ready
            raise ClientDeadlock(
                "the client waits for something that never happens: no timer is pending and "
                f"nothing woke the event loop for {_DEADLOCK_GRACE:.0f} s of real time"
            )
        if timeout > 0:
            # At least one resolution step, or a float-rounded jump could move nothing at all.
            self._session.advance(max(timeout, _LOOP_RESOLUTION))
        return []


class _VirtualLoop(asyncio.SelectorEventLoop):
    """``time()`` is harness seconds since the loop began: small numbers keep float precision
    (at 1.8e9 s a float cannot even add asyncio's 1 ns clock resolution)."""

    def __init__(self, session: VirtualTime) -> None:
        self._session = session
        self._origin = session.now()
        super().__init__(_JumpingSelector(session))
        self._clock_resolution = _LOOP_RESOLUTION

    def time(self) -> float:
        return self._session.now() - self._origin


def virtual_loop(session: VirtualTime) -> asyncio.AbstractEventLoop:
    """An event loop on the harness clock: ``asyncio.sleep(60)`` jumps instead of waiting."""
    return _VirtualLoop(session)
