"""A webhook receiver that does what Vexa's docs ask, in the standard library only.

The command-receiver protocol of vexa-harness: it listens on ``127.0.0.1:$PORT``, checks
signatures with ``$VEXA_WEBHOOK_SECRET`` when it is set, and serves ``GET /effects`` — a JSON
snapshot of what it stored — so the harness can compare a clean stream of deliveries with a
noisy one (duplicates, reordering, forgeries)::

    vexa-harness conform --client-py httpx_client:Adapter \\
        --receiver-cmd "python examples/python/webhook_receiver.py"

What makes it pass the four webhook rules:

* ``webhook-fast-ack``: it answers at once; real work would go to a queue after the 2xx;
* ``webhook-signature``: ``X-Webhook-Signature`` must be ``sha256=HMAC(secret, "<ts>." + body)``
  and ``X-Webhook-Timestamp`` within 300 s of now, else 401 and nothing is stored;
* ``webhook-idempotent``: an ``event_id`` seen before is acknowledged and ignored;
* ``webhook-order-tolerant``: a meeting's status only moves forward in the lifecycle, so a
  late ``joining`` never overwrites ``completed``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = os.environ.get("VEXA_WEBHOOK_SECRET")
TOLERANCE = 300  # seconds between X-Webhook-Timestamp and now
RANK = {
    "requested": 0, "joining": 1, "awaiting_admission": 2, "needs_human_help": 2,
    "active": 3, "stopping": 4, "completed": 5, "failed": 5,
}  # fmt: skip

lock = threading.Lock()
seen: set[str] = set()
status: dict[str, str] = {}
completed: set[int] = set()
recordings: set[int] = set()


def signed(headers: Any, body: bytes) -> bool:
    stamp = headers.get("X-Webhook-Timestamp", "")
    signature = headers.get("X-Webhook-Signature", "")
    if not stamp.isdigit() or abs(time.time() - int(stamp)) > TOLERANCE:
        return False
    mac = hmac.new(str(SECRET).encode(), stamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(signature, "sha256=" + mac.hexdigest())


def store(envelope: dict[str, Any]) -> None:
    data = envelope["data"]
    if "recording" in data:
        recordings.add(data["recording"]["id"])
        return
    meeting = data["meeting"]
    key, new = str(meeting["id"]), meeting["status"]
    if key not in status or RANK.get(new, 0) >= RANK.get(status[key], 0):
        status[key] = new
    if envelope["event_type"] == "meeting.completed":
        completed.add(meeting["id"])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args: Any) -> None:
        pass

    def answer(self, code: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path != "/effects":
            return self.answer(404, {"detail": "Not Found"})
        with lock:
            effects = {
                "status": status,
                "completed": sorted(completed),
                "recordings": sorted(recordings),
            }
            return self.answer(200, effects)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if SECRET and not signed(self.headers, body):
            return self.answer(401, {"detail": "bad or stale signature"})
        try:
            envelope = json.loads(body)
        except ValueError:
            return self.answer(400, {"detail": "not JSON"})
        with lock:
            if envelope.get("event_id") not in seen:
                seen.add(envelope.get("event_id"))
                store(envelope)
        return self.answer(200, {"ok": True})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
