"""Transcript share links: mint one (``POST …/share``) and read it without a key (``.txt``).

Both halves go through ``GET /transcripts/{platform}/{id}`` itself, as Vexa's gateway calls the
transcript service: minting checks that the transcript exists (an error is passed through with
the service's raw JSON as ``detail``, as the gateway does), and every read fetches it afresh
with the creator's key, so the text follows the meeting and a revoked key breaks the link.
"""

from __future__ import annotations

from harness.vexa.exceptions import VexaError
from harness.vexa.model import ApiKey, User
from harness.vexa.platforms import Platform
from harness.vexa.shares import clamp_ttl, transcript_text
from harness.web.endpoints import Call, Endpoint, QueryInt, registrar
from harness.web.messages import Request, Response, json_response
from harness.web.router import Router
from harness.web.vexa_routes import TX, get_transcript

__all__ = ["SHARE_ROUTER"]

SHARE_ROUTER: Router[Endpoint] = Router(enums={"platform": Platform})

_TEXT_HEADERS = (
    ("content-type", "text/plain; charset=utf-8"),
    ("cache-control", "no-store, no-cache, must-revalidate"),
    ("x-robots-tag", "noindex, nofollow, noarchive"),
)


route = registrar(SHARE_ROUTER)


def base_url(request: Request) -> str:
    """The gateway's ``_best_base_url``: forwarded proto/host first, then ``Host``."""
    proto = request.headers.get("x-forwarded-proto") or "http"
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or "localhost"
    return f"{proto}://{host}".rstrip("/")


def _fetch_transcript(
    call: Call, user: User, key: ApiKey, platform: str, native: str, meeting_id: int | None
) -> Response:
    """``GET /transcripts/{platform}/{native}[?meeting_id=]`` as ``user``, errors included."""
    inner = Call(
        request=call.request,
        model=call.model,
        params={"platform": Platform(platform), "native_meeting_id": native},
        query={"meeting_id": meeting_id},
        user=user,
        key=key,
    )
    try:
        return get_transcript(inner)
    except VexaError as exc:
        return json_response(exc.status, exc.payload(), exc.headers)


@route(
    "POST",
    "/transcripts/{platform:platform}/{native_meeting_id}/share",
    scopes=TX,
    query=(
        QueryInt("meeting_id", description="A specific meeting of this platform and id."),
        QueryInt("ttl_seconds", description="Link lifetime: default 900, clamped to 60-86400."),
    ),
    responses={"200": "TranscriptShareResponse"},
    errors=(401, 403, 404, 422),
)
def create_share(call: Call) -> Response:
    """Mint a short-lived public URL for a transcript (no key needed to read it)."""
    assert call.key is not None
    platform = call.params["platform"].value
    native = call.params["native_meeting_id"]
    meeting_id = call.query["meeting_id"]
    ttl = clamp_ttl(call.query["ttl_seconds"])
    answer = _fetch_transcript(call, call.caller, call.key, platform, native, meeting_id)
    if answer.status != 200:
        raise VexaError(answer.status, answer.body.decode())
    link = call.model.shares.create(
        call.key.token, platform, native, meeting_id, call.model.now() + ttl
    )
    return json_response(
        200,
        {
            "share_id": link.share_id,
            "url": f"{base_url(call.request)}/public/transcripts/{link.share_id}.txt",
            "expires_at": link.expires_stamp,
            "expires_in_seconds": ttl,
        },
    )


@route(
    "GET",
    "/public/transcripts/{share_id}.txt",
    auth="none",
    responses={"200": None},
    errors=(401, 404),
)
def read_share(call: Call) -> Response:
    """The shared transcript as plain text, fetched afresh on every read."""
    link = call.model.shares.get(call.params["share_id"], call.model.now())
    if link is None:
        raise VexaError(404, "Share link expired or not found")
    try:
        user, key = call.model.authenticate(link.token)
    except VexaError as exc:
        answer = json_response(exc.status, exc.payload())
    else:
        answer = _fetch_transcript(
            call, user, key, link.platform, link.native_meeting_id, link.meeting_id
        )
    if answer.status != 200:
        raise VexaError(answer.status, f"Failed to fetch transcript: {answer.body.decode()}")
    return Response(200, _TEXT_HEADERS, transcript_text(answer.json()).encode())
