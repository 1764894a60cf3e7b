"""Every route of the fake, walked through one realistic session, against Vexa's api.v1 contract.

Each success body is validated against the api.v1 component that describes it (``date-time``
format checked), or, for the answers api.v1 leaves untyped, against the exact key set that
``reference/vexa-api.md`` documents. The golden examples' skeletons must be reproduced, and the
walk must have touched every route the fake serves, so a route added without coverage fails here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from contract_schemas import (
    allows_null,
    component,
    errors_of,
    golden,
    golden_names,
    is_naive_iso,
    is_rfc3339,
    openapi,
    shape,
    shape_mismatches,
    validator,
)

from harness.fake import Account, FakeVexa
from harness.web.router import Match
from harness.web.vexa_routes import ROUTER

PROFILES = ("docs", "v0.10")
Route = tuple[str, str]  # (method, OpenAPI path template)

#: (platform, native_meeting_id, passcode) of the session's three meetings.
MEETINGS = (
    ("google_meet", "abc-defg-hij", None),
    ("teams", "1234567890123", "abcd1234"),
    ("zoom", "12345678901", None),
)
CONSTRUCTED_URL = {
    "google_meet": "https://meet.google.com/abc-defg-hij",
    "teams": "https://teams.live.com/meet/1234567890123?p=abcd1234",
    "zoom": "https://zoom.us/j/12345678901",
}
WEBHOOK_URL = "https://hooks.example.com/vexa"

#: vexa-api.md §4.2: a v0.10 ``GET /bots`` slim row and its summary ``data``.
SLIM_ROW_KEYS = {
    "id",
    "platform",
    "native_meeting_id",
    "status",
    "bot_container_id",
    "start_time",
    "end_time",
    "created_at",
    "updated_at",
    "data",
}
SLIM_DATA_KEYS = {
    "name",
    "completion_reason",
    "participants",
    "participants_count",
    "notes_preview",
    "languages",
    "last_transition",
    "has_recording",
}
#: vexa-api.md §4.9: admin-api ``UserResponse``.
USER_RESPONSE_KEYS = {
    "id",
    "email",
    "name",
    "image_url",
    "max_concurrent_bots",
    "data",
    "created_at",
}
#: vexa-api.md §4.9: ``GET /auth/me``.
AUTH_ME_KEYS = {"user_id", "email", "scopes", "max_concurrent"}
#: vexa-api.md §8: TranscriptionResponse, plus v0.10's ``recordings``, ``notes`` and ``data``.
TRANSCRIPT_KEYS = {
    "id",
    "platform",
    "native_meeting_id",
    "constructed_meeting_url",
    "status",
    "start_time",
    "end_time",
    "segments",
    "recordings",
    "notes",
    "data",
}
#: vexa-api.md §8: TranscriptionSegment keys (v0.10 adds ``completed`` and ``segment_id``).
SEGMENT_KEYS = {
    "start",
    "end",
    "text",
    "language",
    "created_at",
    "speaker",
    "absolute_start_time",
    "absolute_end_time",
    "completed",
    "segment_id",
}
#: Routes whose api.v1 success schema the v0.10 *code* does not follow, per vexa-api.md.
#: DELETE /bots: api.v1 declares 200 MeetingResponse; v0.10 answers 202 {"message"} (§4.3).
CODE_OVER_SCHEMA: set[Route] = {("DELETE", "/bots/{platform}/{native_meeting_id}")}


# ---------------------------------------------------------------------------- contracts


def _fail(problems: list[str], what: str, body: Any) -> None:
    assert not problems, f"{what}:\n  " + "\n  ".join(problems) + f"\nbody: {body!r}"


Check = Callable[[Any, bool], None]


@dataclass(frozen=True)
class Contract:
    """How a route's success body is checked; ``component`` when api.v1 types it."""

    check: Check
    component: str | None = None


def schema(name: str) -> Contract:
    """The body must validate against api.v1 component ``name``."""

    def check(body: Any, zoned: bool) -> None:
        _fail(errors_of(name, body, zoned=zoned), f"not a valid {name}", body)

    return Contract(check, name)


def _exact_keys(body: Any, keys: set[str], what: str) -> None:
    assert isinstance(body, dict), f"{what}: expected an object, got {body!r}"
    assert set(body) == keys, (
        f"{what}: keys differ from vexa-api.md: missing {sorted(keys - set(body))}, "
        f"unexpected {sorted(set(body) - keys)}"
    )


def _timestamp(value: Any, zoned: bool) -> bool:
    return isinstance(value, str) and (is_rfc3339(value) or (not zoned and is_naive_iso(value)))


def message(body: Any, zoned: bool) -> None:
    _exact_keys(body, {"message"}, "{message}")
    assert isinstance(body["message"], str)
    assert body["message"]


def auth_me(body: Any, zoned: bool) -> None:
    _exact_keys(body, AUTH_ME_KEYS, "GET /auth/me")
    assert isinstance(body["user_id"], int)
    assert not isinstance(body["user_id"], bool)
    assert isinstance(body["email"], str)
    assert isinstance(body["scopes"], list)
    assert set(body["scopes"]) <= {"bot", "tx", "browser"}
    assert isinstance(body["max_concurrent"], int)


def _meeting_without(body: Any, zoned: bool, dropped: set[str], what: str) -> None:
    """A meeting row that lacks some MeetingResponse keys: check it with them put back."""
    assert isinstance(body, dict), f"{what}: expected an object, got {body!r}"
    restored = {**body, "user_id": 1}
    if "constructed_meeting_url" in dropped:
        restored["constructed_meeting_url"] = None
    _fail(errors_of("MeetingResponse", restored, zoned=zoned), what, body)


def bot_list(body: Any, zoned: bool) -> None:
    _exact_keys(body, {"meetings", "has_more"}, "GET /bots")
    assert isinstance(body["has_more"], bool)
    assert isinstance(body["meetings"], list)
    for row in body["meetings"]:
        _exact_keys(row, SLIM_ROW_KEYS, "GET /bots row")
        _exact_keys(row["data"], SLIM_DATA_KEYS, "GET /bots row data")
        _meeting_without(row, zoned, {"user_id", "constructed_meeting_url"}, "GET /bots row")
        data = row["data"]
        assert isinstance(data["participants"], list)
        assert len(data["participants"]) <= 3
        assert isinstance(data["participants_count"], int)
        assert isinstance(data["has_recording"], bool)


def bot_meeting(body: Any, zoned: bool) -> None:
    keys = set(component("MeetingResponse")["properties"]) - {"user_id", "constructed_meeting_url"}
    _exact_keys(body, keys, "GET /bots/id/{meeting_id}")
    _meeting_without(body, zoned, {"user_id", "constructed_meeting_url"}, "GET /bots/id")


def user_response(body: Any, zoned: bool) -> None:
    _exact_keys(body, USER_RESPONSE_KEYS, "PUT /user/webhook")
    assert isinstance(body["id"], int)
    assert isinstance(body["email"], str)
    assert isinstance(body["max_concurrent_bots"], int)
    assert isinstance(body["data"], dict)
    assert "webhook_secret" not in body["data"], "the webhook secret must never be returned"
    assert _timestamp(body["created_at"], zoned), body["created_at"]


def transcript(body: Any, zoned: bool) -> None:
    schema("TranscriptionResponse").check(body, zoned)
    _exact_keys(body, TRANSCRIPT_KEYS, "GET /transcripts")
    for segment in body["segments"]:
        schema("TranscriptionSegment").check(segment, zoned)
        _exact_keys(segment, SEGMENT_KEYS, "transcript segment")


#: The contract of every route's success body, keyed by (method, OpenAPI path).
CONTRACTS: dict[Route, Contract] = {
    ("GET", "/"): Contract(message),
    ("GET", "/auth/me"): Contract(auth_me),
    ("POST", "/bots"): schema("MeetingResponse"),
    ("GET", "/bots"): Contract(bot_list),
    ("GET", "/bots/status"): schema("BotStatusResponse"),
    ("GET", "/bots/id/{meeting_id}"): Contract(bot_meeting),
    ("DELETE", "/bots/{platform}/{native_meeting_id}"): Contract(message),
    ("PUT", "/bots/{platform}/{native_meeting_id}/config"): Contract(message),
    ("GET", "/meetings"): schema("MeetingListResponse"),
    ("GET", "/meetings/{meeting_id}"): schema("MeetingResponse"),
    ("PATCH", "/meetings/{platform}/{native_meeting_id}"): schema("MeetingResponse"),
    ("DELETE", "/meetings/{platform}/{native_meeting_id}"): Contract(message),
    ("GET", "/transcripts/{platform}/{native_meeting_id}"): Contract(
        transcript, "TranscriptionResponse"
    ),
    ("PUT", "/user/webhook"): Contract(user_response),
}


def all_routes() -> set[Route]:
    """Every (method, path) the fake serves, read when asked (not frozen at import)."""
    return {(route.method, route.openapi_path) for route in ROUTER.routes}


def route_of(method: str, path: str) -> Route:
    found = ROUTER.resolve(method, path)
    assert isinstance(found, Match), f"{method} {path} is not a route of the fake"
    return (method, found.route.openapi_path)


# ---------------------------------------------------------------------------- the walk


class Walk:
    """Sends requests, checks each success body against its route's contract, records it."""

    def __init__(self, fake: FakeVexa, client: httpx.Client) -> None:
        self.fake = fake
        self.client = client
        self.zoned = fake.profile.timestamps == "zulu"
        self.bodies: dict[Route, list[Any]] = defaultdict(list)
        #: Bodies picked at the right moment for the golden comparisons.
        self.snapshots: dict[str, Any] = {}

    def __call__(
        self, method: str, url: str, account: Account | None, *, expect: int = 200, **kwargs: Any
    ) -> Any:
        headers = account.headers if account is not None else {}
        response = self.client.request(method, url, headers=headers, **kwargs)
        assert response.status_code == expect, (
            f"{method} {url}: expected {expect}, got {response.status_code}: {response.text}"
        )
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        route = route_of(method, response.request.url.path)
        CONTRACTS[route].check(body, self.zoned)
        self.bodies[route].append(body)
        return body


def walk(fake: FakeVexa, client: httpx.Client) -> Walk:
    """One user's whole session: three bots, from POST to anonymised, touching every route."""
    call = Walk(fake, client)
    create_status = fake.profile.create_bot_status
    alice = fake.create_user("alice@example.com")

    assert call("GET", "/", None) == {"message": "Welcome to the Vexa API Gateway"}
    assert call("GET", "/auth/me", alice) == {
        "user_id": alice.user_id,
        "email": "alice@example.com",
        "scopes": ["bot", "tx", "browser"],
        "max_concurrent": 10,
    }
    user = call(
        "PUT",
        "/user/webhook",
        alice,
        json={
            "webhook_url": WEBHOOK_URL,
            "webhook_secret": "s3cret-value",
            "webhook_events": {"meeting.completed": True},
        },
    )
    assert user["id"] == alice.user_id
    assert user["data"] == {
        "webhook_url": WEBHOOK_URL,
        "webhook_events": {"meeting.completed": True},
    }

    ids: dict[str, int] = {}
    for platform, native, passcode in MEETINGS:
        request: dict[str, Any] = {
            "platform": platform,
            "native_meeting_id": native,
            "bot_name": "Contract Bot",
        }
        if passcode is not None:
            request["passcode"] = passcode
        meeting = call("POST", "/bots", alice, json=request, expect=create_status)
        assert meeting["status"] == "requested"
        assert (meeting["start_time"], meeting["end_time"]) == (None, None)
        assert meeting["user_id"] == alice.user_id
        assert meeting["platform"] == platform
        assert meeting["native_meeting_id"] == native
        assert meeting["constructed_meeting_url"] == CONSTRUCTED_URL[platform]
        assert meeting["data"]["bot_name"] == "Contract Bot"
        assert meeting["data"]["webhook_url"] == WEBHOOK_URL
        assert "webhook_secret" not in meeting["data"]
        assert meeting["data"].get("passcode") == passcode
        ids[platform] = meeting["id"]
    assert len(set(ids.values())) == 3

    early = call("GET", "/bots/status", alice)
    assert [bot["meeting_status"] for bot in early["running_bots"]] == ["requested"] * 3

    fake.advance(3)  # requested → joining → awaiting_admission → active
    fake.advance(60)  # a minute of speech
    status = call("GET", "/bots/status", alice)
    assert [bot["meeting_status"] for bot in status["running_bots"]] == ["active"] * 3
    assert [bot["native_meeting_id"] for bot in status["running_bots"]] == [
        native for _, native, _ in MEETINGS
    ]
    call.snapshots["BotStatusResponse"] = status

    bots = call("GET", "/bots", alice)
    assert [row["id"] for row in bots["meetings"]] == sorted(ids.values(), reverse=True)
    assert bots["has_more"] is False
    first_page = call("GET", "/bots", alice, params={"limit": 1})
    assert len(first_page["meetings"]) == 1
    assert first_page["has_more"] is True
    for meeting_id in ids.values():
        by_id = call("GET", f"/bots/id/{meeting_id}", alice)
        assert (by_id["id"], by_id["status"]) == (meeting_id, "active")

    listing = call("GET", "/meetings", alice)
    assert [m["id"] for m in listing["meetings"]] == sorted(ids.values(), reverse=True)
    call.snapshots["MeetingListResponse"] = listing
    page = call("GET", "/meetings", alice, params={"limit": 2, "offset": 1})
    assert [m["id"] for m in page["meetings"]] == sorted(ids.values(), reverse=True)[1:]
    teams_only = call("GET", "/meetings", alice, params={"platform": "teams"})
    assert [m["id"] for m in teams_only["meetings"]] == [ids["teams"]]
    for platform, meeting_id in ids.items():
        meeting = call("GET", f"/meetings/{meeting_id}", alice)
        assert (meeting["id"], meeting["platform"], meeting["status"]) == (
            meeting_id,
            platform,
            "active",
        )
        assert meeting["start_time"] is not None
        assert meeting["end_time"] is None
    call.snapshots["MeetingResponse"] = call("GET", f"/meetings/{ids['google_meet']}", alice)

    for platform, native, _ in MEETINGS:
        live = call("GET", f"/transcripts/{platform}/{native}", alice)
        assert (live["id"], live["status"], live["end_time"]) == (ids[platform], "active", None)
        completed = [s for s in live["segments"] if s["completed"]]
        assert len(completed) >= 3, "a minute of an active bot must have produced segments"
        starts = [s["absolute_start_time"] for s in live["segments"]]
        assert starts == sorted(starts)
        exact = call(
            "GET", f"/transcripts/{platform}/{native}", alice, params={"meeting_id": ids[platform]}
        )
        assert exact["id"] == ids[platform]
        if platform == "google_meet":
            call.snapshots["TranscriptionResponse"] = live
            call.snapshots["TranscriptionSegment"] = completed

    reconfigured = call(
        "PUT",
        "/bots/google_meet/abc-defg-hij/config",
        alice,
        json={"language": "es", "task": "transcribe"},
        expect=202,
    )
    assert reconfigured == {"message": "Reconfiguration request accepted and sent to the bot."}
    patch = {
        "name": "Weekly sync",
        "participants": ["Anna Keller", "Ben Okafor"],
        "languages": ["en", "es"],
        "notes": "Contract walk",
    }
    patched = call("PATCH", "/meetings/google_meet/abc-defg-hij", alice, json={"data": patch})
    assert patched["id"] == ids["google_meet"]
    assert {key: patched["data"].get(key) for key in patch} == patch
    fake.advance(30)
    spanish = call("GET", "/transcripts/google_meet/abc-defg-hij", alice)
    assert "es" in {s["language"] for s in spanish["segments"]}, "PUT config had no effect"
    assert call("GET", "/bots", alice)["meetings"][-1]["data"]["participants_count"] == 2

    for platform, native, _ in MEETINGS:
        stopped = call("DELETE", f"/bots/{platform}/{native}", alice, expect=202)
        assert stopped == {"message": "Stop request accepted and is being processed."}
        assert call("GET", f"/meetings/{ids[platform]}", alice)["status"] == "stopping"
    stopping = call("GET", "/bots/status", alice)
    assert [bot["meeting_status"] for bot in stopping["running_bots"]] == ["stopping"] * 3

    fake.advance(2)  # stopping → completed
    for platform, native, _ in MEETINGS:
        done = call("GET", f"/meetings/{ids[platform]}", alice)
        assert (done["status"], done["completion_reason"]) == ("completed", "stopped")
        assert done["end_time"] is not None
        final = call("GET", f"/transcripts/{platform}/{native}", alice)
        assert final["end_time"] is not None
        assert final["segments"]
        assert all(s["completed"] for s in final["segments"])
    assert call("GET", "/bots/status", alice) == {"running_bots": []}

    for platform, native, _ in MEETINGS:
        deleted = call("DELETE", f"/meetings/{platform}/{native}", alice)
        assert deleted == {
            "message": f"Meeting {platform}/{native} transcripts and recording artifacts "
            "deleted; meeting data anonymized"
        }
        anonymised = call("GET", f"/meetings/{ids[platform]}", alice)
        assert anonymised["native_meeting_id"] is None
        assert anonymised["data"]["redacted"] is True
        assert "notes" not in anonymised["data"]
    assert len(call("GET", "/meetings", alice)["meetings"]) == 3

    assert fake.errors == []
    return call


@contextmanager
def client_for(fake: FakeVexa, transport: str) -> Iterator[httpx.Client]:
    if transport == "in-process":
        with fake.client() as client:
            yield client
    else:
        with fake.serve() as server, httpx.Client(base_url=server.url, timeout=10) as client:
            yield client


# ---------------------------------------------------------------------------- tests


@pytest.mark.parametrize("transport", ["in-process", "socket"])
@pytest.mark.parametrize("profile", PROFILES)
def test_route_walk_validates_every_success_body(profile: str, transport: str) -> None:
    fake = FakeVexa(profile=profile)
    with client_for(fake, transport) as client:
        done = walk(fake, client)
    untouched = all_routes() - set(done.bodies)
    assert not untouched, f"the walk never got a success from {sorted(untouched)}"
    assert fake.errors == []


def test_every_route_has_a_contract() -> None:
    """A route added to the fake without a contract here fails (and so does a stale one)."""
    served = all_routes()
    assert set(CONTRACTS) == served, (
        f"routes without a contract: {sorted(served - set(CONTRACTS))}; "
        f"contracts without a route: {sorted(set(CONTRACTS) - served)}"
    )


@pytest.mark.parametrize("route", sorted(all_routes()))
def test_route_exists_in_api_v1_with_the_same_success_schema(route: Route) -> None:
    method, path = route
    operations = openapi()["paths"].get(path, {})
    assert method.lower() in operations, f"api.v1 has no {method} {path}"
    declared = {
        ref.rsplit("/", 1)[1]
        for status, answer in operations[method.lower()]["responses"].items()
        if status.startswith("2")
        and (
            ref := answer.get("content", {})
            .get("application/json", {})
            .get("schema", {})
            .get("$ref")
        )
    }
    ours = CONTRACTS[route].component
    if route in CODE_OVER_SCHEMA:
        assert declared, f"{route} is listed as diverging from api.v1, which declares nothing"
        assert ours is None
    elif declared:
        assert declared == {ours}, f"api.v1 types {route} as {declared}, we check {ours}"


@pytest.mark.parametrize("profile", PROFILES)
def test_golden_examples_are_reproduced(profile: str) -> None:
    fake = FakeVexa(profile=profile)
    with fake.client() as client:
        done = walk(fake, client)
    names = golden_names()
    assert set(names) >= {
        "BotStatusResponse",
        "MeetingListResponse",
        "MeetingResponse",
        "TranscriptionResponse",
        "TranscriptionSegment",
    }
    for name in names:
        assert name in done.snapshots, f"no fake body was picked for golden {name}"
        example = golden(name)
        bodies = done.snapshots[name] if name == "TranscriptionSegment" else [done.snapshots[name]]
        for body in bodies:
            problems = shape_mismatches(example, body, name)
            _fail(problems, f"{profile} does not reproduce golden {name}", shape(body))


@pytest.mark.parametrize("name", golden_names())
def test_golden_examples_validate_against_their_component(name: str) -> None:
    _fail(errors_of(name, golden(name)), f"golden {name}", golden(name))


@pytest.mark.parametrize("profile", PROFILES)
def test_timestamps_follow_the_profile(profile: str) -> None:
    """docs writes ``Z`` everywhere; v0.10 naive DB times and ``+00:00`` segment times."""
    fake = FakeVexa(profile=profile)
    with fake.client() as client:
        done = walk(fake, client)
    meeting = done.snapshots["MeetingResponse"]
    segment = done.snapshots["TranscriptionSegment"][0]
    db_times = [meeting["created_at"], meeting["updated_at"], meeting["start_time"]]
    segment_times = [segment["absolute_start_time"], segment["absolute_end_time"]]
    if profile == "docs":
        assert all(t.endswith("Z") and is_rfc3339(t) for t in db_times + segment_times)
    else:
        assert all(is_naive_iso(t) for t in db_times), db_times
        assert all(t.endswith("+00:00") and is_rfc3339(t) for t in segment_times)
        assert errors_of("MeetingResponse", meeting, zoned=True), "naive times are not RFC 3339"


# ---------------------------------------------------------------------------- the helper itself


def test_validator_rejects_what_the_contract_forbids() -> None:
    good = golden("MeetingResponse")
    assert errors_of("MeetingResponse", good) == []
    naive = {**good, "created_at": "2026-06-20T08:59:00"}
    assert errors_of("MeetingResponse", naive, zoned=True) == [
        "created_at: '2026-06-20T08:59:00' is not a 'date-time'"
    ]
    assert errors_of("MeetingResponse", naive, zoned=False) == []
    assert errors_of("MeetingResponse", {**good, "created_at": "yesterday"}, zoned=False)
    assert errors_of("MeetingResponse", {**good, "status": "running"})
    missing = {k: v for k, v in good.items() if k != "bot_container_id"}
    assert errors_of("MeetingResponse", missing) == [
        "<root>: 'bot_container_id' is a required property"
    ]
    # A $ref into another component is followed: a bad segment breaks the transcript.
    broken = golden("TranscriptionResponse")
    broken["segments"][0]["start"] = "1.0"
    assert errors_of("TranscriptionResponse", broken) == [
        "segments/0/start: '1.0' is not of type 'number'"
    ]
    assert validator("MeetingResponse") is validator("MeetingResponse")
    with pytest.raises(KeyError, match="no component 'Nope'"):
        component("Nope")


def test_shape_and_its_comparison() -> None:
    assert shape({"a": [1, {"b": None}], "c": 1.5, "d": True}) == {
        "a": ["integer", {"b": "null"}],
        "c": "number",
        "d": "boolean",
    }
    example = golden("MeetingResponse")
    assert shape_mismatches(example, example, "MeetingResponse") == []
    assert shape_mismatches(example, {**example, "extra": 1}, "MeetingResponse") == []
    without = {k: v for k, v in example.items() if k != "status"}
    assert shape_mismatches(example, without, "MeetingResponse") == ["<root>: missing key 'status'"]
    assert shape_mismatches(example, {**example, "id": "42"}, "MeetingResponse") == [
        "id: expected integer, got string"
    ]
    # null where the schema allows it (end_time), but not where it does not (created_at).
    ended = {**example, "end_time": "2026-06-20T10:00:00Z"}
    assert shape_mismatches(example, ended, "MeetingResponse") == []
    assert shape_mismatches(example, {**example, "created_at": None}, "MeetingResponse") == [
        "created_at: null where the schema does not allow it ('null')"
    ]
    transcript_example = golden("TranscriptionResponse")
    empty = {**transcript_example, "segments": []}
    assert shape_mismatches(transcript_example, empty, "TranscriptionResponse") == [
        "segments: the golden array has items, the actual one is empty"
    ]
    integral = {**transcript_example, "segments": [{**transcript_example["segments"][0], "end": 3}]}
    assert shape_mismatches(transcript_example, integral, "TranscriptionResponse") == []
    assert allows_null("TranscriptionResponse", ("segments", 0, "speaker"))
    assert not allows_null("TranscriptionResponse", ("segments", 0, "text"))
