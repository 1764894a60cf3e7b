"""The control API under ``/_harness/``: program a running fake from any language.

The WireMock ``/__admin`` idea: create users and keys, move virtual time, drive a meeting's
lifecycle, reset state. Malformed programs get a 400/422 that says what is wrong and what to
do, and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness._clock import VirtualClock
from harness.vexa import views
from harness.vexa.exceptions import VexaError
from harness.vexa.lifecycle import FAILURE_STAGES, Lifecycle
from harness.vexa.model import Meeting
from harness.web.endpoints import Call, Endpoint, Handler
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = ["CONTROL_ROUTER"]

CONTROL_ROUTER: Router[Endpoint] = Router()
PREFIX = "/_harness"


def control(
    method: str, path: str, body: type[BaseModel] | None = None
) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        summary = (handler.__doc__ or "").strip().splitlines()[0]
        endpoint = Endpoint(handler=handler, summary=summary, auth="none", body=body)
        CONTROL_ROUTER.add(method, PREFIX + path)(endpoint)
        return handler

    return register


Scope = Literal["bot", "tx", "browser"]


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = None
    name: str | None = None
    max_concurrent_bots: int = 10
    scopes: tuple[Scope, ...] = ("bot", "tx", "browser")
    api_key: str | None = Field(default=None, min_length=8, max_length=200)


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0)


class LifecycleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    join_delay: float | None = Field(default=None, ge=0)
    lobby_delay: float | None = Field(default=None, ge=0)
    admission_delay: float | None = Field(default=None, ge=0)
    auto_admit: bool | None = None
    stop_delay: float | None = Field(default=None, ge=0)
    fail_at: Literal["requested", "joining", "awaiting_admission", "active"] | None = None
    active_fail_delay: float | None = Field(default=None, ge=0)


class MeetingAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = None
    stage: Literal["requested", "joining", "awaiting_admission", "active"] | None = None


def _ok(payload: Any, status: int = 200) -> Response:
    return json_response(status, payload)


@control("GET", "/health")
def health(call: Call) -> Response:
    """Liveness, profile and seed of this fake."""
    model = call.model
    clock = "virtual" if isinstance(model.clock, VirtualClock) else "system"
    return _ok({"status": "ok", "profile": model.profile.name, "seed": model.seed, "clock": clock})


@control("POST", "/users", body=NewUser)
def create_user(call: Call) -> Response:
    """Create a user and one API key (all scopes unless told otherwise)."""
    body: NewUser = call.body
    model = call.model
    if body.api_key is not None and body.api_key in model.keys:
        raise VexaError(409, f"API key {body.api_key!r} already exists; choose another or omit it")
    user = model.create_user(
        body.email, name=body.name, max_concurrent_bots=body.max_concurrent_bots
    )
    key = model.create_key(user.id, body.scopes, token=body.api_key)
    return _ok({"user": views.user_response(user, model.profile), "api_key": key.token}, 201)


@control("POST", "/clock/advance", body=Advance)
def advance_clock(call: Call) -> Response:
    """Move virtual time forward (only for a fake on a virtual clock)."""
    clock = call.model.clock
    if not isinstance(clock, VirtualClock):
        raise VexaError(
            409, "this fake runs on the system clock; start it with a virtual clock to advance time"
        )
    now = clock.advance(call.body.seconds)
    call.model.advance(now)
    return _ok({"now": now})


@control("GET", "/clock")
def read_clock(call: Call) -> Response:
    """The harness clock, in seconds since the epoch."""
    return _ok({"now": call.model.now()})


@control("PUT", "/lifecycle", body=LifecycleUpdate)
def set_lifecycle(call: Call) -> Response:
    """Change timings and behaviour for bots sent from now on."""
    body: LifecycleUpdate = call.body
    current = call.model.lifecycle
    changes = body.model_dump(exclude_unset=True)
    values = {
        name: changes.get(name, getattr(current, name)) for name in Lifecycle.__dataclass_fields__
    }
    call.model.lifecycle = Lifecycle(**values)
    return _ok(values)


@control("GET", "/meetings")
def all_meetings(call: Call) -> Response:
    """Every meeting of every user, oldest first (for inspection)."""
    model = call.model
    model.now()
    return _ok(
        {"meetings": [views.meeting_response(m, model.profile) for m in model.meetings.values()]}
    )


def _meeting(call: Call) -> Meeting:
    meeting = call.model.meetings.get(call.params["meeting_id"])
    if meeting is None:
        raise VexaError(
            404,
            f"No meeting with id {call.params['meeting_id']}; list them at GET /_harness/meetings",
        )
    return meeting


def _lifecycle_action(name: str) -> None:
    def act(call: Call) -> Response:
        meeting = _meeting(call)
        body: MeetingAction = call.body
        model = call.model
        if name == "admit":
            model.admit(meeting)
        elif name == "reject":
            model.reject(meeting)
        elif name == "evict":
            model.evict(meeting)
        elif name == "end":
            model.end(meeting, body.reason or "left_alone")
        else:
            model.fail(meeting, body.reason, body.stage)
        return _ok(views.meeting_response(meeting, model.profile))

    act.__doc__ = (
        f"{name.capitalize()} a meeting's bot now ({', '.join(FAILURE_STAGES)} stages apply)."
    )
    control("POST", "/meetings/{meeting_id:int}/" + name, body=MeetingAction)(act)


for _action in ("admit", "reject", "end", "evict", "fail"):
    _lifecycle_action(_action)
