"""A small wsproto WebSocket client and ws.v1 frame checks, shared by the WebSocket tests."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    RejectConnection,
    TextMessage,
)
from wsproto.events import Request as WsRequest

from harness.server.websocket import InProcessWebSocket, WebSocketClosed

HANG_GUARD = 5.0  # seconds; only there so that a bug fails the test instead of hanging it
WS_V1 = Path(__file__).resolve().parents[1].parent / "shared" / "contracts" / "vexa" / "ws.v1"
SCHEMA = json.loads((WS_V1 / "ws.schema.json").read_text())
GOLDEN = sorted((WS_V1 / "golden").glob("*.json"))
MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
REF = {"platform": "google_meet", "native_id": "abc-defg-hij"}
LIFECYCLE = ["requested", "joining", "awaiting_admission", "active", "stopping", "completed"]
#: ws.v1 ``$defs`` per server frame ``type``; ``pong`` has no definition in ws.v1.
DEFS = {
    "subscribed": "Subscribed",
    "unsubscribed": "Unsubscribed",
    "meeting.status": "MeetingStatus",
    "transcript": "Transcript",
    "error": "Error",
}


def check(frame: Any) -> dict[str, Any]:
    """Fail unless ``frame`` is a server frame ws.v1 defines (``pong`` is exactly that)."""
    assert isinstance(frame, dict), frame
    if frame.get("type") == "pong":
        assert frame == {"type": "pong"}
        return frame
    assert frame.get("type") in DEFS, frame
    schema = {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{DEFS[frame['type']]}"}
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(frame)]
    assert not errors, (frame, errors)
    return frame


async def recv(ws: InProcessWebSocket) -> dict[str, Any]:
    return check(await ws.receive_json(timeout=HANG_GUARD))


def drain(ws: InProcessWebSocket) -> list[dict[str, Any]]:
    return [check(frame) for frame in ws.drain()]


def statuses(frames: list[dict[str, Any]]) -> list[str]:
    return [f["payload"]["status"] for f in frames if f["type"] == "meeting.status"]


# ----------------------------------------------------------------------- a wsproto client


class SocketClient:
    """A minimal WebSocket client over asyncio streams (wsproto), validating what it reads."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, ws: WSConnection
    ) -> None:
        self.reader, self.writer, self.ws = reader, writer, ws
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self._parts: list[str] = []

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        api_key: str | None = None,
        target: str = "/ws",
        receive_buffer: int | None = None,
    ) -> SocketClient:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:  # before connect, so the advertised window stays small
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.wait_for(
            asyncio.get_running_loop().sock_connect(sock, (host, port)), HANG_GUARD
        )
        reader, writer = await asyncio.open_connection(sock=sock)
        ws = WSConnection(ConnectionType.CLIENT)
        headers = [(b"x-api-key", api_key.encode())] if api_key else []
        writer.write(
            ws.send(WsRequest(host=f"{host}:{port}", target=target, extra_headers=headers))
        )
        client = cls(reader, writer, ws)
        while True:
            event = await client._next_event()
            if isinstance(event, AcceptConnection):
                return client
            if isinstance(event, RejectConnection):
                raise AssertionError(f"upgrade refused: {event.status_code}")

    async def _next_event(self) -> Any:
        while True:
            for event in self.ws.events():
                return event
            data = await asyncio.wait_for(self.reader.read(65536), HANG_GUARD)
            self.ws.receive_data(data or None)

    async def send_json(self, payload: Any) -> None:
        await self.send_text(json.dumps(payload))

    async def send_text(self, text: str) -> None:
        self.writer.write(self.ws.send(TextMessage(data=text)))
        await self.writer.drain()

    async def send_bytes(self, data: bytes) -> None:
        self.writer.write(self.ws.send(BytesMessage(data=data)))
        await self.writer.drain()

    async def receive_json(self) -> dict[str, Any]:
        """The next frame; AssertionError with the close code if the server closed instead."""
        while True:
            event = await self._next_event()
            if isinstance(event, TextMessage):
                self._parts.append(event.data)
                if event.message_finished:
                    frame = check(json.loads("".join(self._parts)))
                    self._parts = []
                    self.frames.append(frame)
                    return frame
            elif isinstance(event, CloseConnection):
                self.close_code = event.code
                if self.ws.state is ConnectionState.REMOTE_CLOSING:
                    self.writer.write(self.ws.send(event.response()))
                raise WebSocketClosed(event.code)

    async def until_status(self, wanted: str) -> list[dict[str, Any]]:
        """Frames read up to and including the ``meeting.status`` ``wanted``."""
        seen = []
        while True:
            frame = await self.receive_json()
            seen.append(frame)
            if frame["type"] == "meeting.status" and frame["payload"]["status"] == wanted:
                return seen

    async def close(self) -> None:
        if self.ws.state is ConnectionState.OPEN:
            self.writer.write(self.ws.send(CloseConnection(code=1000)))
            await self.writer.drain()
            try:
                while self.ws.state is not ConnectionState.CLOSED:
                    await self._next_event()
            except (TimeoutError, ConnectionError):
                pass
        self.writer.close()
