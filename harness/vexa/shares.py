"""Public transcript share links (v0.10 ``POST /transcripts/{p}/{id}/share``).

Vexa's gateway keeps a share as a Redis key that expires after its TTL and holds the
creator's API key; each read of ``/public/transcripts/<id>.txt`` fetches the transcript afresh
*with that key*, so a revoked key or a deleted meeting breaks the link, and the text always
shows the transcript as it is now. :class:`ShareLinks` keeps the same facts on the harness
clock; :func:`transcript_text` renders a ``TranscriptionResponse`` exactly as the gateway does.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DEFAULT_TTL",
    "MAX_TTL",
    "MIN_TTL",
    "ShareLink",
    "ShareLinks",
    "clamp_ttl",
    "transcript_text",
]

DEFAULT_TTL = 900
MIN_TTL = 60
MAX_TTL = 86_400


def clamp_ttl(ttl_seconds: int | None) -> int:
    """The gateway's rule: ``ttl or 900`` (so 0 means the default), then clamp to 60-86400."""
    return min(max(ttl_seconds or DEFAULT_TTL, MIN_TTL), MAX_TTL)


@dataclass(frozen=True, slots=True)
class ShareLink:
    share_id: str
    #: The creator's API key: every read fetches the transcript with it.
    token: str
    platform: str
    native_meeting_id: str
    meeting_id: int | None
    expires_at: float

    @property
    def expires_stamp(self) -> str:
        """``expires_at`` as pydantic v2 writes a UTC datetime (``…Z``, in every profile)."""
        moment = datetime.fromtimestamp(round(self.expires_at, 6), UTC)
        return moment.isoformat().replace("+00:00", "Z")


class ShareLinks:
    """The live share links of one fake deployment."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._links: dict[str, ShareLink] = {}

    def create(
        self,
        token: str,
        platform: str,
        native_meeting_id: str,
        meeting_id: int | None,
        expires_at: float,
    ) -> ShareLink:
        """A new link; its id is ``secrets.token_urlsafe(16)``-shaped, from a seeded stream."""
        while True:
            raw = self._rng.getrandbits(128).to_bytes(16, "big")
            share_id = base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
            if share_id not in self._links:
                break
        link = ShareLink(share_id, token, platform, native_meeting_id, meeting_id, expires_at)
        self._links[share_id] = link
        return link

    def get(self, share_id: str, now: float) -> ShareLink | None:
        """The link, or None once it has expired (Redis forgets the key at its TTL)."""
        link = self._links.get(share_id)
        if link is not None and now >= link.expires_at:
            del self._links[share_id]
            return None
        return link


def _clock_time(seconds: float) -> str:
    whole = int(seconds)
    hours, minutes, secs = whole // 3600, whole % 3600 // 60, whole % 60
    return f"{hours:02d}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _segment_time(segment: dict[str, Any]) -> str:
    absolute = segment.get("absolute_start_time")
    if absolute:
        try:
            moment = datetime.fromisoformat(str(absolute).replace("Z", "+00:00"))
        except ValueError:
            return str(absolute)
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return _clock_time(float(segment.get("start_time") or segment.get("start") or 0))


def transcript_text(transcript: dict[str, Any]) -> str:
    """The plain-text share body: a ``MEETING TRANSCRIPT`` header, then one line a segment."""
    lines = [
        "MEETING TRANSCRIPT",
        "",
        f"Platform: {transcript.get('platform')}",
        f"Meeting ID: {transcript.get('native_meeting_id')}",
    ]
    if transcript.get("start_time"):
        lines.append(f"Start: {transcript.get('start_time')}")
    if transcript.get("end_time"):
        lines.append(f"End: {transcript.get('end_time')}")
    lines += ["", "---", ""]
    for segment in transcript.get("segments") or []:
        text = (segment.get("text") or "").strip()
        if not text:
            continue
        speaker = segment.get("speaker")
        name = speaker.strip() if isinstance(speaker, str) and speaker else "Unknown"
        lines.append(f"[{_segment_time(segment)}] {name}: {text}")
    return "\n".join(lines).strip() + "\n"
