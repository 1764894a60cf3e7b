"""What the three Python example clients share: the operations, the retry policy, the protocol.

Nothing here imports vexa-harness: copy this file and one client next to your code. The
policy is the one the conformance rules ask for (RULES.md):

* every request has a timeout (``client-timeout``);
* 429, 500, 502, 503, 504, timeouts and resets are retried (``retries-transient``) with full
  jitter — the n-th wait is drawn from ``U(0, min(cap, base·2ⁿ))`` (``backoff-growth``,
  ``backoff-jitter``) — and never sooner than ``Retry-After`` asks (``honor-retry-after``);
* 400, 401, 403, 404, 409 and 422 end the operation at once (``no-retry-non-retryable``);
* at most ``max_attempts`` attempts within ``max_time`` seconds (``bounded-retries``);
* a ``POST /bots`` whose outcome is unknown (a cut connection, a timeout, a 5xx) is followed
  by a read of ``GET /meetings``; another POST only if no bot runs (``no-blind-post``).

The command protocol (``vexa-harness conform --client-cmd``): ``CLIENT <operation>
<args-json>`` with ``VEXA_API_BASE`` and ``VEXA_API_KEY`` set; exit 0 and the result as JSON
on stdout, 1 and a one-line reason on stderr when the client gave up, 2 when it does not
support the operation.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: After these, nobody knows whether a POST /bots created a bot.
AMBIGUOUS_STATUSES = frozenset({500, 502, 503, 504})
#: Meeting statuses in which a bot is running: another POST would start a second one.
LIVE = frozenset({"requested", "joining", "awaiting_admission", "active"})


class GiveUp(Exception):
    """The client stopped trying; the message says why (command exit 1)."""


class Unsupported(Exception):
    """Not an operation of the protocol (command exit 2)."""


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 7
    max_time: float = 60.0  # seconds within which every attempt must start
    base: float = 0.25  # the first wait is drawn from U(0, base)
    cap: float = 5.0  # no single wait is longer
    timeout: float = 5.0  # per request: connect, write, read
    reconcile: bool = True  # read GET /meetings before re-sending an ambiguous POST /bots


class Attempts:
    """Attempts and time left for one operation; ``next_wait`` raises GiveUp when spent."""

    def __init__(self, policy: Policy, limit: int | None = None) -> None:
        self.policy = policy
        self.limit = limit if limit is not None else policy.max_attempts
        self.started = time.monotonic()
        self.count = 0

    def next_wait(self, why: str, retry_after: float | None) -> float:
        if self.count >= self.limit:
            raise GiveUp(f"gave up after {self.count} attempt(s): {why}")
        ceiling = min(self.policy.cap, self.policy.base * 2 ** (self.count - 1))
        wait = random.uniform(0.0, ceiling)  # full jitter
        if retry_after is not None:
            wait = max(wait, retry_after)
        if time.monotonic() - self.started + wait > self.policy.max_time:
            late = f"the next attempt would start after {self.policy.max_time} s"
            raise GiveUp(f"gave up: {late}: {why}")
        return wait


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds a ``Retry-After`` header asks for: delay-seconds or an HTTP-date (RFC 9110)."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def live_bot(meetings: Any, platform: str, native_meeting_id: str) -> dict[str, Any] | None:
    """The newest meeting row for this meeting, if its bot is running (GET /meetings)."""
    rows = meetings.get("meetings", []) if isinstance(meetings, dict) else []
    for row in rows:  # newest first
        if row.get("platform") == platform and row.get("native_meeting_id") == native_meeting_id:
            return row if row.get("status") in LIVE else None
    return None


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None


def _need(args: Mapping[str, Any], *names: str) -> list[str]:
    missing = [name for name in names if args.get(name) in (None, "")]
    if missing:
        raise GiveUp(f"missing argument(s): {', '.join(missing)}")
    return [str(args[name]) for name in names]


def _meeting(args: Mapping[str, Any]) -> str:
    platform, native = _need(args, "platform", "native_meeting_id")
    return f"{quote(platform, safe='')}/{quote(native, safe='')}"


def request_for(operation: str, args: Mapping[str, Any]) -> Call:
    """The Vexa request behind each operation of the command protocol."""
    if operation == "start_bot":
        _need(args, "platform", "native_meeting_id")
        body = {k: args[k] for k in ("platform", "native_meeting_id", "passcode", "bot_name",
                                     "language") if args.get(k) is not None}  # fmt: skip
        return Call("POST", "/bots", body)
    if operation == "stop_bot":
        return Call("DELETE", f"/bots/{_meeting(args)}")
    if operation == "bot_status":
        return Call("GET", "/bots/status")
    if operation == "get_transcript":
        return Call("GET", f"/transcripts/{_meeting(args)}")
    if operation == "list_meetings":
        return Call("GET", "/meetings")
    if operation == "update_meeting":
        return Call("PATCH", f"/meetings/{_meeting(args)}", {"data": args.get("data") or {}})
    if operation == "delete_meeting":
        return Call("DELETE", f"/meetings/{_meeting(args)}")
    if operation == "update_bot_config":
        (language,) = _need(args, "language")
        return Call("PUT", f"/bots/{_meeting(args)}/config", {"language": language})
    if operation == "set_webhook":
        (url,) = _need(args, "webhook_url")
        body = {"webhook_url": url}
        if args.get("webhook_secret") is not None:
            body["webhook_secret"] = str(args["webhook_secret"])
        return Call("PUT", "/user/webhook", body)
    if operation == "delete_recording":
        (recording,) = _need(args, "recording_id")
        return Call("DELETE", f"/recordings/{quote(recording, safe='')}")
    raise Unsupported(f"{operation}: not an operation of the command protocol")


OPERATIONS = (
    "start_bot", "stop_bot", "bot_status", "get_transcript", "list_meetings", "update_meeting",
    "delete_meeting", "update_bot_config", "set_webhook", "delete_recording",
)  # fmt: skip


def run_command(perform: Callable[[str, str, str, dict[str, Any]], Any]) -> int:
    """The command protocol around ``perform(base_url, api_key, operation, args)``."""
    if len(sys.argv) != 3:
        print("usage: <client> <operation> <args-json>", file=sys.stderr)
        return 2
    operation, raw = sys.argv[1], sys.argv[2]
    if operation not in OPERATIONS:
        print(f"{operation}: not supported", file=sys.stderr)
        return 2
    base, key = os.environ.get("VEXA_API_BASE"), os.environ.get("VEXA_API_KEY")
    if not base or not key:
        print("VEXA_API_BASE and VEXA_API_KEY must be set", file=sys.stderr)
        return 1
    try:
        result = perform(base, key, operation, json.loads(raw))
    except Unsupported as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except Exception as exc:  # GiveUp, or anything else: one line on stderr
        print(" ".join(f"{operation}: {exc}".split()), file=sys.stderr)
        return 1
    print(json.dumps(result, default=str))
    return 0
