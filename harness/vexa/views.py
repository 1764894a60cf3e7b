"""JSON views of the model, shaped like Vexa's responses (api.v1 schemas) per profile.

v0.10 writes meeting times from naive UTC columns without a zone; segment times and webhook
stamps carry ``+00:00``. The ``docs`` profile writes ``Z`` everywhere, as the api.v1 golden
examples do. Clients must accept both; that is part of what the profiles test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harness.vexa.model import ApiKey, Meeting, User
from harness.vexa.profiles import Profile
from harness.vexa.transcripts import Segment

__all__ = [
    "aware_stamp",
    "bot_meeting",
    "bot_status",
    "key_response",
    "meeting_response",
    "public_data",
    "segment_view",
    "slim_meeting",
    "stamp",
    "transcript_response",
    "user_response",
]

#: Keys of ``meeting.data`` Vexa never returns.
_PRIVATE_DATA = frozenset({"webhook_secret"})


def _datetime(t: float) -> datetime:
    return datetime.fromtimestamp(round(t, 6), UTC)


def stamp(t: float | None, profile: Profile) -> str | None:
    """A DB timestamp: naive ISO (v0.10) or ISO with ``Z`` (docs)."""
    if t is None:
        return None
    text = _datetime(t).replace(tzinfo=None).isoformat()
    return text + "Z" if profile.timestamps == "zulu" else text


def aware_stamp(t: float, profile: Profile) -> str:
    """A tz-aware timestamp (segment absolute times): ``+00:00`` (v0.10) or ``Z`` (docs)."""
    text = _datetime(t).isoformat()
    return text.replace("+00:00", "Z") if profile.timestamps == "zulu" else text


def public_data(meeting: Meeting, profile: Profile) -> dict[str, Any]:
    data = {k: v for k, v in meeting.data.items() if k not in _PRIVATE_DATA}
    transitions = data.get("status_transition")
    if transitions:
        data["status_transition"] = [
            {**entry, "timestamp": aware_stamp(entry["timestamp"], profile)}
            for entry in transitions
        ]
    return data


def meeting_response(meeting: Meeting, profile: Profile) -> dict[str, Any]:
    """api.v1 ``MeetingResponse``."""
    return {
        "id": meeting.id,
        "user_id": meeting.user_id,
        "platform": meeting.platform,
        "native_meeting_id": meeting.native_meeting_id,
        "constructed_meeting_url": meeting.constructed_meeting_url,
        "status": meeting.status.value,
        "bot_container_id": meeting.bot_container_id,
        "start_time": stamp(meeting.start_time, profile),
        "end_time": stamp(meeting.end_time, profile),
        "completion_reason": meeting.completion_reason,
        "failure_stage": meeting.failure_stage,
        "data": public_data(meeting, profile),
        "created_at": stamp(meeting.created_at, profile),
        "updated_at": stamp(meeting.updated_at, profile),
    }


def bot_meeting(meeting: Meeting, profile: Profile) -> dict[str, Any]:
    """``GET /bots/id/{id}``: the meeting dict without ``user_id`` and the constructed URL."""
    body = meeting_response(meeting, profile)
    del body["user_id"], body["constructed_meeting_url"]
    return body


def slim_meeting(meeting: Meeting, profile: Profile) -> dict[str, Any]:
    """A row of ``GET /bots``: the listing fields and a summary ``data``."""
    data = meeting.data
    participants = list(data.get("participants") or [])
    transitions = data.get("status_transition") or []
    notes = data.get("notes")
    return {
        "id": meeting.id,
        "platform": meeting.platform,
        "native_meeting_id": meeting.native_meeting_id,
        "status": meeting.status.value,
        "bot_container_id": meeting.bot_container_id,
        "start_time": stamp(meeting.start_time, profile),
        "end_time": stamp(meeting.end_time, profile),
        "created_at": stamp(meeting.created_at, profile),
        "updated_at": stamp(meeting.updated_at, profile),
        "data": {
            "name": data.get("name"),
            "completion_reason": meeting.completion_reason,
            "participants": participants[:3],
            "participants_count": len(participants),
            "notes_preview": notes[:120] if isinstance(notes, str) else None,
            "languages": data.get("languages"),
            "last_transition": public_data(meeting, profile)["status_transition"][-1]
            if transitions
            else None,
            "has_recording": bool(data.get("recordings")),
        },
    }


def bot_status(meeting: Meeting, profile: Profile, now: float) -> dict[str, Any]:
    """api.v1 ``BotStatus``: one running container."""
    minutes = int((now - meeting.created_at) // 60)
    uptime = "less than a minute" if minutes < 1 else f"{minutes} minute{'s' * (minutes != 1)}"
    return {
        "container_id": meeting.bot_container_id,
        "container_name": meeting.container_name,
        "platform": meeting.platform,
        "native_meeting_id": meeting.native_meeting_id,
        "status": f"Up {uptime}",
        "normalized_status": profile.bot_status_normalized_fixed or meeting.status.value,
        "created_at": stamp(meeting.created_at, profile),
        "start_time": stamp(meeting.start_time, profile),
        "labels": {"vexa.meeting_id": str(meeting.id), "vexa.user_id": str(meeting.user_id)},
        "meeting_id_from_name": str(meeting.id),
        "meeting_status": meeting.status.value,
        "data": public_data(meeting, profile),
    }


def segment_view(
    meeting: Meeting, segment: Segment, profile: Profile, *, completed: bool
) -> dict[str, Any]:
    """api.v1 ``TranscriptionSegment``."""
    assert meeting.start_time is not None
    begin = meeting.start_time + segment.start
    finish = meeting.start_time + segment.end
    session = f"{meeting.bot_container_id[:8]}"
    return {
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "language": segment.language,
        "created_at": aware_stamp(finish, profile),
        "speaker": segment.speaker,
        "completed": completed,
        "absolute_start_time": aware_stamp(begin, profile),
        "absolute_end_time": aware_stamp(finish, profile),
        "segment_id": f"{session}:{segment.speaker.split()[0].lower()}:{segment.index}",
    }


def transcript_response(
    meeting: Meeting, segments: list[Segment], draft: Segment | None, profile: Profile
) -> dict[str, Any]:
    """api.v1 ``TranscriptionResponse``."""
    views = [segment_view(meeting, s, profile, completed=True) for s in segments]
    if draft is not None:
        views.append(segment_view(meeting, draft, profile, completed=False))
    data = public_data(meeting, profile)
    return {
        "id": meeting.id,
        "platform": meeting.platform,
        "native_meeting_id": meeting.native_meeting_id,
        "constructed_meeting_url": meeting.constructed_meeting_url,
        "status": meeting.status.value,
        "start_time": stamp(meeting.start_time, profile),
        "end_time": stamp(meeting.end_time, profile),
        "recordings": list(data.get("recordings") or []),
        "notes": data.get("notes"),
        "data": data,
        "segments": views,
    }


def user_response(user: User, profile: Profile) -> dict[str, Any]:
    """admin-api ``UserResponse`` (the webhook secret is never returned)."""
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "image_url": user.image_url,
        "max_concurrent_bots": user.max_concurrent_bots,
        "data": {k: v for k, v in user.data.items() if k != "webhook_secret"},
        "created_at": stamp(user.created_at, profile),
    }


def key_response(key: ApiKey, profile: Profile) -> dict[str, Any]:
    return {
        "id": key.id,
        "token": key.token,
        "user_id": key.user_id,
        "scopes": list(key.scopes),
        "name": key.name,
        "created_at": stamp(key.created_at, profile),
        "last_used_at": None,
        "expires_at": stamp(key.expires_at, profile),
    }
