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
from harness.web.endpoints import Call, Endpoint, Handler, registrar
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = ["CONTROL_ROUTER"]

CONTROL_ROUTER: Router[Endpoint] = Router()
PREFIX = "/_harness"


_control = registrar(CONTROL_ROUTER, PREFIX, auth="none")


def control(
    method: str, path: str, body: type[BaseModel] | None = None
) -> Callable[[Handler], Handler]:
    decorate: Callable[[Handler], Handler] = _control(method, path, body=body)
    return decorate


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

    #: Up to ten years at a time: enough for any retry horizon, short of datetime's year 9999.
    seconds: float = Field(ge=0, le=315_360_000)


class LifecycleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    join_delay: float | None = Field(default=None, ge=0)
    lobby_delay: float | None = Field(default=None, ge=0)
    admission_delay: float | None = Field(default=None, ge=0)
    auto_admit: bool | None = None
    stop_delay: float | None = Field(default=None, ge=0)
    fail_at: Literal["requested", "joining", "awaiting_admission", "active"] | None = None
    active_fail_delay: float | None = Field(default=None, ge=0)


CompletionReason = Literal[
    "stopped",
    "validation_error",
    "awaiting_admission_timeout",
    "awaiting_admission_rejected",
    "left_alone",
    "evicted",
    "max_bot_time_exceeded",
    "stopped_before_admission",
    "stopped_with_no_audio",
    "join_failure",
    "auth_session_missing",
    "startup_alone",
]


class MeetingAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: One of api.v1's ``MeetingCompletionReason`` values, so answers stay in the contract.
    reason: CompletionReason | None = None
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
    # null means "keep the current value", except for fail_at, where null means "never fail".
    changes = {
        name: value
        for name, value in body.model_dump(exclude_unset=True).items()
        if value is not None or name == "fail_at"
    }
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


# ---------------------------------------------------------------------------- faults and journal
#
# The control API needs the fake's fault engine and journal, which live on FakeVexa; the app
# finds them through ``app.extra["fake"]`` (set by FakeVexa) so the routes stay declarative.


def _fake(call: Call) -> Any:
    fake = call.model.extra.get("fake")
    if fake is None:
        raise VexaError(501, "fault control needs a FakeVexa; this app has none")
    return fake


@control("GET", "/faults")
def list_faults(call: Call) -> Response:
    """The running fault plan, as JSON."""
    return _ok(_fake(call).fault_engine.plan.to_json())


@control("PUT", "/faults")
def replace_faults(call: Call) -> Response:
    """Replace the whole fault plan (counters restart); a bad plan changes nothing."""
    fake = _fake(call)
    plan = _parse_plan(call.request.body)
    fake.install_faults(plan)
    return _ok(plan.to_json())


@control("POST", "/faults/rules")
def add_fault_rule(call: Call) -> Response:
    """Append one rule (``{"match", "on", "phase", "fault"}``) to the running plan."""
    fake = _fake(call)
    try:
        import json

        rule = json.loads(call.request.body or b"null")
    except ValueError:
        rule = None
    if not isinstance(rule, dict):
        raise VexaError(400, 'send one rule as a JSON object: {"match": ..., "fault": ...}')
    current = fake.fault_engine.plan.to_json()
    plan = _parse_plan({**current, "rules": [*current.get("rules", []), rule]})
    fake.faults.add(plan.rules[-1])
    return _ok(fake.fault_engine.plan.to_json(), 201)


@control("DELETE", "/faults")
def clear_faults(call: Call) -> Response:
    """Remove every fault rule and the rate limit."""
    _fake(call).clear_faults()
    return json_response(204, None)


@control("GET", "/journal")
def read_journal(call: Call) -> Response:
    """Every event so far: requests, faults, commits, answers and cuts."""
    fake = _fake(call)
    return Response(200, (("content-type", "application/json"),), fake.journal.dumps().encode())


def _parse_plan(raw: bytes | dict[str, Any]) -> Any:
    from harness.faults.plan import FaultPlan, InvalidPlan

    try:
        return FaultPlan.from_json(raw)
    except InvalidPlan as exc:
        problems = [{"field": where, "problem": message} for where, message in exc.problems]
        raise VexaError(422, problems, extra={"message": str(exc)}) from None
