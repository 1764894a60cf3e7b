"""``FakeVexa``: one fake Vexa deployment, usable in-process or on a loopback port.

fake = FakeVexa(profile="docs", seed=7)
alice = fake.create_user()
with fake.client(alice) as client:              # httpx.Client, no socket
    client.post("/bots", json={"platform": "google_meet", "native_meeting_id": "abc-defg-hij"})
fake.advance(5)                                  # virtual time: the bot is active now

with fake.serve() as server:                     # the same fake over real TCP
    requests.get(f"{server.url}/bots/status", headers={"X-API-Key": alice.api_key})
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from harness._clock import Clock, VirtualClock
from harness.errors import ConfigurationError, ServerError
from harness.exchange import Exchange
from harness.faults.engine import FaultEngine
from harness.faults.plan import FaultPlan, PlanBuilder
from harness.journal import DEFAULT_CAP, CommitEvent, Journal
from harness.observations import observe
from harness.server.inprocess import AsyncInProcessTransport, InProcessTransport
from harness.server.loopback import LoopbackServer
from harness.server.websocket import InProcessWebSocket, WebSocketEndpoint
from harness.vexa.exceptions import VexaError
from harness.vexa.lifecycle import Lifecycle
from harness.vexa.live import LiveHub
from harness.vexa.model import SCOPES, Effect, Meeting, VexaModel
from harness.vexa.profiles import Profile, get_profile
from harness.web.app import VexaApp
from harness.web.messages import Request, Response
from harness.webhooks.sender import WebhookSender

__all__ = ["Account", "FakeVexa"]

#: The base URL in-process clients use; any host works, this one reads well in tracebacks.
IN_PROCESS_BASE_URL = "http://vexa.test"


@dataclass(frozen=True, slots=True)
class Account:
    """A user of the fake and one of their API keys."""

    user_id: int
    email: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


class FakeVexa:
    """A stateful fake Vexa: model, clock and application, with ways to reach it."""

    def __init__(
        self,
        profile: str | Profile = "docs",
        seed: int = 0,
        *,
        clock: Clock | None = None,
        lifecycle: Lifecycle | None = None,
        faults: FaultPlan | None = None,
        journal_cap: int = DEFAULT_CAP,
        admin_key: str | None = None,
    ) -> None:
        self.profile = get_profile(profile)
        self.seed = seed
        self.clock: Clock = clock if clock is not None else VirtualClock()
        self.model = VexaModel(self.clock, self.profile, seed, lifecycle)
        #: ``X-Admin-API-Key`` for the admin API; None leaves it unconfigured (500).
        self.model.admin_key = admin_key or None
        self.app = VexaApp(self.model)
        #: Subscriptions and frames of the WebSocket ``/ws`` (see :mod:`harness.vexa.live`).
        self.live = LiveHub(self.model)
        #: Everything the clients did and the fake did back, on the harness clock.
        self.journal = Journal(journal_cap)
        #: Decides faults for every request (see :mod:`harness.faults.engine`).
        self.fault_engine = FaultEngine(faults or FaultPlan(seed=seed), self.clock.now())
        #: Rules that take effect as they are added: ``fake.faults.on("POST", "/bots")...``.
        self.faults = self._builder(self.fault_engine.plan)
        #: Exceptions the fake raised while answering; :meth:`check` re-raises the first.
        self.errors: list[BaseException] = []
        self._exchanges = 0
        self._attempts: dict[str, int] = {}
        self._current: Exchange | None = None
        self.model.effect_listeners.append(self._record_effect)
        self.model.extra["fake"] = self
        #: Delivers Vexa's webhooks for status changes (see :mod:`harness.webhooks`).
        self.webhooks = WebhookSender(self)

    # ------------------------------------------------------------------ faults and journal

    def _builder(self, plan: FaultPlan) -> PlanBuilder:
        builder = PlanBuilder(plan.seed, plan.rate_limit)
        builder.rules = list(plan.rules)
        builder.listeners.append(self._extend_plan)
        return builder

    def _extend_plan(self, plan: FaultPlan) -> None:
        with self.app.lock:
            self.fault_engine.extend(plan)

    def install_faults(self, plan: FaultPlan) -> None:
        """Replace the fault plan; its counters, streams and window start now."""
        with self.app.lock:
            self.fault_engine.install(plan, self.clock.now())
            self.faults = self._builder(plan)

    def clear_faults(self) -> None:
        self.install_faults(FaultPlan(seed=self.fault_engine.plan.seed))

    def exchange(self, request: Request) -> Exchange:
        """Open one request's walk: journal it and decide its faults (see :mod:`exchange`)."""
        with self.app.lock:
            self._exchanges += 1
            return Exchange(self, request, self._exchanges)

    def next_attempt(self, operation: str) -> int:
        attempt = self._attempts.get(operation, 0) + 1
        self._attempts[operation] = attempt
        return attempt

    def commit(self, exchange: Exchange) -> Response:
        """Let the Vexa model answer the exchange; its side effects are journaled against it."""
        with self.app.lock:
            self._current = exchange
            try:
                response = self.handle(exchange.request)
            finally:
                self._current = None
            seen = observe(exchange.request, response, exchange.number, self.clock.now())
            if seen is not None:
                self.journal.append(seen)
            return response

    def _record_effect(self, effect: Effect) -> None:
        number = self._current.number if self._current is not None else 0
        self.journal.append(
            CommitEvent(
                number,
                self.clock.now(),
                effect.kind,
                effect.meeting_id,
                effect.platform,
                effect.native_meeting_id,
                effect.user_id,
            )
        )

    # ------------------------------------------------------------------ answering

    def handle(self, request: Request) -> Response:
        """Answer one request; an internal crash is recorded, then re-raised."""
        try:
            response = self.app.handle(request)
        except Exception as exc:
            self.errors.append(exc)
            raise
        self._flush_live()
        return response

    def _flush_live(self) -> None:
        """Publish live frames for what the model did (a request may have moved its clock)."""
        with self.app.lock:
            if self.live.active:
                self.live.flush(self.model.now())

    def check(self) -> None:
        """Raise :class:`ServerError` if the fake crashed while answering any request."""
        if self.errors:
            first = self.errors[0]
            raise ServerError(f"the fake Vexa crashed while answering: {first!r}") from first

    # ------------------------------------------------------------------ users

    def create_user(
        self,
        email: str | None = None,
        *,
        scopes: tuple[str, ...] = SCOPES,
        max_concurrent_bots: int = 10,
        api_key: str | None = None,
    ) -> Account:
        """A new user with one API key (every scope unless told otherwise)."""
        with self.app.lock:
            try:
                if api_key is not None and api_key in self.model.keys:
                    raise ConfigurationError(f"API key {api_key!r} is already in use")
                user = self.model.create_user(email, max_concurrent_bots=max_concurrent_bots)
                key = self.model.create_key(user.id, tuple(scopes), token=api_key)
            except VexaError as exc:
                raise ConfigurationError(f"cannot create user: {exc.detail}") from None
        return Account(user.id, user.email, key.token)

    def create_key(self, account: Account | int, scopes: tuple[str, ...] = SCOPES) -> str:
        """Another API key for an existing user."""
        user_id = account if isinstance(account, int) else account.user_id
        with self.app.lock:
            try:
                return self.model.create_key(user_id, tuple(scopes)).token
            except VexaError as exc:
                raise ConfigurationError(f"cannot create key: {exc.detail}") from None

    # ------------------------------------------------------------------ time and lifecycle

    def advance(self, seconds: float) -> float:
        """Move virtual time forward and let the lifecycle catch up; returns the new time."""
        if not isinstance(self.clock, VirtualClock):
            raise ConfigurationError(
                "advance() needs a virtual clock; this fake runs on real time "
                "(create it with FakeVexa(clock=VirtualClock()) or omit clock=)"
            )
        with self.app.lock:
            now = self.clock.advance(seconds)
            self.model.advance(now)
            self.live.flush(now)
        return now

    def meeting(self, meeting_id: int) -> Meeting:
        meeting = self.model.meetings.get(meeting_id)
        if meeting is None:
            raise ConfigurationError(f"no meeting with id {meeting_id}")
        return meeting

    def admit(self, meeting_id: int) -> None:
        """Let a bot waiting in the lobby into the meeting."""
        self._control("admit", meeting_id)

    def reject(self, meeting_id: int) -> None:
        """Refuse a bot at the lobby: it fails with ``awaiting_admission_rejected``."""
        self._control("reject", meeting_id)

    def end(self, meeting_id: int) -> None:
        """End the meeting around the bot: it completes with ``left_alone``."""
        self._control("end", meeting_id)

    def evict(self, meeting_id: int) -> None:
        """Remove the bot from the meeting: it fails with ``evicted``."""
        self._control("evict", meeting_id)

    def fail(self, meeting_id: int, reason: str | None = None, stage: str | None = None) -> None:
        """Make the bot fail now, at its current stage unless ``stage`` is given."""
        with self.app.lock:
            try:
                self.model.fail(self.meeting(meeting_id), reason, stage)
            except VexaError as exc:
                raise ConfigurationError(str(exc.detail)) from None

    def _control(self, action: str, meeting_id: int) -> None:
        with self.app.lock:
            meeting = self.meeting(meeting_id)
            try:
                getattr(self.model, action)(meeting)
            except VexaError as exc:
                raise ConfigurationError(str(exc.detail)) from None

    # ------------------------------------------------------------------ ways in

    def transport(self) -> httpx.BaseTransport:
        return InProcessTransport(self)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        return AsyncInProcessTransport(self)

    def client(self, account: Account | None = None, **kwargs: Any) -> httpx.Client:
        """An ``httpx.Client`` wired to this fake in-process (with the account's key)."""
        headers = {**(account.headers if account else {}), **kwargs.pop("headers", {})}
        return httpx.Client(
            base_url=IN_PROCESS_BASE_URL, transport=self.transport(), headers=headers, **kwargs
        )

    def async_client(self, account: Account | None = None, **kwargs: Any) -> httpx.AsyncClient:
        headers = {**(account.headers if account else {}), **kwargs.pop("headers", {})}
        return httpx.AsyncClient(
            base_url=IN_PROCESS_BASE_URL,
            transport=self.async_transport(),
            headers=headers,
            **kwargs,
        )

    def server(self, host: str = "127.0.0.1", port: int = 0) -> LoopbackServer:
        """A (not yet started) loopback server for this fake."""
        return LoopbackServer(
            self.handle,
            host,
            port,
            max_body_bytes=self.app.max_body_bytes,
            exchanger=self.exchange,
            pause=self.pause,
            upgrade=WebSocketEndpoint(self),
        )

    async def pause(self, seconds: float) -> None:
        """Wait ``seconds`` of harness time on the server: a jump on a virtual clock."""
        if isinstance(self.clock, VirtualClock):
            with self.app.lock:
                now = self.clock.advance(seconds)
                self.model.advance(now)
                self.live.flush(now)
        else:
            await asyncio.sleep(seconds)

    def websocket(
        self, account: Account | None = None, *, api_key: str | None = None
    ) -> InProcessWebSocket:
        """``async with fake.websocket(alice) as ws``: ``/ws`` in-process (no key: 4401)."""
        return InProcessWebSocket(self, api_key or (account.api_key if account else None))

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[LoopbackServer]:
        """Serve this fake on a real socket in a background thread for the ``with`` block."""
        server = self.server(host, port)
        server.start_in_thread()
        self.webhooks.start()
        try:
            yield server
        finally:
            self.webhooks.stop()
            server.stop_thread()

    def __repr__(self) -> str:
        return f"FakeVexa(profile={self.profile.name!r}, seed={self.seed}, clock={self.clock!r})"
