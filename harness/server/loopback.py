"""A real HTTP/1.1 server on a loopback socket, for clients that cannot be wired in-process.

Built on asyncio streams and h11 rather than uvicorn because the harness must later misbehave
at the socket level (reset with RST, close without answering, truncate, send garbage, dribble a
body, hang), and a stock server hides its transport. The application stays pure: each complete
request becomes a :class:`~harness.web.messages.Request`, the synchronous handler returns a
:class:`~harness.web.messages.Response`, and only this module touches bytes and sockets.
Everything is async, so a connection that hangs never holds up another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import h11

from harness.exchange import ExchangeLike, Outcome, PlainExchange
from harness.server.wire import Pause, deliver
from harness.web.messages import Request, Response, json_response

__all__ = ["Handler", "LoopbackServer", "Upgrader"]

Handler = Callable[[Request], Response]
Exchanger = Callable[[Request], ExchangeLike]
#: Takes a request over (e.g. a WebSocket upgrade) and returns True, or declines with False.
Upgrader = Callable[
    [Request, h11.Connection, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[bool]
]
_FAILURE = json_response(500, {"detail": "Internal Server Error"})

_READ_SIZE = 65_536
#: Upper bound for anything that waits on a peer or a thread while shutting down.
_STOP_TIMEOUT = 5.0
#: After an error answer, how long we keep discarding what the client still sends. Closing a
#: socket with unread input makes the kernel send RST, which can destroy the answer in flight.
_LINGER_SECONDS = 2.0
_NO_BODY_STATUSES = frozenset({204, 304})


class LoopbackServer:
    """Serve ``handler`` over real TCP: in the caller's event loop, in a thread, or blocking."""

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        max_body_bytes: int = 1_048_576,
        exchanger: Exchanger | None = None,
        pause: Pause | None = None,
        upgrade: Upgrader | None = None,
    ) -> None:
        self.handler = handler
        #: Offered every request before the handler (see :meth:`_take_over`).
        self.upgrade = upgrade
        #: Opens the exchange for a request (the fault engine and journal live behind it);
        #: without one, every request goes straight to ``handler``.
        self.exchanger: Exchanger = exchanger or (lambda request: PlainExchange(handler, request))
        #: How the server waits for a fault's delay: real seconds, or a virtual clock's jump.
        self.pause: Pause = pause or asyncio.sleep
        self.host = host
        self.max_body_bytes = max_body_bytes
        #: Exceptions raised by the handler (answered with 500) or by this server's own code,
        #: kept so a test fixture can re-raise them inside the test that caused them.
        self.errors: list[BaseException] = []
        #: TCP connections accepted so far (lets tests prove keep-alive reuse).
        self.connections_accepted = 0
        self._requested_port = port
        self._server: asyncio.Server | None = None
        self._port: int | None = None
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LoopbackServer is not started")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen in the running event loop; returns once the socket accepts connections."""
        if self._server is not None:
            raise RuntimeError("LoopbackServer is already started")
        self._stopping = False
        self._server = await asyncio.start_server(
            self._on_connection, self.host, self._requested_port, reuse_address=True
        )
        self._port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Close the listener and every connection, idle keep-alive ones included."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping = True
        server.close()
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT)
        for writer in list(self._writers):
            writer.transport.abort()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(server.wait_closed(), _STOP_TIMEOUT)
        await asyncio.sleep(0)  # let the aborted transports run connection_lost and close

    def start_in_thread(self) -> None:
        """Run the server on its own event loop in a daemon thread; return once listening."""
        if self._thread is not None:
            raise RuntimeError("LoopbackServer is already running in a thread")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                try:
                    loop.run_until_complete(self.start())
                except BaseException as exc:
                    failure.append(exc)
                    return
                finally:
                    ready.set()
                loop.run_forever()
                loop.run_until_complete(self.stop())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

        thread = threading.Thread(target=run, name="vexa-harness-loopback", daemon=True)
        thread.start()
        if not ready.wait(_STOP_TIMEOUT):
            raise RuntimeError("LoopbackServer did not start in time")
        if failure:
            thread.join(_STOP_TIMEOUT)
            raise failure[0]
        self._thread, self._thread_loop = thread, loop

    def stop_thread(self) -> None:
        """Stop the threaded server and join its thread (bounded; safe to call twice)."""
        thread, loop = self._thread, self._thread_loop
        self._thread = self._thread_loop = None
        if thread is None or loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may already be closed
            loop.call_soon_threadsafe(loop.stop)
        thread.join(2 * _STOP_TIMEOUT)

    def __enter__(self) -> LoopbackServer:
        self.start_in_thread()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_thread()

    def serve_forever(self, on_listening: Callable[[str], None]) -> None:
        """Block until Ctrl-C or SIGTERM (the CLI); ``on_listening(url)`` runs once bound."""
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(self._serve_until_signalled(on_listening))

    async def _serve_until_signalled(self, on_listening: Callable[[str], None]) -> None:
        await self.start()
        loop = asyncio.get_running_loop()
        stop_requested = asyncio.Event()
        sigterm_installed = False
        try:
            if threading.current_thread() is threading.main_thread():
                with contextlib.suppress(NotImplementedError):  # platforms without signals
                    loop.add_signal_handler(signal.SIGTERM, stop_requested.set)
                    sigterm_installed = True
            on_listening(self.url)
            await stop_requested.wait()
        finally:
            if sigterm_installed:
                loop.remove_signal_handler(signal.SIGTERM)
            await self.stop()

    # -- one connection --------------------------------------------------------------------

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if self._stopping:
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections_accepted += 1
        conn = h11.Connection(h11.SERVER)
        try:
            while await self._serve_one(conn, reader, writer):
                conn.start_next_cycle()
        except (ConnectionError, OSError):
            pass  # the peer went away; nothing to answer
        except asyncio.CancelledError:
            pass  # stop() ended us. Ending normally: 3.11's stream callback logs a cancelled task
        except Exception as exc:  # a bug here must surface in the test, not vanish in a task
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            if self._stopping:
                writer.transport.abort()  # never wait for a client that stopped reading
            else:
                writer.close()

    async def _serve_one(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; True when the connection may carry another one."""
        try:
            event = await self._next_event(conn, reader, writer)
            if not isinstance(event, h11.Request):
                return False  # ConnectionClosed: the client is done with us
            # h11 has checked that content-length is plain decimal; too big: refuse before reading
            declared = next((int(v) for k, v in event.headers if k == b"content-length"), 0)
            body = None
            if declared <= self.max_body_bytes:
                body = await self._read_body(conn, reader, writer)
        except h11.RemoteProtocolError:
            await self._answer_error_and_close(conn, reader, writer, 400, "Invalid HTTP request")
            return False
        if body is None:
            await self._answer_error_and_close(conn, reader, writer, 413, "Request body too large")
            return False
        request = Request.build(
            event.method.decode("ascii"),
            event.target.decode("utf-8", "replace"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers],
            body,
        )
        if await self._take_over(request, conn, reader, writer):
            return False
        head = request.method == "HEAD"
        exchange = self.exchanger(request)
        try:
            outcome = await self._walk(exchange)
        except Exception as exc:
            self.errors.append(exc)
            outcome = Outcome(_FAILURE)

        def render(response: Response) -> bytes:
            try:
                return self._render(conn, response, head=head)
            except Exception as exc:  # not valid HTTP (e.g. CR/LF in a header): a 500 instead
                self.errors.append(exc)
                return self._render(conn, _FAILURE, head=head)

        reusable = await deliver(
            outcome, exchange, reader, writer, render, self.pause, head_only=head
        )
        return reusable and conn.our_state is h11.DONE and conn.their_state is h11.DONE

    async def _walk(self, exchange: ExchangeLike) -> Outcome:
        """Drive the exchange's walk, waiting as it asks (see :mod:`harness.exchange`)."""
        walk = exchange.walk()
        try:
            seconds = next(walk)
            while True:
                await self.pause(seconds)
                seconds = walk.send(None)
        except StopIteration as done:
            outcome: Outcome = done.value
            return outcome

    async def _next_event(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> object:
        while True:
            event = conn.next_event()
            if event is not h11.NEED_DATA:
                return event
            if conn.they_are_waiting_for_100_continue:
                await self._write_raw(
                    writer, self._send(conn, h11.InformationalResponse(status_code=100, headers=[]))
                )
            conn.receive_data(await reader.read(_READ_SIZE))  # b"" tells h11 about EOF

    async def _read_body(
        self, conn: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bytes | None:
        """The whole body, or None as soon as it exceeds the limit (never buffered past it)."""
        body = bytearray()
        while True:
            event = await self._next_event(conn, reader, writer)
            if isinstance(event, h11.Data):
                body += event.data
                if len(body) > self.max_body_bytes:
                    return None
            elif isinstance(event, h11.EndOfMessage):
                return bytes(body)
            else:
                raise h11.RemoteProtocolError(f"unexpected {event!r} in a request body")

    async def _answer_error_and_close(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        status: int,
        detail: str,
    ) -> None:
        if conn.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        answer = json_response(status, {"detail": detail}, headers=[("connection", "close")])
        await self._write_raw(writer, self._render(conn, answer, head=False))
        await self._linger(reader, writer)

    async def _linger(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Half-close, then discard input for a while, so our answer is not lost to an RST."""
        with contextlib.suppress(OSError):
            if writer.can_write_eof():
                writer.write_eof()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_LINGER_SECONDS):
                while await reader.read(_READ_SIZE):
                    pass

    # -- bytes out: the seams socket-level faults will use ---------------------------------

    def _render(self, conn: h11.Connection, response: Response, *, head: bool) -> bytes:
        """Frame a Response through h11 (content-length always ours; HEAD gets no body).

        Every h11 event is built before any is sent: construction validates the status and
        headers, so a bad Response raises here with ``conn`` still able to send a 500.
        """
        has_body = response.status >= 200 and response.status not in _NO_BODY_STATUSES
        headers = [
            (name, value)
            for name, value in response.headers
            if name.lower() not in ("content-length", "transfer-encoding")
        ]
        if has_body:
            headers.append(("content-length", str(len(response.body))))
        if not any(name.lower() == "server" for name, _ in headers):
            headers.append(("server", "vexa-harness"))
        try:
            reason = HTTPStatus(response.status).phrase.encode()
        except ValueError:
            reason = b""
        events: list[h11.Event] = [
            h11.Response(status_code=response.status, headers=headers, reason=reason)
        ]
        if has_body and not head and response.body:
            events.append(h11.Data(data=response.body))
        events.append(h11.EndOfMessage())
        return b"".join(self._send(conn, event) for event in events)

    @staticmethod
    def _send(conn: h11.Connection, event: h11.Event) -> bytes:
        return conn.send(event) or b""

    async def _take_over(
        self,
        request: Request,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Hook: return True after answering ``request`` some other way (or not at all).

        The place for a WebSocket upgrade (``Upgrade: websocket``; send a 101 through ``conn``
        and take ``conn.trailing_data`` with the streams) and for socket-level faults. The
        connection is closed afterwards. By default the ``upgrade`` callable decides, if any.
        """
        if self.upgrade is None:
            return False
        return await self.upgrade(request, conn, reader, writer)

    @staticmethod
    async def _write_raw(writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        await writer.drain()
