"""The command-protocol operations as HTTP requests (DESIGN.md, "The command-client protocol").

One table shared by every reference client, so the sync, async and command faces cannot
drift apart. ``start_bot`` is the only operation that is not safe to repeat blindly; the
clients give it its own path (reconcile, then re-send).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from harness.clients.policy import Unsupported

__all__ = ["OPERATIONS", "HttpCall", "build"]

OPERATIONS = (
    "start_bot",
    "stop_bot",
    "bot_status",
    "get_transcript",
    "list_meetings",
    "update_meeting",
    "delete_meeting",
    "update_bot_config",
    "set_webhook",
    "delete_recording",
)


@dataclass(frozen=True, slots=True)
class HttpCall:
    method: str
    path: str
    json: dict[str, Any] | None = None


def _need(args: Mapping[str, Any], *names: str) -> list[str]:
    missing = [n for n in names if args.get(n) in (None, "")]
    if missing:
        raise ValueError(f"missing argument(s): {', '.join(missing)}")
    return [str(args[n]) for n in names]


def _meeting(args: Mapping[str, Any]) -> str:
    platform, native = _need(args, "platform", "native_meeting_id")
    return f"{quote(platform, safe='')}/{quote(native, safe='')}"


def build(operation: str, args: Mapping[str, Any]) -> HttpCall:
    """The request for ``operation``; :class:`Unsupported` for names outside the protocol."""
    if operation == "start_bot":
        _need(args, "platform", "native_meeting_id")
        body = {"platform": args["platform"], "native_meeting_id": args["native_meeting_id"]}
        for optional in ("passcode", "bot_name", "language"):
            if args.get(optional) is not None:
                body[optional] = args[optional]
        return HttpCall("POST", "/bots", body)
    if operation == "stop_bot":
        return HttpCall("DELETE", f"/bots/{_meeting(args)}")
    if operation == "bot_status":
        return HttpCall("GET", "/bots/status")
    if operation == "get_transcript":
        return HttpCall("GET", f"/transcripts/{_meeting(args)}")
    if operation == "list_meetings":
        return HttpCall("GET", "/meetings")
    if operation == "update_meeting":
        if not isinstance(args.get("data"), dict):
            raise ValueError("missing argument: data (an object)")
        return HttpCall("PATCH", f"/meetings/{_meeting(args)}", {"data": args["data"]})
    if operation == "delete_meeting":
        return HttpCall("DELETE", f"/meetings/{_meeting(args)}")
    if operation == "update_bot_config":
        (language,) = _need(args, "language")
        return HttpCall("PUT", f"/bots/{_meeting(args)}/config", {"language": language})
    if operation == "set_webhook":
        (url,) = _need(args, "webhook_url")
        body = {"webhook_url": url}
        if args.get("webhook_secret") is not None:
            body["webhook_secret"] = str(args["webhook_secret"])
        return HttpCall("PUT", "/user/webhook", body)
    if operation == "delete_recording":
        (recording,) = _need(args, "recording_id")
        return HttpCall("DELETE", f"/recordings/{quote(recording, safe='')}")
    raise Unsupported(
        f"unknown operation {operation!r}; the protocol's are {', '.join(OPERATIONS)}"
    )
