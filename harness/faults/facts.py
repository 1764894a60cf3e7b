"""What the fault engine and the journal need to know about a request, read once.

The meeting a request concerns comes from its path (``/bots/{platform}/{id}/...``,
``/transcripts/...``, ``/meetings/...``) or, for ``POST /bots``, from its JSON body. The
logical operation groups the attempts a client makes at one thing: the same key, method and
path — and for ``POST /bots``, the same meeting, because that is what a retry is for.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from harness.vexa.platforms import parse_meeting_url
from harness.web.messages import Request

__all__ = ["RequestFacts", "facts_of"]

_MEETING_PREFIXES = ("bots", "transcripts", "meetings")


@dataclass(frozen=True, slots=True)
class RequestFacts:
    method: str
    path: str
    api_key: str | None
    platform: str | None
    native_meeting_id: str | None
    operation: str
    body_sha256: str


def _from_body(body: bytes) -> tuple[str | None, str | None]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, None
    if not isinstance(payload, dict):
        return None, None
    platform, native = payload.get("platform"), payload.get("native_meeting_id")
    url = payload.get("meeting_url")
    if isinstance(url, str) and not native:
        try:
            parsed = parse_meeting_url(url)
            platform, native = platform or parsed.platform, parsed.native_meeting_id
        except ValueError:
            pass
    return (platform if isinstance(platform, str) else None), (
        native if isinstance(native, str) else None
    )


def facts_of(request: Request) -> RequestFacts:
    parts = [p for p in request.path.split("/") if p]
    platform = native = None
    if request.method == "POST" and parts == ["bots"]:
        platform, native = _from_body(request.body)
    elif len(parts) >= 3 and parts[0] in _MEETING_PREFIXES and parts[1] != "id":
        platform, native = parts[1], parts[2]
    key = request.headers.get("x-api-key")
    operation = f"{request.method} {request.path}"
    if request.method == "POST" and parts == ["bots"]:
        operation += f" {platform}/{native}"
    return RequestFacts(
        method=request.method,
        path=request.path,
        api_key=key,
        platform=platform,
        native_meeting_id=native,
        operation=f"{key or '-'} {operation}",
        body_sha256=hashlib.sha256(request.body).hexdigest(),
    )
