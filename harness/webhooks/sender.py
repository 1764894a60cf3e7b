"""The webhook sender: delivers what the model emits, on the harness clock, never in the way.

The I/O shell around the pure parts. It listens to the model's status changes (under the app
lock, where it only builds envelopes and queues them), and a worker thread with its own event
loop makes the attempts, so a receiver that hangs costs a task, never an API answer. Each
attempt is signed at the moment it is made, answered or timed out on the harness clock, and
journaled as a :class:`~harness.journal.WebhookEvent`; :func:`~harness.webhooks.schedule.after`
says what happens next.

Time. On a :class:`~harness._clock.VirtualClock` nothing waits for real: an attempt is due when
the harness clock says so, and a receiver that does not answer times out when the harness clock
passes the attempt's deadline. :meth:`WebhookSender.run` moves virtual time from deadline to
deadline (lifecycle steps included), letting each attempt happen exactly on time, so a 24-hour
retry schedule plays out in milliseconds. A receiver in another process runs on real time: on a
virtual clock its answer counts as instant unless virtual time moved while it worked.

Receivers in this process: :meth:`WebhookSender.mount` routes every URL with a given origin
(``http://receiver.test``) to a :class:`~harness.webhooks.receivers.Receiver` instead of the
network. Everything else is POSTed over the network exactly as Vexa does.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from harness._clock import VirtualClock
from harness.errors import ConfigurationError
from harness.journal import WebhookEvent
from harness.vexa.lifecycle import Status
from harness.webhooks.adversary import Forgery, forge
from harness.webhooks.events import Emission, Emitter
from harness.webhooks.profiles import WebhookProfile, webhook_profile
from harness.webhooks.receivers import DeliveryError, HttpReceiver, Receiver
from harness.webhooks.schedule import Outcome, Track, after

if TYPE_CHECKING:
    from harness.fake import FakeVexa
    from harness.vexa.model import Meeting, StatusChange

__all__ = ["DeliveryRecord", "DeliveryState", "WebhookSender"]

DeliveryState = Literal[
    "pending", "in_flight", "delivered", "rejected", "exhausted", "expired", "failed"
]
_FINISHED = frozenset({"delivered", "rejected", "exhausted", "expired", "failed"})
#: How often the worker looks at a virtual clock that someone else may move (real seconds):
#: quickly while things happen, backing off to the slower period while nothing does.
_VIRTUAL_POLL = 0.01
_VIRTUAL_IDLE_POLL = 0.2
#: The longest the worker sleeps on a real clock before looking again.
_REAL_POLL = 0.5
#: On a virtual clock, a real receiver still gets this long (real seconds) before we give up.
_REAL_SAFETY_TIMEOUT = 60.0


@dataclass(slots=True)
class _Attempt:
    number: int
    at: float
    deadline: float
    started: float  # time.monotonic(): how long a real receiver has had
    #: The worker thread that made it (a stopped worker hands its attempts back).
    owner: int = 0
    task: asyncio.Task[None] | None = None


@dataclass(slots=True)
class _Delivery:
    number: int
    emission: Emission
    next_at: float | None
    state: DeliveryState = "pending"
    track: Track = field(default_factory=Track)
    reason: str = ""
    last: Outcome | None = None
    attempt: _Attempt | None = None
    #: Replays: one attempt, never retried, journaled with ``adversary``.
    one_shot: bool = False
    adversary: str | None = None
    forgery: Forgery | None = None


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """Where one emission (or one replay) stands, for people and the control API."""

    number: int
    event_id: str
    event_type: str
    url: str
    meeting_id: int
    state: DeliveryState
    attempts: int
    next_at: float | None
    last: str | None
    reason: str
    adversary: str | None

    def describe(self) -> str:
        head = f"{self.event_type} {self.event_id} to {self.url}"
        if self.adversary:
            head += f" ({self.adversary})"
        tries = f"{self.attempts} attempt{'s' * (self.attempts != 1)}"
        text = f"{head}: {self.state} after {tries}"
        return text + (f"; {self.reason}" if self.reason else "")


class WebhookSender:
    """Sends the webhooks of one :class:`~harness.fake.FakeVexa` (``fake.webhooks``)."""

    def __init__(self, fake: FakeVexa, profile: WebhookProfile | None = None) -> None:
        self.fake = fake
        self.clock = fake.clock
        self.profile = profile or webhook_profile(fake.profile)
        model = fake.model
        self.emitter = Emitter(model, self.profile)
        self._jitter = model.random("webhooks:backoff")
        self._forgeries = model.random("webhooks:forgeries")
        #: When the durable queue's worker "started": its 30-second poll ticks count from here.
        self.poll_origin = self.clock.now()
        #: Deliver to hosts other than this machine's loopback. Off by default: a test suite
        #: must never reach out, and a fuzzer may set any webhook URL.
        self.allow_remote = False
        self._cond = threading.Condition()
        self._deliveries: list[_Delivery] = []
        self._mounts: dict[str, Receiver] = {}
        self._worker: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake_event: asyncio.Event | None = None
        self._stopping = False
        model.listeners.append(self._on_change)
        model.extra["webhooks"] = self

    # ------------------------------------------------------------------ configuration

    def mount(self, url: str, receiver: Receiver) -> None:
        """Deliver every URL with ``url``'s origin to ``receiver``, in this process."""
        self._mounts[_origin(url)] = receiver

    def unmount(self, url: str) -> None:
        self._mounts.pop(_origin(url), None)

    @property
    def virtual(self) -> bool:
        return isinstance(self.clock, VirtualClock)

    # ------------------------------------------------------------------ emitting

    def _on_change(self, meeting: Meeting, change: StatusChange) -> None:
        """Model listener (under the app lock): queue what this transition sends."""
        for emission in self.emitter.on_change(meeting, change):
            self._enqueue(_Delivery(0, emission, emission.at))

    def _enqueue(self, delivery: _Delivery) -> None:
        with self._cond:
            delivery.number = len(self._deliveries) + 1
            self._deliveries.append(delivery)
            self._ensure_worker()
            self._cond.notify_all()
        self.wake()

    def trigger(self, meeting_id: int, event_type: str) -> Emission:
        """Send one event for a meeting now, as it stands (the filter does not apply)."""
        with self.fake.app.lock:
            meeting = self.fake.model.meetings.get(meeting_id)
            if meeting is None:
                raise ConfigurationError(f"no meeting with id {meeting_id}")
            if not meeting.data.get("webhook_url"):
                raise ConfigurationError(
                    f"meeting {meeting_id} has no webhook_url: PUT /user/webhook before "
                    "POST /bots (Vexa copies it into meetings started later)"
                )
            now = self.fake.model.now()
            emission = self._trigger(meeting, event_type, now)
        self._enqueue(_Delivery(0, emission, now))
        return emission

    def _trigger(self, meeting: Meeting, event_type: str, now: float) -> Emission:
        from harness.vexa.lifecycle import Source
        from harness.vexa.model import StatusChange

        if event_type == self.profile.recording_event or event_type == "recording.completed":
            records = [r for r in meeting.data.get("recordings") or [] if isinstance(r, dict)]
            if not records:
                raise ConfigurationError(f"meeting {meeting.id} has no recording to announce")
            return self.emitter.emit_recording(meeting, records[-1], now)
        transitions = meeting.data.get("status_transition") or []
        last: dict[str, Any] = transitions[-1] if transitions else {}
        old = Status(str(last["from"])) if last.get("from") else meeting.status
        source = Source(str(last.get("source") or Source.BOT.value))
        change = StatusChange(meeting.id, old, meeting.status, now, source, last.get("reason"))
        return self.emitter.emit(meeting, event_type, now, change)

    def replay(
        self, event_id: str, *, forgery: Forgery | None = None, copies: int = 1
    ) -> list[DeliveryRecord]:
        """Deliver an emitted event again now: same ``event_id`` and body, fresh signature.

        With ``forgery`` the copies are forged that way (wrong secret, stale timestamp...).
        Replays are single attempts, never retried.
        """
        with self._cond:
            original = next((d for d in self._deliveries if d.emission.event_id == event_id), None)
        if original is None:
            raise ConfigurationError(f"no emitted event with id {event_id!r}")
        now = self.clock.now()
        made = []
        for _ in range(copies):
            delivery = _Delivery(
                0,
                original.emission,
                now,
                one_shot=True,
                adversary=forgery or "replay",
                forgery=forgery,
            )
            self._enqueue(delivery)
            made.append(delivery)
        with self._cond:
            return [self._record(d) for d in made]

    # ------------------------------------------------------------------ inspection

    def emitted(self) -> list[Emission]:
        """Every emission so far, in order (replays left out)."""
        with self._cond:
            return [d.emission for d in self._deliveries if not d.one_shot]

    def deliveries(self) -> list[DeliveryRecord]:
        with self._cond:
            return [self._record(d) for d in self._deliveries]

    def pending(self) -> list[DeliveryRecord]:
        """Deliveries not finished yet (due later, or in flight now)."""
        return [r for r in self.deliveries() if r.state not in _FINISHED]

    def problems(self) -> list[str]:
        """One line per delivery that failed, was refused, or is still being retried."""
        return [
            r.describe()
            for r in self.deliveries()
            if r.state in ("rejected", "exhausted", "expired", "failed")
            or (r.state != "delivered" and r.attempts > 0)
        ]

    def next_deadline(self) -> float | None:
        """The next harness time something is due: an attempt, or an in-flight timeout."""
        with self._cond:
            times = [
                d.attempt.deadline if d.attempt is not None else d.next_at
                for d in self._deliveries
                if d.state not in _FINISHED
            ]
        found = [t for t in times if t is not None]
        return min(found) if found else None

    def _record(self, d: _Delivery) -> DeliveryRecord:
        return DeliveryRecord(
            number=d.number,
            event_id=d.emission.event_id,
            event_type=d.emission.event_type,
            url=d.emission.url,
            meeting_id=d.emission.meeting_id,
            state=d.state,
            attempts=d.track.attempts,
            next_at=d.next_at if d.state == "pending" else None,
            last=d.last.describe() if d.last is not None else None,
            reason=d.reason,
            adversary=d.adversary,
        )

    # ------------------------------------------------------------------ driving time

    def settle(self, grace: float = 0.5, limit: float = 10.0) -> bool:
        """Wait (real time, at most ``limit`` s) until nothing due now is left to do.

        An attempt still unanswered after ``grace`` real seconds counts as waiting for the
        harness clock (a hanging receiver): on a virtual clock it times out only when virtual
        time passes its deadline. Returns False if ``limit`` ran out first.
        """
        end = time.monotonic() + limit
        with self._cond:
            self._ensure_worker()
        self.wake()
        with self._cond:
            while not self._quiet(grace):
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, _VIRTUAL_POLL))
        return True

    def _quiet(self, grace: float) -> bool:
        now, real = self.clock.now(), time.monotonic()
        for d in self._deliveries:
            if d.state == "pending" and d.next_at is not None and d.next_at <= now:
                return False
            attempt = d.attempt
            if attempt is not None and (now >= attempt.deadline or real - attempt.started < grace):
                return False
        return True

    def run(self, seconds: float, *, grace: float = 0.5) -> float:
        """Move a virtual clock ``seconds`` forward, stopping at every deadline on the way.

        Lifecycle steps and webhook attempts each happen at their own time; returns the new
        harness time.
        """
        if not self.virtual:
            raise ConfigurationError(
                "run() needs a virtual clock; on real time deliveries happen by themselves"
            )
        end = self.clock.now() + seconds
        while True:
            self.settle(grace)
            now = self.clock.now()
            due = [
                t
                for t in (self.next_deadline(), self.fake.model.next_deadline())
                if t is not None and now < t <= end
            ]
            if not due:
                break
            self.fake.advance(min(due) - now)
        if self.clock.now() < end:
            self.fake.advance(end - self.clock.now())
        self.settle(grace)
        return self.clock.now()

    # ------------------------------------------------------------------ the worker

    def start(self) -> None:
        """Make sure the worker runs (it also starts by itself when there is work)."""
        with self._cond:
            self._ensure_worker(force=True)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker; attempts in flight go back to pending (a restart resumes them)."""
        with self._cond:
            self._stopping = True
            worker = self._worker
        self.wake()
        if worker is not None:
            worker.join(timeout)
        with self._cond:
            self._stopping = False

    def wake(self) -> None:
        """Make the worker look at the clock and its queue now (from any thread)."""
        loop, event = self._loop, self._wake_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop just closed
                loop.call_soon_threadsafe(event.set)

    def _ensure_worker(self, force: bool = False) -> None:
        """Start the worker thread if it is not running (call with the lock held)."""
        if self._worker is not None or self._stopping:
            return
        if not force and all(d.state in _FINISHED for d in self._deliveries):
            return
        self._worker = threading.Thread(
            target=self._thread_main, name="vexa-harness-webhooks", daemon=True
        )
        self._worker.start()

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._main())
        except BaseException as exc:  # a bug in the sender: let fake.check() report it
            self.fake.errors.append(exc)
        finally:
            me = threading.get_ident()
            with self._cond:
                if self._loop is loop:
                    self._loop = self._wake_event = None
                if self._worker is threading.current_thread():
                    self._worker = None
                for d in self._deliveries:
                    if d.attempt is not None and d.attempt.owner == me:
                        # abandoned by stop(): the next worker tries again
                        d.next_at, d.attempt, d.state = d.attempt.at, None, "pending"
                self._cond.notify_all()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            if tasks:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    async def _main(self) -> None:
        wake = asyncio.Event()
        with self._cond:
            self._loop, self._wake_event = asyncio.get_running_loop(), wake
        idle_poll, last_seen = _VIRTUAL_POLL, None
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = self.clock.now()
                starts, overdue = self._take(now)
                if not starts and all(d.state in _FINISHED for d in self._deliveries):
                    if self._worker is threading.current_thread():
                        self._worker = None
                    self._cond.notify_all()
                    return
                wait = self._poll_wait(now)
                if self.virtual:  # back off while the clock stands still and nothing is in flight
                    busy = starts or overdue or any(d.attempt for d in self._deliveries)
                    moved = now != last_seen
                    idle_poll = (
                        _VIRTUAL_POLL if busy or moved else min(2 * idle_poll, _VIRTUAL_IDLE_POLL)
                    )
                    wait, last_seen = idle_poll, now
            for d, attempt in starts:
                attempt.task = asyncio.create_task(self._attempt(d, attempt))
            for d, attempt in overdue:
                if attempt.task is not None:
                    attempt.task.cancel()
                timeout = Outcome(error="timeout", detail=f"no answer within {self._timeout:g} s")
                self._finish(d, attempt, timeout, attempt.deadline)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), wait)
            wake.clear()

    @property
    def _timeout(self) -> float:
        return self.profile.timeout

    def _take(
        self, now: float
    ) -> tuple[list[tuple[_Delivery, _Attempt]], list[tuple[_Delivery, _Attempt]]]:
        """Attempts to start now, and attempts whose harness deadline has passed."""
        starts, overdue = [], []
        due = sorted(
            (d for d in self._deliveries if d.state == "pending" and d.next_at is not None),
            key=lambda d: (d.next_at, d.number),
        )
        for d in due:
            if d.next_at is None or d.next_at > now:
                break
            attempt = _Attempt(
                d.track.attempts + 1,
                now,
                now + self._timeout,
                time.monotonic(),
                owner=threading.get_ident(),
            )
            d.attempt, d.state, d.next_at = attempt, "in_flight", None
            starts.append((d, attempt))
        for d in self._deliveries:
            if d.attempt is not None and d.attempt.task is not None and now >= d.attempt.deadline:
                overdue.append((d, d.attempt))
        return starts, overdue

    def _poll_wait(self, now: float) -> float:
        if self.virtual:
            return _VIRTUAL_POLL
        times = [d.next_at for d in self._deliveries if d.state == "pending" and d.next_at]
        times += [d.attempt.deadline for d in self._deliveries if d.attempt is not None]
        soonest = min(times, default=now + _REAL_POLL)
        return max(0.001, min(_REAL_POLL, soonest - now))

    async def _attempt(self, d: _Delivery, attempt: _Attempt) -> None:
        emission = d.emission
        headers, body = forge(
            d.forgery,
            secret=emission.secret,
            body=emission.body,
            at=attempt.at,
            rng=self._forgeries,
        )
        receiver, path = self._route(emission.url)
        real_timeout = _REAL_SAFETY_TIMEOUT if self.virtual else self._timeout + 1.0
        try:
            status = await receiver.post(headers, body, real_timeout, path)
            outcome = Outcome(status=status)
        except DeliveryError as exc:
            outcome = Outcome(error=exc.kind, detail=exc.detail)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a receiver in this process broke in an unexpected way
            outcome = Outcome(error="error", detail=f"{type(exc).__name__}: {exc}")
        self._finish(d, attempt, outcome, self.clock.now())

    def _route(self, url: str) -> tuple[Receiver, str | None]:
        mounted = self._mounts.get(_origin(url))
        parts = urlsplit(url)
        if mounted is not None:
            return mounted, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if not self.allow_remote and not _loopback(parts.hostname or ""):
            return _Unreachable(url), None
        return HttpReceiver(url, follow_redirects=self.profile.follow_redirects), None

    def _finish(self, d: _Delivery, attempt: _Attempt, outcome: Outcome, answered: float) -> None:
        with self._cond:
            if d.attempt is not attempt:
                return  # already finished (an answer raced its own timeout)
            d.attempt = None
            if answered > attempt.deadline:  # it answered, but later than Vexa waits
                outcome = Outcome(error="timeout", detail=f"no answer within {self._timeout:g} s")
                answered = attempt.deadline
            emission = d.emission
            event = WebhookEvent(
                exchange=0,
                at=attempt.at,
                event_id=emission.event_id,
                event_type=emission.event_type,
                attempt=attempt.number,
                url=emission.url,
                status=outcome.status,
                error=outcome.error,
                answered_at=answered,
                adversary=d.adversary,
            )
            d.last = outcome
            if d.one_shot:
                d.track = Track(attempts=d.track.attempts + 1, in_phase=1)
                d.state = "delivered" if outcome.ok else "failed"
                d.reason = outcome.describe()
            else:
                step = after(
                    self.profile,
                    d.track,
                    outcome,
                    started=attempt.at,
                    ended=answered,
                    origin=self.poll_origin,
                    rng=self._jitter,
                )
                d.track, d.next_at, d.reason = step.track, step.next_at, step.reason
                d.state = step.result or "pending"
            self._cond.notify_all()
        with self.fake.app.lock:
            self.fake.journal.append(event)
        self.wake()


def _loopback(host: str) -> bool:
    """This machine: ``localhost``, 127.0.0.0/8 or ``::1`` (names are never looked up)."""
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Unreachable(Receiver):
    """A host off this machine: the fake never sends it anything unless told to."""

    def __init__(self, url: str) -> None:
        self.label = url

    async def post(
        self,
        headers: Sequence[tuple[str, str]],
        body: bytes,
        timeout: float | None,
        path: str | None = None,
    ) -> int:
        host = urlsplit(self.label).hostname
        raise DeliveryError(
            "connect",
            f"{host} is not this machine: webhooks go only to loopback receivers (localhost, "
            "127.0.0.0/8, ::1); mount one with fake.webhooks.mount(url, receiver), or set "
            "fake.webhooks.allow_remote = True to deliver anywhere",
        )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"
