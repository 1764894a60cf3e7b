"""The Vexa REST surface (api.v1): one small handler per route, over the pure model.

Handlers read converted parameters from :class:`Call`, call one model operation, and render
the result with :mod:`harness.vexa.views`. Everything version-specific comes from the profile.
"""

from __future__ import annotations

from typing import Any

from harness.vexa import views
from harness.vexa.bodies import (
    BotConfigUpdate,
    MeetingCreate,
    MeetingUpdate,
    WebhookUpdate,
)
from harness.vexa.exceptions import VexaError
from harness.vexa.model import Meeting
from harness.vexa.platforms import CannotConstructUrl, Platform, construct_meeting_url
from harness.vexa.recordings import recording_enabled_default
from harness.web.endpoints import Call, Endpoint, QueryInt, QueryStr, registrar
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = ["ROUTER"]

ROUTER: Router[Endpoint] = Router(enums={"platform": Platform})

BOT = frozenset({"bot", "browser"})
TX = frozenset({"tx"})
USER = frozenset({"bot"})
_KEY = "/{platform:platform}/{native_meeting_id}"


def _ok(payload: Any, status: int = 200) -> Response:
    return json_response(status, payload)


route = registrar(ROUTER)


# ---------------------------------------------------------------------------- root and auth


@route("GET", "/", auth="none", responses={"200": "Message"})
def root(call: Call) -> Response:
    """Gateway welcome message."""
    return _ok({"message": "Welcome to the Vexa API Gateway"})


@route("GET", "/auth/me", responses={"200": "AuthMe"}, errors=(401,))
def auth_me(call: Call) -> Response:
    """Who the API key belongs to and what it may do."""
    assert call.key is not None
    user = call.caller
    return _ok(
        {
            "user_id": user.id,
            "email": user.email,
            "scopes": list(call.key.scopes),
            "max_concurrent": user.max_concurrent_bots,
        }
    )


# ---------------------------------------------------------------------------- bots


def _resolved_timeouts(body: MeetingCreate) -> dict[str, int]:
    leave = body.automatic_leave
    timeouts = {
        "max_bot_time": 7_200_000,
        "max_wait_for_admission": 900_000,
        "max_time_left_alone": 900_000,
        "no_one_joined_timeout": 120_000,
    }
    if leave is not None:
        aliases = {
            "max_wait_for_admission": leave.max_wait_for_admission or leave.waiting_room_timeout,
            "max_time_left_alone": leave.max_time_left_alone or leave.everyone_left_timeout,
            "max_bot_time": leave.max_bot_time,
            "no_one_joined_timeout": leave.no_one_joined_timeout,
        }
        timeouts.update({k: v for k, v in aliases.items() if v is not None})
    return timeouts


@route(
    "POST",
    "/bots",
    scopes=BOT,
    body=MeetingCreate,
    responses={"201": "MeetingResponse", "202": "MeetingResponse"},
    errors=(400, 401, 403, 409, 422),
)
def create_bot(call: Call) -> Response:
    """Send a bot to a meeting."""
    body: MeetingCreate = call.body
    platform, native = body.platform, body.native_meeting_id
    if platform is None or native is None:  # agent / browser-session bots
        platform = Platform.BROWSER_SESSION
        native = native or f"session-{call.model.random('sessions').getrandbits(40):010x}"
    url = body.meeting_url or construct_meeting_url(
        platform, native.strip(), body.passcode, body.teams_base_host
    )
    if url is None:
        raise CannotConstructUrl()
    rng = call.model.random("bot-names")
    data: dict[str, Any] = {
        "bot_name": body.bot_name or f"VexaBot-{rng.getrandbits(24):06x}",
        "transcribe_enabled": True if body.transcribe_enabled is None else body.transcribe_enabled,
        "recording_enabled": recording_enabled_default(call.caller)
        if body.recording_enabled is None
        else body.recording_enabled,
        "transcription_tier": body.transcription_tier,
        "resolved_timeouts": _resolved_timeouts(body),
    }
    optional = {
        "passcode": body.passcode,
        "meeting_url": body.meeting_url,
        "language": body.language,
        "task": body.task,
    }
    data.update({key: value for key, value in optional.items() if value})
    meeting = call.model.create_bot(
        call.caller, platform.value, native.strip(), url, data=data, language=body.language or None
    )
    return _ok(views.meeting_response(meeting, call.profile), call.profile.create_bot_status)


@route(
    "GET",
    "/bots",
    scopes=BOT,
    query=(
        QueryInt("limit", ge=1, le=100, default=50),
        QueryInt("offset", ge=0, default=0),
        QueryStr("status"),
        QueryStr("platform"),
    ),
    responses={"200": "BotListResponse"},
    errors=(401, 403, 422),
)
def list_bots(call: Call) -> Response:
    """List the user's meetings (bots), newest first, with a has_more flag."""
    rows = _filtered(call)
    limit, offset = call.query["limit"], call.query["offset"]
    page = rows[offset : offset + limit]
    return _ok(
        {
            "meetings": [views.slim_meeting(m, call.profile) for m in page],
            "has_more": offset + limit < len(rows),
        }
    )


@route("GET", "/bots/status", scopes=BOT, responses={"200": "BotStatusResponse"}, errors=(401, 403))
def bot_status(call: Call) -> Response:
    """The user's running bot containers."""
    running = call.model.running(call.caller.id)
    now = call.model.clock.now()
    running.sort(key=lambda m: m.id)
    return _ok({"running_bots": [views.bot_status(m, call.profile, now) for m in running]})


def _owned(call: Call) -> Meeting:
    meeting = call.model.owned(call.caller.id, call.params["meeting_id"])
    if meeting is None:
        raise VexaError(404, "Meeting not found")
    return meeting


@route(
    "GET",
    "/bots/id/{meeting_id:int}",
    scopes=BOT,
    responses={"200": "BotMeeting"},
    errors=(401, 403, 404, 422),
)
def bot_by_id(call: Call) -> Response:
    """One meeting by its internal id."""
    call.model.now()
    return _ok(views.bot_meeting(_owned(call), call.profile))


@route(
    "DELETE", "/bots" + _KEY, scopes=BOT, responses={"202": "Message"}, errors=(401, 403, 404, 422)
)
def stop_bot(call: Call) -> Response:
    """Stop the bot in a meeting."""
    message = call.model.stop_bot(
        call.caller, call.params["platform"].value, call.params["native_meeting_id"]
    )
    return _ok({"message": message}, 202)


@route(
    "PUT",
    "/bots" + _KEY + "/config",
    scopes=BOT,
    body=BotConfigUpdate,
    responses={"202": "Message"},
    errors=(400, 401, 403, 404, 409, 422),
)
def configure_bot(call: Call) -> Response:
    """Change an active bot's language or task."""
    body: BotConfigUpdate = call.body
    call.model.reconfigure(
        call.caller,
        call.params["platform"].value,
        call.params["native_meeting_id"],
        body.language or None,
        body.task or None,
    )
    return _ok({"message": "Reconfiguration request accepted and sent to the bot."}, 202)


# ---------------------------------------------------------------------------- meetings


def _filtered(call: Call) -> list[Meeting]:
    call.model.now()
    status, platform = call.query.get("status"), call.query.get("platform")
    rows = [
        m
        for m in call.model.meetings_of(call.caller.id)
        if (status is None or m.status.value == status)
        and (platform is None or m.platform == platform)
    ]
    rows.sort(key=lambda m: (m.created_at, m.id), reverse=True)
    return rows


@route(
    "GET",
    "/meetings",
    scopes=TX,
    query=(
        QueryInt("limit", ge=1, le=100),
        QueryInt("offset", ge=0, default=0),
        QueryStr("status"),
        QueryStr("platform"),
    ),
    responses={"200": "MeetingListResponse"},
    errors=(401, 403, 422),
)
def list_meetings(call: Call) -> Response:
    """The user's meetings, newest first (all of them unless a limit is given)."""
    rows = _filtered(call)
    offset, limit = call.query["offset"], call.query["limit"]
    rows = rows[offset:] if limit is None else rows[offset : offset + limit]
    return _ok({"meetings": [views.meeting_response(m, call.profile) for m in rows]})


@route(
    "GET",
    "/meetings/{meeting_id:int}",
    scopes=TX,
    responses={"200": "MeetingResponse"},
    errors=(401, 403, 404, 422),
)
def meeting_by_id(call: Call) -> Response:
    """One meeting by its internal id."""
    call.model.now()
    return _ok(views.meeting_response(_owned(call), call.profile))


@route(
    "PATCH",
    "/meetings" + _KEY,
    scopes=TX,
    body=MeetingUpdate,
    responses={"200": "MeetingResponse"},
    errors=(400, 401, 403, 404, 422),
)
def update_meeting(call: Call) -> Response:
    """Merge user-editable fields (name, participants, languages, notes) into meeting data."""
    body: MeetingUpdate = call.body
    changes = body.data.model_dump(exclude_none=True)
    meeting = call.model.update_meeting_data(
        call.caller, call.params["platform"].value, call.params["native_meeting_id"], changes
    )
    return _ok(views.meeting_response(meeting, call.profile))


@route(
    "DELETE",
    "/meetings" + _KEY,
    scopes=TX,
    responses={"200": "Message"},
    errors=(401, 403, 404, 409, 422),
)
def delete_meeting(call: Call) -> Response:
    """Delete a finished meeting's transcript and anonymise its data."""
    message = call.model.delete_meeting(
        call.caller, call.params["platform"].value, call.params["native_meeting_id"]
    )
    return _ok({"message": message})


# ---------------------------------------------------------------------------- transcripts


@route(
    "GET",
    "/transcripts" + _KEY,
    scopes=TX,
    query=(QueryInt("meeting_id"),),
    responses={"200": "TranscriptionResponse"},
    errors=(401, 403, 404, 422),
)
def get_transcript(call: Call) -> Response:
    """A meeting's transcript (newest meeting for the key, or the given meeting_id)."""
    platform = call.params["platform"].value
    native = call.params["native_meeting_id"]
    wanted = call.query["meeting_id"]
    call.model.now()
    if wanted is None:
        meeting = call.model.newest(call.caller.id, platform, native)
        missing = f"Meeting not found for platform {platform} and ID {native}"
    else:
        candidate = call.model.owned(call.caller.id, wanted)
        ok = candidate is not None and candidate.platform == platform
        meeting = candidate if ok and candidate and candidate.native_meeting_id == native else None
        missing = f"Meeting not found for platform {platform}, ID {native}, and meeting_id {wanted}"
    if meeting is None:
        raise VexaError(404, missing)
    segments, draft = call.model.segments(meeting)
    return _ok(views.transcript_response(meeting, segments, draft, call.profile))


# ---------------------------------------------------------------------------- user settings


@route(
    "PUT",
    "/user/webhook",
    scopes=USER,
    body=WebhookUpdate,
    responses={"200": "UserResponse"},
    errors=(401, 403, 422),
)
def set_webhook(call: Call) -> Response:
    """Set the URL (and optional secret and event filter) Vexa posts webhooks to."""
    body: WebhookUpdate = call.body
    given = body.model_fields_set
    user = call.model.set_webhook(
        call.caller,
        str(body.webhook_url),
        body.webhook_secret,
        "webhook_secret" in given,
        body.webhook_events,
        "webhook_events" in given,
    )
    return _ok(views.user_response(user, call.profile))
