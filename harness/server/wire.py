"""Putting an exchange's outcome on a real socket: honest answers and every socket fault.

The counterpart of :mod:`harness.server.inprocess` for TCP: a reset is a real RST
(SO_LINGER 0), a silent close a real FIN, a truncated body a Content-Length the connection
never honours, a hang a connection held open until the client gives up. Each ending is
reported to the exchange, stamped by the harness clock, so the journal says what the client
really experienced.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable

from harness.exchange import ExchangeLike, Outcome
from harness.faults.kinds import GARBAGE_BYTES, Close, Garbage, Hang, Reset, SlowBody, Truncate
from harness.web.messages import Response

__all__ = ["Pause", "deliver"]

Pause = Callable[[float], Awaitable[None]]
Render = Callable[[Response], bytes]


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    writer.write(data)
    await writer.drain()


def abort_with_reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST instead of a FIN (SO_LINGER on, zero timeout)."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _client_gone(reader: asyncio.StreamReader) -> None:
    """Returns when the client closes its side (reading and dropping anything it still sends)."""
    with contextlib.suppress(ConnectionError, OSError):
        while await reader.read(65_536):
            pass


async def _hang(
    fault: Hang, exchange: ExchangeLike, reader: asyncio.StreamReader, pause: Pause
) -> None:
    gone = asyncio.ensure_future(_client_gone(reader))
    if fault.seconds is None:
        await gone
        exchange.cut("client_gone")
        return
    timer = asyncio.ensure_future(pause(fault.seconds))
    done, _ = await asyncio.wait({gone, timer}, return_when=asyncio.FIRST_COMPLETED)
    for task in (gone, timer):
        task.cancel()
    exchange.cut("client_gone" if gone in done else "close")


async def deliver(
    outcome: Outcome,
    exchange: ExchangeLike,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    render: Render,
    pause: Pause,
    *,
    head_only: bool = False,
) -> bool:
    """Send the outcome; True when the connection may carry another request."""
    fault, response = outcome.fault, outcome.response
    if isinstance(fault, Reset):
        exchange.cut("reset")
        abort_with_reset(writer)
        return False
    if isinstance(fault, Close):
        exchange.cut("close")
        writer.close()
        return False
    if isinstance(fault, Garbage):
        await _write(writer, GARBAGE_BYTES)
        exchange.cut("garbage")
        writer.close()
        return False
    if isinstance(fault, Hang):
        await _hang(fault, exchange, reader, pause)
        writer.close()
        return False
    assert response is not None
    data = render(response)
    body_length = 0 if head_only else len(response.body)
    head = len(data) - body_length
    if isinstance(fault, Truncate):
        await _write(writer, data[: head + int(body_length * fault.fraction)])
        exchange.cut("truncate")
        writer.close()
        return False
    if isinstance(fault, SlowBody):
        await _write(writer, data[:head])
        size = max(1, -(-body_length // fault.chunks))
        for start in range(head, len(data), size):
            await pause(fault.seconds / fault.chunks)
            if start + size >= len(data):
                exchange.last_bytes()
            await _write(writer, data[start : start + size])
    else:
        exchange.last_bytes()
        await _write(writer, data)
    exchange.answered(response)
    return True
