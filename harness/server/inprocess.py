"""In-process transports: an httpx client talks to the fake with no socket at all.

The same :class:`~harness.web.messages.Request` walks the same exchange as over the loopback
server, so answers are byte-identical in both modes — and so are failures: each socket fault
surfaces as the exception httpx raises for that event on a real socket (a reset is a
``ReadError``, a silent close a ``RemoteProtocolError``, a hang a ``ReadTimeout`` once the
client's own read timeout has passed on the harness clock). Waits go through the harness clock,
so on a virtual clock a 30 s hang costs nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from harness.errors import HarnessError
from harness.exchange import Exchange, Outcome, drive
from harness.faults.kinds import Close, Garbage, Hang, Reset, SlowBody, Truncate
from harness.web.messages import Request

if TYPE_CHECKING:
    from harness.fake import FakeVexa

__all__ = ["AsyncInProcessTransport", "ClientWouldHang", "InProcessTransport"]


class ClientWouldHang(HarnessError):
    """The fake never answers and the client set no read timeout: on a socket it would hang."""


def _to_request(request: httpx.Request, body: bytes) -> Request:
    target = request.url.raw_path.decode("ascii")
    return Request.build(request.method, target, request.headers.multi_items(), body)


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout", {})
    value = timeout.get("read") if isinstance(timeout, dict) else None
    return float(value) if value is not None else None


class _Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that may stall or break part-way, as a real socket would."""

    def __init__(self, exchange: Exchange, outcome: Outcome, timeout: float | None) -> None:
        assert outcome.response is not None
        self.exchange = exchange
        self.body = outcome.response.body
        self.fault = outcome.fault
        self.timeout = timeout

    def _chunks(self) -> Iterator[bytes]:
        clock, body, fault = self.exchange.fake.clock, self.body, self.fault
        if isinstance(fault, Truncate):
            yield body[: int(len(body) * fault.fraction)]
            self.exchange.cut("truncate")
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body: "
                f"received {int(len(body) * fault.fraction)} bytes, expected {len(body)}"
            )
        if isinstance(fault, SlowBody):
            size = max(1, -(-len(body) // fault.chunks))
            gap = fault.seconds / fault.chunks
            for start in range(0, len(body), size):
                if self.timeout is not None and gap > self.timeout:
                    clock.sleep(self.timeout)
                    self.exchange.cut("client_timeout")
                    raise httpx.ReadTimeout("timed out")
                clock.sleep(gap)
                yield body[start : start + size]
        else:
            yield body
        self.exchange.answered_body()

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk


def _respond(exchange: Exchange, outcome: Outcome, request: httpx.Request) -> httpx.Response:
    fault = outcome.fault
    timeout = _read_timeout(request)
    clock = exchange.fake.clock
    if isinstance(fault, Reset):
        exchange.cut("reset")
        raise httpx.ReadError("[Errno 104] Connection reset by peer")
    if isinstance(fault, Close):
        exchange.cut("close")
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    if isinstance(fault, Garbage):
        exchange.cut("garbage")
        raise httpx.RemoteProtocolError("illegal status line: bytearray(b'\\x16\\x03\\x01\\x02')")
    if isinstance(fault, Hang):
        if timeout is not None and (fault.seconds is None or timeout < fault.seconds):
            clock.sleep(timeout)
            exchange.cut("client_timeout")
            raise httpx.ReadTimeout("timed out")
        if fault.seconds is None:
            exchange.cut("hang")
            raise ClientWouldHang(
                f"{request.method} {request.url.path}: the fake hangs (a fault of the plan) and "
                "this client has no read timeout, so over a socket it would wait forever; "
                "give the client a timeout (httpx.Client(timeout=...))"
            )
        clock.sleep(fault.seconds)
        exchange.cut("close")
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    response = outcome.response
    assert response is not None
    headers = [*response.headers, ("content-length", str(len(response.body)))]
    if fault is None:
        exchange.answered(response)
        # A ready ByteStream: httpx's content= path re-encodes and costs ~6x more per answer.
        stream = httpx.ByteStream(response.body)
        return httpx.Response(response.status, headers=headers, stream=stream, request=request)
    exchange.pending = response
    return httpx.Response(
        response.status, headers=headers, stream=_Body(exchange, outcome, timeout), request=request
    )


class InProcessTransport(httpx.BaseTransport):
    """``httpx.Client(transport=fake.transport())``: the fake, no socket."""

    def __init__(self, fake: FakeVexa) -> None:
        self.fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self.fake.exchange(_to_request(request, request.read()))
        outcome = drive(exchange.walk(), self.fake.clock.sleep)
        return _respond(exchange, outcome, request)


class AsyncInProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=fake.async_transport())``."""

    def __init__(self, fake: FakeVexa) -> None:
        self.fake = fake

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        exchange = self.fake.exchange(_to_request(request, await request.aread()))
        outcome = drive(exchange.walk(), self.fake.clock.sleep)
        return _respond(exchange, outcome, request)
