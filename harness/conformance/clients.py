"""The clients under test, three kinds: a Python adapter, a command, a user-driven base URL.

1. :class:`PythonClient` — an *adapter*: any object whose methods are the command-protocol
   operations, ``method(base_url, api_key, args, *, transport=None)``, sync or ``async``
   (see :class:`ClientAdapter`). It runs in-process on virtual time: it gets the in-process
   base URL and an httpx transport to the fake (both an ``httpx.BaseTransport`` and an
   ``httpx.AsyncBaseTransport``) and must hand that transport to its httpx client. Sync
   adapters run with the clock functions patched (:mod:`harness.conformance.vtime`; note the
   ``from time import sleep`` caveat there); async ones on a virtual-time event loop with the
   fake in the same loop. ``global random`` is reseeded per run, so runs replay exactly and
   repeated runs draw independent jitter. Returning means success; raising
   :class:`~harness.clients.policy.Unsupported` or ``NotImplementedError`` means the
   operation is not supported; any other exception means the client gave up (a programming
   error — ``TypeError``, ``AttributeError``… — counts as a crash). An adapter that cannot
   use an httpx transport (``requests``, urllib3) sets ``needs_socket = True``: it then gets
   the fake on a loopback port, on real time, like a command.
2. :class:`CommandClient` — the command-client protocol of DESIGN.md, exactly:
   ``<cmd...> <operation> <args-json>`` with ``VEXA_API_BASE`` and ``VEXA_API_KEY``, exit
   0/1/2, against the fake on a loopback port on real time. Any other exit code or a
   traceback is ``crashed``; stdout that is not JSON on exit 0 is ``garbage``; a process
   still running past its budget is killed (with its process group) and reported ``hung``.
3. :class:`BaseUrlSession` — the harness serves one scenario's fake and records; a person
   or any tool drives a client at ``session.url``; ``session.finish()`` is the run to judge.
   A journal saved from ``GET /_harness/journal`` of ``vexa-harness serve`` is judged with
   :func:`runs_from_journal` (``vexa-harness conform --journal PATH``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, get_args

import httpx

from harness._clock import Clock, VirtualClock
from harness.clients.policy import Unsupported
from harness.conformance.catalogue import Scenario, Stage, prepare
from harness.conformance.verdicts import ClientEnd, Run
from harness.conformance.vtime import (
    ClientDeadlock,
    TimeBudgetExceeded,
    VirtualTime,
    virtual_loop,
)
from harness.errors import ConfigurationError
from harness.fake import IN_PROCESS_BASE_URL, FakeVexa
from harness.journal import AnswerEvent, CutEvent, Event, FaultEvent, RequestEvent
from harness.server.inprocess import ClientWouldHang

__all__ = [
    "HANG_GRACE",
    "BaseUrlSession",
    "ClientAdapter",
    "ClientUnderTest",
    "CommandClient",
    "Ending",
    "Limits",
    "PythonClient",
    "StagedClock",
    "events_from_json",
    "runs_from_journal",
]

#: Real seconds a request may stay unanswered beyond the timeout budget before the client
#: counts as hung (real time needs slack: process start, scheduling).
HANG_GRACE = 2.0
#: Exceptions that mean the adapter itself is broken, not that it gave up.
_CRASHES = (
    AttributeError,
    ImportError,
    NameError,
    SyntaxError,
    TypeError,
    AssertionError,
    RecursionError,
)


@dataclass(frozen=True, slots=True)
class Ending:
    """How the client's attempt at the operation ended, and its one-line reason."""

    end: ClientEnd
    detail: str = ""


class ClientAdapter(Protocol):
    """The ten operations; an adapter may implement any subset (missing = unsupported).

    Each takes ``(base_url, api_key, args, *, transport=None)`` and may be ``async``.
    """

    def start_bot(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def stop_bot(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def bot_status(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def get_transcript(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def list_meetings(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def update_meeting(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def delete_meeting(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def update_bot_config(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def set_webhook(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...

    def delete_recording(
        self, base_url: str, api_key: str, args: Mapping[str, Any], *, transport: Any = None
    ) -> Any: ...


class ClientUnderTest(Protocol):
    """What the runner needs from any kind of client."""

    name: str
    #: Runs are judged with exact (virtual) or real-time tolerances.
    virtual_time: bool
    #: Runs may overlap in threads (each has its own fake).
    concurrent: bool

    def new_clock(self) -> Clock: ...

    def ready(self, fake: FakeVexa) -> None:
        """The scenario's state is built; the client's part of the run starts now."""

    def run(self, stage: Stage, limits: Limits) -> Ending: ...


@dataclass(frozen=True, slots=True)
class Limits:
    """When the harness stops a client that will not stop by itself."""

    #: Requests in one run; more and the client is stopped (``hung``).
    max_requests: int
    #: Harness seconds in one run.
    max_time: float
    #: Harness seconds one request may stay unanswered before the client counts as hung.
    max_wait: float


# ---------------------------------------------------------------------- clocks


class StagedClock:
    """Virtual while a scenario's state is built, then real wall time (:meth:`go_live`).

    Setting up "a meeting whose bot is active" takes seconds of lifecycle; on a plain system
    clock the run would wait for them. This clock starts a little in the past, jumps through
    the setup, then follows the wall clock from :meth:`go_live` on — so ``Retry-After``
    HTTP-dates mean the same to the fake and to a client in another process.
    """

    def __init__(self, lead: float = 120.0) -> None:
        self._now = time.time() - lead
        self._wall0: float | None = None
        self._mono0 = 0.0

    def now(self) -> float:
        if self._wall0 is None:
            return self._now
        return self._wall0 + (time.monotonic() - self._mono0)

    def advance(self, seconds: float) -> float:
        if self._wall0 is not None:
            raise RuntimeError("the clock is live; it cannot jump any more")
        self._now += max(0.0, seconds)
        return self._now

    def go_live(self) -> None:
        if self._wall0 is None:
            wall = time.time()
            self._wall0, self._mono0 = max(wall, self._now), time.monotonic()

    def sleep(self, seconds: float) -> None:
        if self._wall0 is None:
            self.advance(seconds)
        else:
            threading.Event().wait(max(0.0, seconds))

    def __repr__(self) -> str:
        return f"StagedClock(live={self._wall0 is not None})"


# ---------------------------------------------------------------------- kind 1: Python


class _Stopped(BaseException):
    """Raised into an in-process client to stop it; carries how the run ended."""

    def __init__(self, end: ClientEnd, detail: str) -> None:
        super().__init__(detail)
        self.end: ClientEnd = end
        self.detail = detail


class _Counter:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def tick(self) -> None:
        self.count += 1
        if self.count > self.limit:
            raise _Stopped(
                "hung",
                f"still sending requests after {self.limit} in one run "
                "(the harness stops a client there)",
            )


def _would_hang(exc: ClientWouldHang) -> _Stopped:
    return _Stopped("hung", f"waits forever on a request that is never answered: {exc}")


class _GuardedTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The in-process transport, sync and async at once, counting requests and turning "would
    hang forever" into a stop. Both faces, so a sync adapter that runs an async client with
    ``asyncio.run`` can hand it the same transport."""

    def __init__(self, fake: FakeVexa, counter: _Counter) -> None:
        self._sync = fake.transport()
        self._async = fake.async_transport()
        self._counter = counter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._counter.tick()
        try:
            return self._sync.handle_request(request)
        except ClientWouldHang as exc:
            raise _would_hang(exc) from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._counter.tick()
        try:
            return await self._async.handle_async_request(request)
        except ClientWouldHang as exc:
            raise _would_hang(exc) from None


def _summary(value: object) -> str:
    try:
        text = json.dumps(value, default=str, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _ending_of(call: Callable[[], object]) -> Ending:
    """Run the client's call and say how it ended."""
    try:
        result = call()
    except _Stopped as stop:
        return Ending(stop.end, stop.detail)
    except (TimeBudgetExceeded, ClientDeadlock) as exc:
        return Ending("hung", str(exc))
    except (Unsupported, NotImplementedError) as exc:
        return Ending("unsupported", _one_line(exc))
    except _CRASHES as exc:
        return Ending("crashed", _one_line(exc))
    except Exception as exc:
        return Ending("gave_up", _one_line(exc))
    return Ending("succeeded", _summary(result))


def _run_coroutine(session: VirtualTime, make: Callable[[], Any]) -> object:
    loop = virtual_loop(session)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(make())
    finally:
        session.cap = None  # cleaning up must not trip the cap again
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                with contextlib.suppress(BaseException):
                    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            with contextlib.suppress(BaseException):
                loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


class PythonClient:
    """Kind 1: an adapter object, run in-process on virtual time (or on a socket)."""

    def __init__(self, adapter: object, name: str | None = None) -> None:
        self.adapter = adapter
        self.name = name or f"{type(adapter).__module__}.{type(adapter).__qualname__}"
        self.socket = bool(getattr(adapter, "needs_socket", False))
        self.virtual_time = not self.socket
        #: In-process runs patch process-wide clock functions: one at a time.
        self.concurrent = self.socket

    @classmethod
    def load(cls, spec: str) -> PythonClient:
        """``module:attr`` — an adapter object, or a class/factory called with no arguments."""
        import importlib

        module_name, _, attr = spec.partition(":")
        if not module_name or not attr:
            raise ConfigurationError(
                f"--client-py {spec!r}: write module:attribute, e.g. "
                "harness.clients.sync_client:HttpxAdapter"
            )
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ConfigurationError(f"--client-py {spec!r}: cannot import: {exc}") from None
        target: Any = module
        for part in attr.split("."):
            try:
                target = getattr(target, part)
            except AttributeError:
                raise ConfigurationError(
                    f"--client-py {spec!r}: {module_name} has no attribute {attr!r}"
                ) from None
        adapter = target() if inspect.isclass(target) or inspect.isfunction(target) else target
        return cls(adapter, spec)

    def supports(self, operation: str) -> bool:
        return callable(getattr(self.adapter, operation, None))

    def new_clock(self) -> Clock:
        return StagedClock() if self.socket else VirtualClock()

    def ready(self, fake: FakeVexa) -> None:
        if isinstance(fake.clock, StagedClock):
            fake.clock.go_live()

    def run(self, stage: Stage, limits: Limits) -> Ending:
        method = getattr(self.adapter, stage.operation, None)
        if not callable(method):
            return Ending("unsupported", f"the adapter has no {stage.operation} method")
        if self.socket:
            return _run_on_socket(stage, limits, method)
        fake, counter = stage.fake, _Counter(limits.max_requests)
        key, args = stage.account.api_key, stage.args
        saved = random.getstate()
        random.seed(fake.seed)
        try:
            transport = _GuardedTransport(fake, counter)
            with VirtualTime(fake, cap=limits.max_time) as session:
                if inspect.iscoroutinefunction(method):
                    return _ending_of(
                        lambda: _run_coroutine(
                            session,
                            lambda: method(IN_PROCESS_BASE_URL, key, args, transport=transport),
                        )
                    )
                return _ending_of(
                    lambda: method(IN_PROCESS_BASE_URL, key, args, transport=transport)
                )
        finally:
            random.setstate(saved)


# ---------------------------------------------------------------------- real time


class _Watch:
    """Decides, on real time, when a client that will not stop has to be stopped."""

    def __init__(self, fake: FakeVexa, limits: Limits) -> None:
        self.fake = fake
        self.limits = limits
        self.started = fake.clock.now()

    def events(self) -> list[Event]:
        for _ in range(10):
            try:
                return list(self.fake.journal)
            except RuntimeError:  # the server thread appended while we copied
                continue
        return []

    def open_requests(self, events: Sequence[Event]) -> list[RequestEvent]:
        ended = {e.exchange for e in events if isinstance(e, AnswerEvent | CutEvent)}
        return [e for e in events if isinstance(e, RequestEvent) and e.exchange not in ended]

    def reason_to_stop(self) -> str | None:
        events = self.events()
        now = self.fake.clock.now()
        requests = sum(1 for e in events if isinstance(e, RequestEvent))
        if requests > self.limits.max_requests:
            return (
                f"still sending requests after {self.limits.max_requests} in one run "
                "(the harness stops a client there)"
            )
        for request in self.open_requests(events):
            if now - request.at > self.limits.max_wait:
                return (
                    f"{request.method} {request.path} got no answer for "
                    f"{now - request.at:.1f} s and the client neither gave up on it nor "
                    "finished (no timeout?)"
                )
        if now - self.started > self.limits.max_time:
            return f"still running after {now - self.started:.0f} s"
        return None

    def settle(self, seconds: float = 1.0) -> None:
        """Let the server record how the last exchanges ended (a closed socket, a cut)."""
        deadline = time.monotonic() + seconds
        while self.open_requests(self.events()) and time.monotonic() < deadline:
            threading.Event().wait(0.01)


def _run_on_socket(stage: Stage, limits: Limits, method: Callable[..., Any]) -> Ending:
    """A Python adapter that needs a real socket: a thread against the served fake."""
    fake, key, args = stage.fake, stage.account.api_key, stage.args
    outcome: list[Ending] = []
    with fake.serve() as server:
        watch = _Watch(fake, limits)
        thread = threading.Thread(
            target=lambda: outcome.append(_ending_of(lambda: method(server.url, key, args))),
            name="vexa-harness-client",
            daemon=True,
        )
        thread.start()
        stop_reason = None
        while thread.is_alive():
            thread.join(0.02)
            if thread.is_alive() and (stop_reason := watch.reason_to_stop()) is not None:
                break
        if stop_reason is not None:
            server.stop_thread()  # closing every connection is all we can do to a thread
            thread.join(5.0)
            return Ending("hung", stop_reason)
        watch.settle()
    return outcome[0]


# ---------------------------------------------------------------------- kind 2: command


class CommandClient:
    """Kind 2: ``<argv...> <operation> <args-json>``, once per run, on real time."""

    virtual_time = False
    concurrent = True

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if not argv:
            raise ConfigurationError("--client-cmd is empty; give the command that runs it")
        self.argv = list(argv)
        self.name = name or " ".join(argv)
        self.env = dict(env or {})
        #: Set when the job is interrupted: every running command is killed at once.
        self.abort = threading.Event()

    def new_clock(self) -> Clock:
        return StagedClock()

    def ready(self, fake: FakeVexa) -> None:
        assert isinstance(fake.clock, StagedClock)
        fake.clock.go_live()

    def run(self, stage: Stage, limits: Limits) -> Ending:
        fake = stage.fake
        with fake.serve() as server:
            env = {
                **os.environ,
                **self.env,
                "VEXA_API_BASE": server.url,
                "VEXA_API_KEY": stage.account.api_key,
            }
            argv = [*self.argv, stage.operation, json.dumps(stage.args, separators=(",", ":"))]
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env=env,
                    start_new_session=True,  # so a kill takes its children with it
                )
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot start the client command {self.argv[0]!r}: {exc.strerror or exc}"
                ) from None
            watch = _Watch(fake, limits)
            stop_reason = None
            while True:
                try:
                    stdout, stderr = process.communicate(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    stop_reason = watch.reason_to_stop()
                    if self.abort.is_set():
                        stop_reason = "the conformance job was interrupted"
                    if stop_reason is not None:
                        with contextlib.suppress(ProcessLookupError, PermissionError):
                            os.killpg(process.pid, signal.SIGKILL)
                        stdout, stderr = process.communicate()
                        break
            watch.settle()
        if stop_reason is not None:
            return Ending("hung", f"killed: {stop_reason}")
        return _classify(process.returncode, stdout, stderr)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    return line if len(line) <= 300 else line[:297] + "..."


def _classify(code: int, stdout: bytes, stderr: bytes) -> Ending:
    out = stdout.decode("utf-8", "replace").strip()
    err = stderr.decode("utf-8", "replace")
    if "Traceback (most recent call last)" in err:
        return Ending("crashed", f"exit {code} with a traceback: {_last_line(err)}")
    if code == 0:
        if out:
            try:
                json.loads(out)
            except ValueError:
                shown = out if len(out) <= 80 else out[:77] + "..."
                return Ending("garbage", f"exit 0, but stdout is not JSON: {shown!r}")
        return Ending("succeeded", out if len(out) <= 200 else out[:197] + "...")
    if code == 1:
        return Ending("gave_up", _last_line(err) or "exit 1 (no reason on stderr)")
    if code == 2:
        return Ending("unsupported", _last_line(err) or "exit 2")
    if code < 0:
        return Ending("crashed", f"killed by signal {-code}: {_last_line(err)}".rstrip(": "))
    return Ending("crashed", f"exit {code} (the protocol allows 0, 1, 2): {_last_line(err)}")


# ---------------------------------------------------------------------- kind 3: base URL


class BaseUrlSession:
    """Kind 3: serve one scenario's fake, let anything drive a client at :attr:`url`.

    with BaseUrlSession("start_bot/ambiguous-reset") as session:
        subprocess.run(["./my-client", "start-bot"], env={"VEXA_API_BASE": session.url,
                                                          "VEXA_API_KEY": session.api_key})
        run = session.finish("succeeded")
    verdicts = judge([run])
    """

    def __init__(self, scenario: str | Scenario, profile: str = "docs", seed: int = 0) -> None:
        from harness.conformance.catalogue import build

        if isinstance(scenario, str):
            found = [s for s in build() if s.id == scenario]
            if not found:
                raise ConfigurationError(f"no scenario {scenario!r} in the catalogue")
            scenario = found[0]
        self.scenario = scenario
        self.profile = profile
        self.seed = seed
        clock = StagedClock()
        self.fake = FakeVexa(profile, seed, clock=clock)
        self.stage = prepare(self.fake, scenario, seed, ready=lambda: clock.go_live())
        self._server = self.fake.server()

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def api_key(self) -> str:
        return self.stage.account.api_key

    @property
    def args(self) -> dict[str, Any]:
        return self.stage.args

    def __enter__(self) -> BaseUrlSession:
        self._server.start_in_thread()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.stop_thread()

    def finish(self, end: ClientEnd = "succeeded", detail: str = "") -> Run:
        """The run so far, as the rules judge it (say how the client ended)."""
        _Watch(self.fake, Limits(1, 0.0, 0.0)).settle()
        return Run(
            scenario=self.scenario.id,
            operation=self.scenario.operation,
            profile=self.profile,
            seed=self.seed,
            feeds=self.scenario.feeds,
            plan=self.stage.plan.to_json(),
            events=tuple(self.fake.journal),
            end=end,
            detail=detail,
            facts=self.stage.facts,
            virtual_time=False,
        )


def _event_types() -> dict[str, type[Any]]:
    """``type`` tag → event class, for every member of the journal's ``Event`` union."""
    import dataclasses

    found: dict[str, type[Any]] = {}
    for kind in get_args(Event):
        tag = next(f.default for f in dataclasses.fields(kind) if f.name == "type")
        found[str(tag)] = kind
    return found


def events_from_json(document: Mapping[str, Any]) -> tuple[Event, ...]:
    """Events from a journal as ``GET /_harness/journal`` (``Journal.dumps``) wrote it."""
    types = _event_types()
    events: list[Event] = []
    for raw in document.get("events", []):
        fields = dict(raw)
        kind = types.get(str(fields.get("type")))
        if kind is None:
            raise ConfigurationError(f"unknown journal event type {fields.get('type')!r}")
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        try:
            events.append(kind(**fields))
        except TypeError as exc:
            raise ConfigurationError(f"malformed {fields.get('type')} event: {exc}") from None
    return tuple(events)


def runs_from_journal(
    document: Mapping[str, Any], *, profile: str = "docs", seed: int = 0
) -> list[Run]:
    """Runs to judge a recorded session by, with facts read off the faults it met.

    A recorded session has no scenario, so each fault the journal shows becomes the fact a
    rule needs: a cut, hang or 5xx on ``POST /bots`` an ambiguous POST, a ``Retry-After``
    answer a retry-after fact, a hang a hang, a 400/401/403/404/409/422 a non-retryable
    answer. Rules that need a designed scenario (a burst of known length, a persistent
    outage, repeated runs) are not fed and say ``skip``.
    """
    events = events_from_json(document)
    requests = {e.exchange: e for e in events if isinstance(e, RequestEvent)}
    facts: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    for event in events:
        request = requests.get(event.exchange)
        if request is None:
            continue
        posting = request.method == "POST" and request.path.rstrip("/") == "/bots"
        if isinstance(event, FaultEvent):
            kind = event.fault.get("kind")
            if kind == "hang":
                facts.append((("client-timeout",), {"kind": "hang"}))
            status = event.fault.get("status")
            ambiguous = kind in ("reset", "close", "hang", "truncate", "garbage") or (
                kind == "status" and status in (500, 502, 503, 504)
            )
            if posting and ambiguous:
                label = f"status:{status}" if kind == "status" else str(kind)
                facts.append((("no-blind-post",), {"kind": "ambiguous_post", "fault": label}))
        elif isinstance(event, AnswerEvent):
            if event.retry_after is not None:
                form = "seconds" if event.retry_after.strip().isdigit() else "date"
                value: Any = int(event.retry_after) if form == "seconds" else event.retry_after
                facts.append(
                    (
                        ("honor-retry-after",),
                        {"kind": "retry_after", "retry_after": value, "form": form},
                    )
                )
            if event.status in (400, 401, 403, 404, 409, 422):
                facts.append(
                    (
                        ("no-retry-non-retryable",),
                        {"kind": "non_retryable", "status": event.status},
                    )
                )
            if posting and event.status == 409:
                facts.append((("no-blind-post",), {"kind": "conflict"}))
    unique: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {}
    for feeds, fact in facts:
        unique.setdefault(json.dumps([feeds, fact], sort_keys=True), (feeds, fact))
    return [
        Run(
            scenario=f"recorded/{fact['kind']}",
            operation="recorded",
            profile=profile,
            seed=seed,
            feeds=feeds,
            plan={},
            events=events,
            end="succeeded",
            detail="a recorded session (how the client ended is unknown)",
            facts=fact,
            virtual_time=False,
        )
        for feeds, fact in unique.values()
    ]
