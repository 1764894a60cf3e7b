"""The WebSocket ``/ws``: wsproto on the loopback server, and the same protocol in-process.

All protocol decisions and every frame come from :class:`~harness.vexa.live.LiveHub`; this
module only moves text. Per connection it runs a reader (client messages into the hub, under
the application lock), a sender (the session's outbox onto the wire) and, on a real-time
clock, a ticker: the model is lazy, so something must call ``model.now()`` when the next
lifecycle step is due — or every :data:`~harness.vexa.live.LIVE_PERIOD` while a subscribed bot
is speaking — for frames to flow to a client that never touches the REST API. On a virtual
clock there is no ticker: ``fake.advance()`` and ``POST /_harness/clock/advance`` flush.

The hub wakes a connection from whatever thread changed the model (a REST request, a test
calling ``fake.advance``) through ``loop.call_soon_threadsafe``; pushing a frame never blocks.
A reader that stops reading blocks only its own sender, in ``drain()``; its outbox then drops
the oldest frames (see :mod:`harness.vexa.live`).

The upgrade is taken over after h11 parsed the request (``LoopbackServer(upgrade=...)``), so
``/ws`` bypasses the fault engine and the journal: faults apply to HTTP exchanges.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from typing import TYPE_CHECKING, Any

import h11
from wsproto.connection import Connection, ConnectionState, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Event, Ping, TextMessage
from wsproto.utilities import generate_accept_token

from harness._clock import VirtualClock
from harness.errors import HarnessError
from harness.vexa.live import LIVE_PERIOD, Frame, Session
from harness.web.messages import Request

if TYPE_CHECKING:
    from harness.fake import FakeVexa

__all__ = ["WS_PATH", "InProcessWebSocket", "WebSocketClosed", "WebSocketEndpoint"]

WS_PATH = "/ws"
_READ_SIZE = 65_536
#: After the server's close frame, how long to wait for the client's (RFC 6455 §7.1.1).
_CLOSE_TIMEOUT = 5.0
#: 1009 "message too big": a client message larger than the fake's request-body limit.
_TOO_BIG = 1009
#: The shortest ticker sleep, so a deadline that is due "now" cannot spin the loop.
_MIN_TICK = 0.001


class WebSocketClosed(HarnessError):
    """The server closed the socket (``code`` is its close code, e.g. 4401)."""

    def __init__(self, code: int | None) -> None:
        super().__init__(f"the WebSocket was closed (code {code})")
        self.code = code


def api_key_of(request: Request) -> str | None:
    """v0.10: ``ws.headers.get("x-api-key") or ws.query_params.get("api_key")`` (last wins)."""
    from_query = [value for name, value in request.query if name == "api_key"]
    return request.headers.get("x-api-key") or (from_query[-1] if from_query else None) or None


class _Link:
    """One hub session seen from one event loop: locked calls in, woken frames out."""

    def __init__(self, fake: FakeVexa, api_key: str | None) -> None:
        self.fake = fake
        self.loop = asyncio.get_running_loop()
        self.ready = asyncio.Event()
        with fake.app.lock:
            self.session = fake.live.connect(api_key, self._wake)

    def _wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self.loop.call_soon_threadsafe(self.ready.set)

    def deliver(self, text: str | None) -> None:
        """A client message, at the current harness time (due lifecycle steps first)."""
        fake = self.fake
        with fake.app.lock:
            fake.live.receive(self.session, text, fake.model.now())

    def take(self) -> tuple[list[Frame], int | None]:
        with self.fake.app.lock:
            return self.session.take(), self.session.close_code

    async def wait(self) -> tuple[list[Frame], int | None]:
        """The next frames, or the close code once nothing is left."""
        while True:
            frames, code = self.take()
            if frames or code is not None:
                return frames, code
            # ``ready.set`` only ever runs in this loop, between our awaits: no lost wake-up.
            self.ready.clear()
            await self.ready.wait()

    async def tick(self) -> None:
        """Keep a real-time model moving while this session is connected."""
        fake = self.fake
        while True:
            delay = LIVE_PERIOD
            with fake.app.lock:
                if fake.live.active:
                    now = fake.model.now()
                    fake.live.flush(now)
                    due = fake.live.next_wakeup(now)
                    if due is not None:
                        delay = min(LIVE_PERIOD, max(_MIN_TICK, due - now))
            await asyncio.sleep(delay)

    def close(self) -> None:
        with self.fake.app.lock:
            self.fake.live.disconnect(self.session)

    @property
    def real_time(self) -> bool:
        return not isinstance(self.fake.clock, VirtualClock)


# ---------------------------------------------------------------------------------- socket


class WebSocketEndpoint:
    """The loopback server's upgrade hook: serves ``/ws`` for one fake, declines the rest."""

    def __init__(self, fake: FakeVexa) -> None:
        self.fake = fake

    async def __call__(
        self,
        request: Request,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        upgrade = (request.headers.get("upgrade") or "").lower()
        if request.path != WS_PATH or "websocket" not in upgrade:
            return False  # plain HTTP (``GET /ws`` is a 404, as in Vexa)
        problem = _handshake_problem(request)
        if problem is not None:
            status, detail, extra = problem
            await _refuse(conn, writer, status, detail, extra)
            return True
        key = (request.headers.get("sec-websocket-key") or "").encode("latin-1")
        switch = h11.InformationalResponse(
            status_code=101,
            headers=[
                ("upgrade", "websocket"),
                ("connection", "Upgrade"),
                ("sec-websocket-accept", generate_accept_token(key).decode("ascii")),
                ("server", "vexa-harness"),
            ],
        )
        writer.write(conn.send(switch) or b"")
        await writer.drain()
        trailing, _ = conn.trailing_data
        ws = Connection(ConnectionType.SERVER, trailing_data=bytes(trailing))
        await _Socket(self.fake, ws, reader, writer, api_key_of(request)).run()
        return True


def _handshake_problem(request: Request) -> tuple[int, str, list[tuple[str, str]]] | None:
    connection = [t.strip().lower() for t in (request.headers.get("connection") or "").split(",")]
    if request.method != "GET" or "upgrade" not in connection:
        return 400, "Invalid WebSocket upgrade request", []
    if not request.headers.get("sec-websocket-key"):
        return 400, "Missing Sec-WebSocket-Key header", []
    if request.headers.get("sec-websocket-version") != "13":
        return 426, "Unsupported WebSocket version", [("sec-websocket-version", "13")]
    return None


async def _refuse(
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    detail: str,
    extra: list[tuple[str, str]],
) -> None:
    body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
    headers = [
        ("content-type", "application/json"),
        ("content-length", str(len(body))),
        ("connection", "close"),
        *extra,
    ]
    data = conn.send(h11.Response(status_code=status, headers=headers)) or b""
    data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    writer.write(data)
    await writer.drain()


class _Socket:
    """One upgraded connection: reader, sender and (real time) ticker, until either side ends."""

    def __init__(
        self,
        fake: FakeVexa,
        ws: Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        api_key: str | None,
    ) -> None:
        self.fake = fake
        self.ws = ws
        self.reader = reader
        self.writer = writer
        self.api_key = api_key
        self.max_message = fake.app.max_body_bytes

    async def run(self) -> None:
        link = _Link(self.fake, self.api_key)
        receiving = asyncio.create_task(self._receive(link))
        sending = asyncio.create_task(self._send(link))
        tasks = {receiving, sending}
        if link.real_time:
            tasks.add(asyncio.create_task(link.tick()))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if sending in done and sending.exception() is None:
                # We closed first (4401): the client's close frame ends the exchange.
                await asyncio.wait({receiving}, timeout=_CLOSE_TIMEOUT)
            for task in done:
                _reraise_bug(task)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            link.close()

    def _write(self, event: Event) -> None:
        self.writer.write(self.ws.send(event))

    async def _send(self, link: _Link) -> None:
        while True:
            frames, code = await link.wait()
            for frame in frames:
                if self.ws.state is not ConnectionState.OPEN:
                    return
                self._write(TextMessage(data=json.dumps(frame, ensure_ascii=False)))
                await self.writer.drain()
            if code is not None:
                if self.ws.state is ConnectionState.OPEN:
                    self._write(CloseConnection(code=code))
                    await self.writer.drain()
                return

    async def _receive(self, link: _Link) -> None:
        parts: list[str] = []
        size = 0
        binary = False
        while True:
            data = await self.reader.read(_READ_SIZE)
            self.ws.receive_data(data or None)
            for event in self.ws.events():
                if isinstance(event, TextMessage | BytesMessage):
                    if isinstance(event, TextMessage):
                        parts.append(event.data)
                    else:
                        binary = True
                    size += len(event.data)
                    if size > self.max_message:
                        self._write(CloseConnection(code=_TOO_BIG))
                        await self.writer.drain()
                        return
                    if event.message_finished:
                        link.deliver(None if binary else "".join(parts))
                        parts, size, binary = [], 0, False
                elif isinstance(event, Ping) and self.ws.state is ConnectionState.OPEN:
                    self._write(event.response())
                elif isinstance(event, CloseConnection):
                    if self.ws.state is ConnectionState.REMOTE_CLOSING:
                        self._write(event.response())
                    elif self.ws.state is ConnectionState.OPEN:  # the client broke the protocol
                        self._write(CloseConnection(code=event.code))
                    with contextlib.suppress(ConnectionError):
                        await self.writer.drain()
                    return
            await self.writer.drain()
            if not data:
                return


def _reraise_bug(task: asyncio.Task[None]) -> None:
    """A task that ended because the peer vanished is normal; anything else is a bug."""
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None and not isinstance(exc, ConnectionError | OSError):
        raise exc


# ---------------------------------------------------------------------------------- in-process


class InProcessWebSocket:
    """``async with fake.websocket(api_key=...) as ws``: the ``/ws`` protocol with no socket.

    The same hub and the same frames as the loopback server, as JSON-decoded copies. Time
    follows the fake's clock: on a virtual clock, frames appear when the test advances it; on a
    real clock a ticker runs in this event loop while the socket is open. ``timeout`` on the
    receiving side is in real seconds and is only a guard against a test that would hang.
    """

    def __init__(self, fake: FakeVexa, api_key: str | None) -> None:
        self.fake = fake
        self.api_key = api_key
        #: The server's close code once it closed the socket (None while open).
        self.close_code: int | None = None
        self._link: _Link | None = None
        self._ticker: asyncio.Task[None] | None = None
        self._buffer: deque[Frame] = deque()

    async def __aenter__(self) -> InProcessWebSocket:
        self._link = _Link(self.fake, self.api_key)
        if self._link.real_time:
            self._ticker = asyncio.create_task(self._link.tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        if self._link is not None:
            self._link.close()

    @property
    def session(self) -> Session:
        """The hub's view of this socket (subscriptions, ``dropped`` frames)."""
        return self._open().session

    def _open(self) -> _Link:
        if self._link is None:
            raise HarnessError("use the WebSocket inside `async with fake.websocket(...) as ws:`")
        return self._link

    async def send_json(self, payload: Any) -> None:
        await self.send_text(json.dumps(payload))

    async def send_text(self, text: str) -> None:
        self._deliver(text)

    async def send_bytes(self, data: bytes) -> None:
        """A binary message (Vexa expects text; the answer is ``invalid_json``)."""
        self._deliver(None)

    def _deliver(self, text: str | None) -> None:
        link = self._open()
        if self.close_code is not None or link.session.close_code is not None:
            raise WebSocketClosed(self.close_code or link.session.close_code)
        link.deliver(text)

    async def receive_json(self, timeout: float = 5.0) -> Any:
        """The next frame; :class:`WebSocketClosed` once the server closed and all was read."""
        link = self._open()
        if not self._buffer:
            async with asyncio.timeout(timeout):
                frames, code = await link.wait()
            self._buffer.extend(frames)
            if not frames:
                self.close_code = code
                raise WebSocketClosed(code)
        return json.loads(json.dumps(self._buffer.popleft()))

    def drain(self) -> list[Any]:
        """Every frame already waiting, without blocking (empty when there is none)."""
        link = self._open()
        frames, code = link.take()
        self._buffer.extend(frames)
        out = [json.loads(json.dumps(frame)) for frame in self._buffer]
        self._buffer.clear()
        if code is not None and not out:
            self.close_code = code
        return out
