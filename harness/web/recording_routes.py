"""``/recordings`` and ``/recording-config`` (v0.10 meeting-api, behind the gateway).

The gateway applies no scope check to these paths, so any valid key reads its own user's
recordings; another user's recording is the same 404 as a missing one. Media bytes are served
with byte ranges (``Range: bytes=a-b``, ``a-``, ``-n``; 206 with ``Content-Range``), computed
on demand from :class:`~harness.vexa.media.WavAudio`, never held in memory whole.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from harness.vexa.exceptions import VexaError
from harness.vexa.media import RangeNotSatisfiable, parse_range
from harness.vexa.recordings import (
    CONTENT_TYPES,
    media_link,
    recording_config,
    recording_view,
    set_recording_config,
)
from harness.web.endpoints import Call, Endpoint, QueryInt, QueryStr, registrar
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = ["RECORDING_ROUTER", "RecordingConfigUpdate"]

RECORDING_ROUTER: Router[Endpoint] = Router()

_RECORDING = "/recordings/{recording_id:int}"
_MEDIA = _RECORDING + "/media/{media_file_id:int}"
#: ``type`` of ``/master``: FastAPI's ``Query(..., regex=...)``.
_MASTER_TYPE = "^(audio|video)$"


class RecordingConfigUpdate(BaseModel):
    """``PUT /recording-config``: either field may be left out (it keeps its value)."""

    model_config = ConfigDict(extra="ignore")

    enabled: bool | None = None
    capture_modes: list[Literal["audio", "video"]] | None = None


route = registrar(RECORDING_ROUTER)


# ---------------------------------------------------------------------------- recordings


@route(
    "GET",
    "/recordings",
    query=(
        QueryInt("limit", ge=1, le=200, default=50),
        QueryInt("offset", ge=0, default=0),
        QueryInt("meeting_id"),
    ),
    responses={"200": "RecordingListResponse"},
    errors=(401, 422),
)
def list_recordings(call: Call) -> Response:
    """The user's recordings, newest first."""
    records = call.model.recordings.of_user(call.caller.id, call.query["meeting_id"])
    offset, limit = call.query["offset"], call.query["limit"]
    page = records[offset : offset + limit]
    return json_response(200, {"recordings": [recording_view(r) for r in page]})


@route("GET", _RECORDING, responses={"200": "Recording"}, errors=(401, 404, 422))
def get_recording(call: Call) -> Response:
    """One recording with its media files."""
    _, record = call.model.recordings.find(call.caller.id, call.params["recording_id"])
    return json_response(200, recording_view(record))


@route(
    "DELETE",
    _RECORDING,
    responses={"200": "RecordingDeleted", "204": None},
    errors=(401, 404, 422),
)
def delete_recording(call: Call) -> Response:
    """Delete a recording and its media files."""
    recording_id = call.params["recording_id"]
    if not call.model.recordings.delete(call.caller.id, recording_id):
        return Response(204)  # the docs profile: deleting it again is fine
    return json_response(200, {"status": "deleted", "recording_id": recording_id})


def _master_type(call: Call) -> str:
    """``type`` is required and must match ``^(audio|video)$`` (FastAPI's 422 items)."""
    raw = call.request.query_param("type")
    if raw is None:
        item: dict[str, Any] = {
            "type": "missing",
            "loc": ["query", "type"],
            "msg": "Field required",
            "input": None,
        }
        raise VexaError(422, [item])
    if not re.match(_MASTER_TYPE, raw):
        item = {
            "type": "string_pattern_mismatch",
            "loc": ["query", "type"],
            "msg": f"String should match pattern '{_MASTER_TYPE}'",
            "input": raw,
            "ctx": {"pattern": _MASTER_TYPE},
        }
        raise VexaError(422, [item])
    return raw


@route(
    "GET",
    _RECORDING + "/master",
    query=(QueryStr("type", description="Media type: audio | video (required)"),),
    responses={"200": "RecordingMasterLink"},
    errors=(401, 404, 422),
)
def master(call: Call) -> Response:
    """Where to fetch the recording's finalised master file of one type."""
    kind = _master_type(call)
    record, media = call.model.recordings.master(call.caller.id, call.params["recording_id"], kind)
    body = media_link(record, media)
    body["media_file_id"] = media["id"]
    body["raw_url"] = f"/recordings/{record['id']}/media/{media['id']}/raw"
    body["duration_seconds"] = media.get("duration_seconds")
    return json_response(200, body)


@route(
    "GET",
    _MEDIA + "/download",
    responses={"200": "RecordingMediaLink"},
    errors=(401, 404, 422),
)
def download(call: Call) -> Response:
    """Where to fetch one media file (the local backend answers with its /raw path)."""
    record, media = call.model.recordings.media(
        call.caller.id, call.params["recording_id"], call.params["media_file_id"]
    )
    return json_response(200, media_link(record, media))


@route(
    "GET",
    _MEDIA + "/raw",
    responses={"200": None, "206": None},
    errors=(401, 404, 416, 422),
)
def raw(call: Call) -> Response:
    """The media file's bytes, whole or one byte range."""
    record, media = call.model.recordings.media(
        call.caller.id, call.params["recording_id"], call.params["media_file_id"]
    )
    audio = call.model.recordings.audio(media)
    fmt = str(media.get("format", "bin")).lower()
    headers = (
        ("content-type", CONTENT_TYPES.get(fmt, "application/octet-stream")),
        ("content-disposition", f'inline; filename="{record["id"]}_{media["type"]}.{fmt}"'),
        ("accept-ranges", "bytes"),
    )
    try:
        wanted = parse_range(call.request.headers.get("range"), audio.size)
    except RangeNotSatisfiable as exc:
        return json_response(
            416,
            {"detail": "Requested range not satisfiable"},
            (("accept-ranges", "bytes"), ("content-range", f"bytes */{exc.total}")),
        )
    if wanted is None:
        return Response(200, headers, audio.read())
    # Content-Length is framed by every transport from the body itself.
    return Response(
        206,
        (*headers, ("content-range", wanted.content_range)),
        audio.read(wanted.first, wanted.last + 1),
    )


# ---------------------------------------------------------------------------- configuration


@route("GET", "/recording-config", responses={"200": "RecordingConfig"}, errors=(401,))
def get_recording_config(call: Call) -> Response:
    """The user's default recording configuration."""
    return json_response(200, recording_config(call.caller))


@route(
    "PUT",
    "/recording-config",
    body=RecordingConfigUpdate,
    responses={"200": "RecordingConfig"},
    errors=(401, 422),
)
def put_recording_config(call: Call) -> Response:
    """Change the user's default recording configuration (enabled, capture modes)."""
    body: RecordingConfigUpdate = call.body
    call.model.now()
    config = set_recording_config(call.caller, body.enabled, body.capture_modes)
    return json_response(200, config)
