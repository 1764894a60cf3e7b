"""Control routes for the fake's webhooks: look at deliveries, trigger events, replay them.

``GET /_harness/webhooks`` lists every delivery and where it stands; ``POST
/_harness/webhooks/trigger`` sends one event for a meeting now (the filter does not apply);
``POST /_harness/webhooks/replay`` delivers an emitted event again (same ``event_id`` and body,
fresh timestamp and signature), optionally forged, so a receiver in any language can be tested
for duplicates and forgeries over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.errors import ConfigurationError
from harness.vexa.exceptions import VexaError
from harness.web.endpoints import Call, Endpoint, Handler
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = ["WEBHOOK_ROUTER"]

WEBHOOK_ROUTER: Router[Endpoint] = Router()
PREFIX = "/_harness/webhooks"

EventType = Literal[
    "meeting.started",
    "meeting.status_change",
    "meeting.completed",
    "bot.failed",
    "recording.completed",
]
ForgeKind = Literal["unsigned", "wrong_secret", "stale", "future", "tampered"]


def _control(
    method: str, path: str, body: type[BaseModel] | None = None, errors: tuple[int, ...] = ()
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        summary = (handler.__doc__ or "").strip().splitlines()[0]
        endpoint = Endpoint(handler=handler, summary=summary, auth="none", body=body, errors=errors)
        WEBHOOK_ROUTER.add(method, PREFIX + path)(endpoint)
        return handler

    return register


class Replay(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_id: str = Field(min_length=1, max_length=100)
    #: Forge the copies this way (None: honest duplicates).
    forge: ForgeKind | None = None
    copies: int = Field(default=1, ge=1, le=10)


class Trigger(BaseModel):
    model_config = ConfigDict(extra="forbid")

    meeting_id: int = Field(ge=1, le=2**31 - 1)
    event_type: EventType


def _sender(call: Call) -> Any:
    sender = call.model.extra.get("webhooks")
    if sender is None:
        raise VexaError(501, "webhook control needs a FakeVexa; this app has none")
    return sender


@_control("GET", "")
def list_deliveries(call: Call) -> Response:
    """Every webhook delivery so far, with its state, attempts and last outcome."""
    sender = _sender(call)
    records = sender.deliveries()
    return json_response(
        200,
        {
            "deliveries": [asdict(record) for record in records],
            "problems": [r.describe() for r in records if r.state not in ("delivered", "pending")],
        },
    )


@_control("POST", "/trigger", body=Trigger, errors=(404, 409))
def trigger(call: Call) -> Response:
    """Send one webhook event for a meeting now, as the meeting stands."""
    body: Trigger = call.body
    if body.meeting_id not in call.model.meetings:
        raise VexaError(
            404, f"No meeting with id {body.meeting_id}; list them at GET /_harness/meetings"
        )
    try:
        emission = _sender(call).trigger(body.meeting_id, body.event_type)
    except ConfigurationError as exc:
        raise VexaError(409, str(exc)) from None
    return json_response(
        202,
        {
            "event_id": emission.event_id,
            "event_type": emission.event_type,
            "meeting_id": emission.meeting_id,
            "url": emission.url,
            "envelope": emission.envelope,
        },
    )


@_control("POST", "/replay", body=Replay, errors=(404,))
def replay(call: Call) -> Response:
    """Deliver an emitted event again now (a duplicate), optionally forged."""
    body: Replay = call.body
    try:
        records = _sender(call).replay(body.event_id, forgery=body.forge, copies=body.copies)
    except ConfigurationError as exc:
        raise VexaError(404, str(exc)) from None
    return json_response(202, {"replayed": [asdict(record) for record in records]})
