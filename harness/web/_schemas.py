"""JSON schemas of the bodies api.v1 leaves untyped (``{}``), exactly as the fake emits them.

Each one mirrors a view (:mod:`harness.vexa.views`, :mod:`harness.vexa.recordings`, the
interactive and share routes) and is *closed*: ``additionalProperties: false`` and every field
the view always writes is required. A view that grows a field without its schema growing with
it fails ``tests/test_openapi.py``, which is the point. Timestamps follow the profile.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from harness.vexa.lifecycle import Source
from harness.vexa.model import SCOPES
from harness.vexa.profiles import Profile

__all__ = ["REF", "aware_time_schema", "db_time_schema", "own_schemas", "ref"]

Schema = dict[str, Any]

REF = "#/components/schemas/"
#: ``datetime.isoformat()`` of a UTC instant, without the zone part.
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?"

_STRING: Schema = {"type": "string"}
_INTEGER: Schema = {"type": "integer"}
_NUMBER: Schema = {"type": "number"}
_BOOLEAN: Schema = {"type": "boolean"}
_OBJECT: Schema = {"type": "object", "additionalProperties": True}


def ref(name: str) -> Schema:
    return {"$ref": REF + name}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def array(items: Schema, **limits: int) -> Schema:
    return {"type": "array", "items": items, **limits}


def closed(properties: dict[str, Schema], description: str = "") -> Schema:
    """An object with exactly these fields, all of them always present."""
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def enum_schema(enum: type[StrEnum]) -> Schema:
    return {"type": "string", "enum": [member.value for member in enum]}


def db_time_schema(profile: Profile) -> Schema:
    """A DB timestamp as ``profile`` writes it (``...Z``, or naive without a zone)."""
    if profile.timestamps == "naive":
        return {
            "type": "string",
            "pattern": f"^{_ISO}$",
            "description": "UTC without a zone (v0.10 serialises naive DB columns this way); "
            "not an RFC 3339 date-time",
        }
    return {"type": "string", "format": "date-time", "pattern": f"^{_ISO}Z$"}


def aware_time_schema(profile: Profile) -> Schema:
    """A tz-aware timestamp (segment and transition times): ``+00:00`` (v0.10) or ``Z``."""
    zone = "Z" if profile.timestamps == "zulu" else r"\+00:00"
    return {"type": "string", "format": "date-time", "pattern": f"^{_ISO}{zone}$"}


def own_schemas(profile: Profile) -> dict[str, Schema]:
    """Our component schemas for ``profile`` (names are what the route tables declare)."""
    db_time = db_time_schema(profile)
    scopes = array({"type": "string", "enum": list(SCOPES)})
    user = {
        "id": _INTEGER,
        "email": _STRING,
        "name": nullable(_STRING),
        "image_url": nullable(_STRING),
        "max_concurrent_bots": _INTEGER,
        "data": _OBJECT,
        "created_at": db_time,
    }
    media_link = {
        "url": _STRING,
        "download_url": _STRING,
        "filename": _STRING,
        "content_type": _STRING,
        "file_size_bytes": nullable(_INTEGER),
        "expires_in": _INTEGER,
    }
    return {
        "Error": {
            "type": "object",
            "properties": {"detail": _STRING},
            "required": ["detail"],
            "description": "An error Vexa raises itself: FastAPI's string `detail`.",
        },
        "ControlError": {
            "type": "object",
            "properties": {"detail": {}},
            "required": ["detail"],
            "description": "An error of the harness control API: a `detail` of any shape "
            "(a string, FastAPI's list, or a list of field problems), maybe a `message`.",
        },
        "Message": closed({"message": _STRING}),
        "AuthMe": closed(
            {"user_id": _INTEGER, "email": _STRING, "scopes": scopes, "max_concurrent": _INTEGER}
        ),
        # ------------------------------------------------------------ meetings and bots
        "StatusTransition": {
            "type": "object",
            "properties": {
                "from": ref("MeetingStatus"),
                "to": ref("MeetingStatus"),
                "timestamp": aware_time_schema(profile),
                "source": enum_schema(Source),
                "reason": nullable(_STRING),
                "completion_reason": nullable(_STRING),
                "failure_stage": nullable(_STRING),
            },
            "required": ["from", "to", "timestamp", "source"],
            "additionalProperties": False,
            "description": "One entry of `data.status_transition`.",
        },
        "BotMeeting": closed(
            {
                "id": _INTEGER,
                "platform": ref("Platform"),
                "native_meeting_id": nullable(_STRING),
                "status": ref("MeetingStatus"),
                "bot_container_id": _STRING,
                "start_time": nullable(db_time),
                "end_time": nullable(db_time),
                "completion_reason": nullable(_STRING),
                "failure_stage": nullable(ref("MeetingFailureStage")),
                "data": _OBJECT,
                "created_at": db_time,
                "updated_at": db_time,
            },
            "`GET /bots/id/{meeting_id}`: the meeting without `user_id` and "
            "`constructed_meeting_url`.",
        ),
        "BotListMeetingData": closed(
            {
                "name": nullable(_STRING),
                "completion_reason": nullable(_STRING),
                "participants": array(_STRING, maxItems=3),
                "participants_count": {**_INTEGER, "minimum": 0},
                "notes_preview": nullable({**_STRING, "maxLength": 120}),
                "languages": nullable(array(_STRING)),
                "last_transition": nullable(ref("StatusTransition")),
                "has_recording": _BOOLEAN,
            }
        ),
        "BotListMeeting": closed(
            {
                "id": _INTEGER,
                "platform": ref("Platform"),
                "native_meeting_id": nullable(_STRING),
                "status": ref("MeetingStatus"),
                "bot_container_id": _STRING,
                "start_time": nullable(db_time),
                "end_time": nullable(db_time),
                "created_at": db_time,
                "updated_at": db_time,
                "data": ref("BotListMeetingData"),
            },
            "A slim row of `GET /bots`.",
        ),
        "BotListResponse": closed({"meetings": array(ref("BotListMeeting")), "has_more": _BOOLEAN}),
        # ------------------------------------------------------------ interactive bots
        "BotCommandAccepted": closed({"message": _STRING, "meeting_id": _INTEGER}),
        "BotChatMessages": closed({"messages": array(ref("ChatMessage")), "meeting_id": _INTEGER}),
        "BotEvent": closed({"type": _STRING, "timestamp": _NUMBER, "data": _OBJECT}),
        "BotEvents": closed(
            {
                "events": array(ref("BotEvent")),
                "meeting_id": _INTEGER,
                "count": {**_INTEGER, "minimum": 0},
            }
        ),
        # ------------------------------------------------------------ recordings
        "RecordingMediaFile": closed(
            {
                "id": _INTEGER,
                "type": nullable(_STRING),
                "format": nullable(_STRING),
                "storage_backend": nullable(_STRING),
                "file_size_bytes": nullable(_INTEGER),
                "duration_seconds": nullable(_NUMBER),
                "metadata": nullable(_OBJECT),
                "created_at": nullable(db_time),
            }
        ),
        "Recording": closed(
            {
                "id": _INTEGER,
                "meeting_id": _INTEGER,
                "user_id": _INTEGER,
                "session_uid": nullable(_STRING),
                "source": _STRING,
                "status": _STRING,
                "error_message": nullable(_STRING),
                "created_at": nullable(db_time),
                "completed_at": nullable(db_time),
                "media_files": array(ref("RecordingMediaFile")),
            },
            "v0.10 `RecordingResponse`.",
        ),
        "RecordingListResponse": closed({"recordings": array(ref("Recording"))}),
        "RecordingDeleted": closed({"status": {"const": "deleted"}, "recording_id": _INTEGER}),
        "RecordingMediaLink": closed(media_link),
        "RecordingMasterLink": closed(
            {
                **media_link,
                "media_file_id": _INTEGER,
                "raw_url": _STRING,
                "duration_seconds": nullable(_NUMBER),
            }
        ),
        "RecordingConfig": closed(
            {
                "enabled": _BOOLEAN,
                "capture_modes": array({"type": "string", "enum": ["audio", "video"]}),
            }
        ),
        # ------------------------------------------------------------ users and tokens
        "UserResponse": closed(
            user, "admin-api `UserResponse` (the webhook secret is never returned)."
        ),
        "UserResponseList": array(ref("UserResponse")),
        "TokenResponse": closed(
            {
                "id": _INTEGER,
                "token": _STRING,
                "user_id": _INTEGER,
                "scopes": scopes,
                "name": nullable(_STRING),
                "created_at": db_time,
                "last_used_at": {"type": "null"},
                "expires_at": nullable(db_time),
            }
        ),
        "UserDetailResponse": closed(
            {**user, "api_tokens": array(ref("TokenResponse"))},
            "admin-api `UserDetailResponse`: the user, its raw data and its tokens.",
        ),
        # ------------------------------------------------------------ this document
        "OpenApiDocument": {
            "type": "object",
            "properties": {"openapi": {"const": "3.1.0"}, "info": _OBJECT, "paths": _OBJECT},
            "required": ["openapi", "info", "paths", "components"],
        },
    }
