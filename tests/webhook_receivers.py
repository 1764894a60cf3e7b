"""Model webhook receivers for the project's tests: one right, and one for each mistake.

Not a test module. :class:`ModelReceiver` keeps what a real integration keeps (the state of
each meeting, which meetings completed, which recordings arrived) and can be told to make one
mistake: count duplicates, let the last delivery win, work before acking, skip the signature.
:func:`factory` makes fresh ones for :func:`harness.webhooks.verdicts.judge_webhooks`.

Also here: tiny socket servers that misbehave (hang, drop) and :data:`COMMAND_RECEIVER`, a
standalone receiver script for the command-receiver protocol.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from harness._clock import Clock
from harness.webhooks.receivers import CallableReceiver, Receiver, ReceiverFactory
from harness.webhooks.signing import verify

#: Lifecycle order: a receiver that keeps the furthest status is indifferent to arrival order.
RANK = {
    "requested": 0,
    "joining": 1,
    "awaiting_admission": 2,
    "needs_human_help": 2,
    "active": 3,
    "stopping": 4,
    "completed": 5,
    "failed": 5,
}


class ModelReceiver:
    """``(headers, body) -> status`` with durable effects, right unless told otherwise."""

    def __init__(
        self,
        secret: str | None,
        clock: Clock,
        *,
        check_signature: bool = True,
        dedupe: bool = True,
        last_wins: bool = False,
        work: float = 0.0,
    ) -> None:
        self.secret = secret
        self.clock = clock
        self.check_signature = check_signature
        self.dedupe = dedupe
        self.last_wins = last_wins
        self.work = work
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.status: dict[str, str] = {}
        self.completed: set[int] = set()
        self.recordings: set[int] = set()
        self.applied: Counter[str] = Counter()

    def __call__(self, headers: httpx.Headers, body: bytes) -> int:
        # When it was sent (the signed timestamp; whole seconds on the tests' virtual clocks):
        # two deliveries sent together and worked on at once then finish together.
        stamp = headers.get("X-Webhook-Timestamp", "")
        began = float(stamp) if stamp.isdigit() else self.clock.now()
        if self.secret is not None and self.check_signature:
            problem = verify(self.secret, headers, body, self.clock.now())
            if problem is not None:
                return 401
        if self.work:  # the work happens before the answer: a slow ack
            self.clock.sleep(max(0.0, began + self.work - self.clock.now()))
        envelope = json.loads(body)
        with self.lock:
            if self.dedupe and envelope["event_id"] in self.seen:
                return 200
            self.seen.add(envelope["event_id"])
            self.apply(envelope)
        return 200

    def apply(self, envelope: dict[str, Any]) -> None:
        data = envelope["data"]
        self.applied[envelope["event_type"]] += 1
        if "recording" in data:
            self.recordings.add(data["recording"]["id"])
            return
        meeting = data["meeting"]
        key, status = str(meeting["id"]), meeting["status"]
        current = self.status.get(key)
        if self.last_wins or current is None or RANK[status] >= RANK[current]:
            self.status[key] = status
        if envelope["event_type"] == "meeting.completed":
            self.completed.add(meeting["id"])

    def effects(self) -> dict[str, Any]:
        with self.lock:
            effects: dict[str, Any] = {
                "status": dict(self.status),
                "completed": sorted(self.completed),
                "recordings": sorted(self.recordings),
            }
            if not self.dedupe:  # what a receiver that counts deliveries ends up storing
                effects["applied"] = dict(sorted(self.applied.items()))
            return effects


def factory(clock: Clock, *, effects: bool = True, **mistakes: Any) -> ReceiverFactory:
    """Fresh :class:`ModelReceiver`\\ s behind a :class:`CallableReceiver`."""

    def make(secret: str | None) -> Receiver:
        model = ModelReceiver(secret, clock, **mistakes)
        return CallableReceiver(
            model, effects=model.effects if effects else None, label="model receiver"
        )

    return make


# ---------------------------------------------------------------------------- bad servers


@contextmanager
def socket_server(behaviour: str) -> Iterator[str]:
    """A loopback server that ``hang``\\ s (accepts, never answers) or ``drop``\\ s
    (reads the request, closes the connection without an answer)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.05)  # so the accept loop sees ``stop`` (close() does not wake accept)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            if behaviour == "drop":
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                conn.close()
            else:
                held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook"
    finally:
        stop.set()
        server.close()
        thread.join(2)
        for conn in held:
            conn.close()


def closed_port() -> str:
    """A URL on a loopback port nothing listens on (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


#: A receiver in another process, for the command-receiver protocol: verifies, dedupes,
#: acks fast, serves GET /effects. Standard library only.
COMMAND_RECEIVER = r"""
import hashlib, hmac, json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("VEXA_WEBHOOK_SECRET")
RANK = {"requested": 0, "joining": 1, "awaiting_admission": 2, "needs_human_help": 2,
        "active": 3, "stopping": 4, "completed": 5, "failed": 5}
lock = threading.Lock()
seen, status, completed, recordings = set(), {}, set(), set()
MODE = sys.argv[1] if len(sys.argv) > 1 else "good"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else each small answer waits out a delayed ACK (~40 ms)
    wbufsize = 65536  # the status line, headers and body leave in one write

    def log_message(self, *args):
        pass

    def answer(self, code, payload=None):
        body = json.dumps(payload if payload is not None else {}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path != "/effects" or MODE == "no-effects":
            return self.answer(404, {"detail": "Not Found"})
        with lock:
            self.answer(200, {"status": status, "completed": sorted(completed),
                              "recordings": sorted(recordings)})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if SECRET:
            ts = self.headers.get("X-Webhook-Timestamp", "")
            sig = self.headers.get("X-Webhook-Signature", "")
            want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
            if not ts.isdigit() or abs(time.time() - int(ts)) > 300 \
                    or not hmac.compare_digest(sig, want):
                return self.answer(401, {"detail": "bad signature"})
        envelope = json.loads(body)
        with lock:
            if envelope["event_id"] not in seen:
                seen.add(envelope["event_id"])
                data = envelope["data"]
                if "recording" in data:
                    recordings.add(data["recording"]["id"])
                else:
                    meeting = data["meeting"]
                    key, new = str(meeting["id"]), meeting["status"]
                    if key not in status or RANK[new] >= RANK[status[key]]:
                        status[key] = new
                    if envelope["event_type"] == "meeting.completed":
                        completed.add(meeting["id"])
        self.answer(200, {"ok": True})


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
"""
