"""The fake's OpenAPI document: valid 3.1, complete, and true to what the fake answers.

"True" is checked two ways. Scripted walks (a meeting's whole life; its bot's commands, its
recording, share links and the admin API) validate every answer, errors included, against the
document under both profiles: they reach the states random inputs never do. Schemathesis then
fuzzes every operation of the fake served on a real loopback socket (its coverage phase plus
ten random examples per operation and generation mode), with the server-error, status-code,
content-type, response-schema, response-header and ignored-auth checks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from jsonschema import Draft202012Validator
from schemathesis import checks
from schemathesis.pytest.lazy import LazySchema

from harness.fake import Account, FakeVexa
from harness.server.loopback import LoopbackServer
from harness.vexa.profiles import get_profile
from harness.web.messages import Request
from harness.web.openapi import CONTROL_TAG, VEXA_TAG, openapi_document, undescribed_components
from harness.web.registry import default_routers
from harness.web.router import Match

PROFILES = ("docs", "v0.10")
ADMIN_KEY = "admin-key-for-the-fuzzer"
MEET = "/bots/google_meet/abc-defg-hij"


def document(profile: str) -> dict[str, Any]:
    return openapi_document(get_profile(profile), default_routers())


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def schemas_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object of the document: components, parameters, bodies, responses."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema" and isinstance(value, dict):
                yield value
            elif key == "schemas" and isinstance(value, dict):
                yield from value.values()
            else:
                yield from schemas_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from schemas_in(item)


# ---------------------------------------------------------------------------- the document


@pytest.mark.parametrize("profile", PROFILES)
def test_document_is_valid_openapi_3_1(profile: str) -> None:
    doc = document(profile)
    assert doc["openapi"] == "3.1.0"
    for schema in schemas_in(doc):
        Draft202012Validator.check_schema(schema)
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(doc)
    json.dumps(doc, allow_nan=False)  # plain JSON, nothing Python-only


@pytest.mark.parametrize("profile", PROFILES)
def test_every_route_of_every_router_is_documented(profile: str) -> None:
    doc = document(profile)
    for router in default_routers():
        for route in router.routes:
            operation = doc["paths"][route.openapi_path][route.method.lower()]
            assert operation["summary"] == route.handler.summary
    ids = [op["operationId"] for _, _, op in operations(doc)]
    assert len(ids) == len(set(ids)), "operationIds must be unique"
    documented = sum(len(r.routes) for r in default_routers())
    assert len(ids) == documented


@pytest.mark.parametrize("profile", PROFILES)
def test_security_errors_and_tags_follow_the_endpoint_tables(profile: str) -> None:
    doc = document(profile)
    for router in default_routers():
        for route in router.routes:
            endpoint = route.handler
            operation = doc["paths"][route.openapi_path][route.method.lower()]
            responses = operation["responses"]
            if endpoint.auth == "user":
                assert operation["security"] == [{"ApiKeyAuth": []}]
                assert "401" in responses
            elif endpoint.auth == "admin":
                assert operation["security"] == [{"AdminApiKeyAuth": []}]
                assert {"403", "500"} <= set(responses)
            else:
                assert operation["security"] == []
            if endpoint.body is not None:
                assert "413" in responses
                assert operation["requestBody"]["required"] is True
            for status in endpoint.errors:
                assert str(status) in responses
            is_control = route.template.startswith("/_harness/")
            assert (CONTROL_TAG in operation["tags"]) is is_control
    schemes = doc["components"]["securitySchemes"]
    for name, header in (("ApiKeyAuth", "X-API-Key"), ("AdminApiKeyAuth", "X-Admin-API-Key")):
        assert schemes[name] == {**schemes[name], "type": "apiKey", "in": "header", "name": header}


def test_every_declared_response_body_is_described() -> None:
    """A route that names a response component nobody wrote a schema for fails here.

    Add the schema to ``harness/web/_schemas.py`` (closed: every field the view writes).
    """
    assert undescribed_components(document("docs")) == []


def test_documents_differ_where_the_profiles_differ() -> None:
    docs, v010 = document("docs"), document("v0.10")
    assert set(docs["paths"]["/bots"]["post"]["responses"]) >= {"202", "400", "422"}
    assert "201" not in docs["paths"]["/bots"]["post"]["responses"]
    assert "201" in v010["paths"]["/bots"]["post"]["responses"]
    assert "202" not in v010["paths"]["/bots"]["post"]["responses"]
    created = "MeetingResponse", "properties", "created_at"
    zulu, naive = docs["components"]["schemas"], v010["components"]["schemas"]
    assert zulu[created[0]][created[1]][created[2]]["format"] == "date-time"
    assert "format" not in naive[created[0]][created[1]][created[2]]
    segment = naive["TranscriptionSegment"]["properties"]["absolute_start_time"]
    assert segment["anyOf"][0]["format"] == "date-time"  # segment times stay tz-aware
    platform = docs["paths"]["/bots/{platform}/{native_meeting_id}"]["delete"]["parameters"][0]
    assert platform["schema"] == {"$ref": "#/components/schemas/Platform"}
    limit = docs["paths"]["/bots"]["get"]["parameters"][0]
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}


@pytest.mark.parametrize("profile", PROFILES)
def test_the_fake_serves_its_own_document(profile: str) -> None:
    fake = FakeVexa(profile)
    with fake.client() as client:
        answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == document(profile)


# ---------------------------------------------------------------------------- a scripted walk


def template_of(method: str, path: str) -> str:
    for router in default_routers():
        found = router.resolve(method, path)
        if isinstance(found, Match):
            return found.route.openapi_path
    raise AssertionError(f"no route for {method} {path}")


class Conformance:
    """Checks answers against the document: a documented status, JSON, the documented schema."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.statuses: set[int] = set()

    def __call__(self, answer: httpx.Response) -> Any:
        method, path = answer.request.method, answer.request.url.path
        operation = self.doc["paths"][template_of(method, path)][method.lower()]
        status = str(answer.status_code)
        spec = operation["responses"].get(status) or operation["responses"].get(f"{status[0]}XX")
        assert spec is not None, f"{method} {path} answered an undocumented {status}"
        self.statuses.add(answer.status_code)
        if "content" not in spec:  # no body, or one that is not JSON (media, plain text)
            return answer.content
        assert answer.headers["content-type"] == "application/json"
        schema = {**spec["content"]["application/json"]["schema"]}
        schema["components"] = self.doc["components"]  # lets "#/components/..." resolve
        body = answer.json()
        checker = Draft202012Validator.FORMAT_CHECKER
        Draft202012Validator(schema, format_checker=checker).validate(body)
        return body


@pytest.mark.parametrize("profile", PROFILES)
def test_a_meeting_life_conforms_to_the_document(profile: str) -> None:
    """Every answer along a meeting's whole life, errors included, matches the document."""
    fake = FakeVexa(profile)
    alice = fake.create_user()
    fake.create_user(scopes=("tx",), api_key="tx-only-key")
    ok = Conformance(document(profile))
    bot = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
    meetings = "/meetings/google_meet/abc-defg-hij"
    transcript = "/transcripts/google_meet/abc-defg-hij"
    with fake.client(alice) as client, fake.client() as anonymous:
        ok(client.get("/"))
        ok(client.get("/auth/me"))
        ok(anonymous.get("/bots/status"))
        ok(client.get("/bots/status", headers={"X-API-Key": "wrong"}))
        ok(client.get("/bots/status", headers={"X-API-Key": "tx-only-key"}))
        ok(client.put("/user/webhook", json={"webhook_url": "nope"}))
        hook = {"webhook_url": "https://example.com/h", "webhook_secret": "s3cret"}
        ok(client.put("/user/webhook", json={**hook, "webhook_events": {"bot.failed": True}}))

        created = ok(client.post("/bots", json=bot))
        ok(client.post("/bots", json=bot))  # 409
        ok(client.post("/bots", content=b"{"))  # malformed JSON
        ok(client.post("/bots", content=b"x" * 1_100_000))  # 413
        ok(client.post("/bots", json={"platform": "nope"}))
        ok(client.post("/bots", json={"platform": "zoom", "native_meeting_id": "1"}))
        ok(client.post("/bots", json={**bot, "native_meeting_id": "x"}))
        ok(client.post("/bots", json={**bot, "language": "xx"}))

        fake.advance(120)  # active, with transcript segments and a live draft
        notes = {"name": "Weekly", "participants": list("abcde"), "notes": "n" * 300}
        ok(client.patch(meetings, json={"data": {**notes, "languages": ["en"]}}))
        ok(client.patch(meetings, json={"data": {}}))  # 400 nothing to update
        ok(client.patch("/meetings/teams/1234567890", json={"data": notes}))  # 404
        for query in ({}, {"limit": 1}, {"limit": 0}, {"status": "active", "platform": "zoom"}):
            ok(client.get("/bots", params=query))
            ok(client.get("/meetings", params=query))
        ok(client.get("/bots/status"))
        ok(client.get(f"/bots/id/{created['id']}"))
        ok(client.get("/bots/id/999"))
        ok(client.get("/bots/id/x"))
        ok(client.get(f"/meetings/{created['id']}"))
        assert ok(client.get(transcript))["segments"], "the walk must reach a transcript"
        ok(client.get(transcript, params={"meeting_id": 999}))
        ok(client.get("/transcripts/nope/abc-defg-hij"))
        config = {"language": "de", "task": "translate", "allowed_languages": ["de", "en"]}
        ok(client.put(MEET + "/config", json=config))
        ok(client.put(MEET + "/config", json={"language": "xx"}))
        ok(client.delete(meetings))  # 409: not finished

        ok(client.delete(MEET))
        ok(client.put(MEET + "/config", json=config))  # 409: stopping
        fake.advance(60)
        ok(client.delete(MEET))  # already completed
        ok(client.get("/bots"))
        ok(client.get(transcript))
        ok(client.delete(meetings))
        ok(client.get("/meetings"))  # the anonymised row
        ok(client.get("/bots"))
        ok(client.get(f"/bots/id/{created['id']}"))

        for stage in ("requested", "awaiting_admission", "active"):
            native = f"fail-{stage.replace('_', '-')}"
            failing = ok(client.post("/bots", json={**bot, "native_meeting_id": native}))
            fake.advance({"requested": 0, "awaiting_admission": 1.5, "active": 3}[stage])
            fake.fail(failing["id"], stage=stage)
        ok(client.get("/bots"))
        ok(client.get("/meetings"))
        ok(client.delete("/bots/teams/1234567890"))  # 404

        ok(anonymous.get("/_harness/health"))
        ok(anonymous.get("/_harness/clock"))
        ok(anonymous.post("/_harness/users", json={"scopes": ["bot"]}))
        ok(anonymous.post("/_harness/users", json={"scopes": ["nope"]}))
        ok(anonymous.get("/_harness/meetings"))
        ok(anonymous.post("/_harness/meetings/999/admit", json={}))
        ok(anonymous.get("/openapi.json"))
    fake.check()
    expected = {200, 400, 401, 403, 404, 409, 413, 422, fake.profile.create_bot_status}
    assert ok.statuses >= expected


@pytest.mark.parametrize("profile", PROFILES)
def test_recordings_interactions_shares_and_admin_conform_to_the_document(profile: str) -> None:
    """The routes around a meeting: its bot's commands, its recording, share links, admin."""
    fake = FakeVexa(profile, admin_key="adm")
    alice = fake.create_user()
    ok = Conformance(document(profile))
    bot = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
    admin = {"X-Admin-API-Key": "adm"}
    with fake.client(alice) as client, fake.client() as anonymous:
        ok(client.get("/recording-config"))
        ok(client.put("/recording-config", json={"capture_modes": ["audio", "video"]}))
        ok(client.put("/recording-config", json={"capture_modes": ["smell"]}))
        ok(client.post(MEET + "/chat", json={"text": "hi"}))  # 404: no bot yet
        ok(client.post("/bots", json=bot))
        fake.advance(90)
        ok(client.post(MEET + "/speak", json={"text": "hello"}))
        ok(client.post(MEET + "/speak", json={}))  # 400
        ok(client.post(MEET + "/speak", json=[1]))  # 422: not an object
        ok(client.delete(MEET + "/speak"))
        ok(client.post(MEET + "/chat", json={"text": "hi"}))
        ok(client.get(MEET + "/chat"))
        ok(client.post(MEET + "/screen", json={"type": "url", "url": "https://example.com"}))
        ok(client.delete(MEET + "/screen"))
        ok(client.put(MEET + "/avatar", json={"url": "https://example.com/a.png"}))
        ok(client.delete(MEET + "/avatar"))
        ok(client.patch(MEET + "/voice-agent-settings", json={"url": "https://example.com"}))
        ok(client.get(MEET + "/events", params={"limit": 5}))

        share = ok(client.post("/transcripts/google_meet/abc-defg-hij/share"))
        ok(anonymous.get(f"/public/transcripts/{share['share_id']}.txt"))
        ok(anonymous.get("/public/transcripts/nope.txt"))
        ok(client.post("/transcripts/teams/1234567890/share"))

        ok(client.delete(MEET))
        fake.advance(60)  # completed: the recording is finalised
        recordings = ok(client.get("/recordings"))["recordings"]
        assert recordings, "the walk must reach a recording"
        recording = recordings[0]
        base = f"/recordings/{recording['id']}"
        media = recording["media_files"][0]["id"]
        ok(client.get(base))
        ok(client.get(base + "/master", params={"type": "audio"}))
        ok(client.get(base + "/master", params={"type": "video"}))  # 404
        ok(client.get(base + "/master"))  # 422: type is required
        ok(client.get(f"{base}/media/{media}/download"))
        ok(client.get(f"{base}/media/{media}/raw"))
        ok(client.get(f"{base}/media/{media}/raw", headers={"Range": "bytes=0-99"}))
        ok(client.get(f"{base}/media/{media}/raw", headers={"Range": "bytes=999999999-"}))
        ok(client.get(f"{base}/media/999/raw"))
        ok(client.get("/recordings", params={"meeting_id": 999, "limit": 1}))
        ok(client.delete(base))
        ok(client.delete(base))  # again: 204 (docs) or 404 (v0.10)
        ok(client.get(base))

        ok(anonymous.get("/admin/users"))  # 403
        user = ok(anonymous.post("/admin/users", json={"email": "b@example.com"}, headers=admin))
        ok(anonymous.post("/admin/users", json={"email": "b@example.com"}, headers=admin))
        ok(anonymous.post("/admin/users", json={"email": "not-an-email"}, headers=admin))
        ok(anonymous.get("/admin/users", params={"limit": 1}, headers=admin))
        ok(anonymous.get("/admin/users/email/b@example.com", headers=admin))
        ok(anonymous.get("/admin/users/email/nobody@example.com", headers=admin))
        ok(anonymous.patch(f"/admin/users/{user['id']}", json={"name": "B"}, headers=admin))
        token = ok(
            anonymous.post(
                f"/admin/users/{user['id']}/tokens",
                params={"scopes": "bot,tx", "expires_in": 3600},
                headers=admin,
            )
        )
        ok(anonymous.post(f"/admin/users/{user['id']}/tokens?scope=x", headers=admin))
        ok(anonymous.get(f"/admin/users/{user['id']}", headers=admin))
        ok(anonymous.delete(f"/admin/tokens/{token['id']}", headers=admin))
        ok(anonymous.delete(f"/admin/tokens/{token['id']}", headers=admin))
    with FakeVexa(profile).client() as unconfigured:
        ok(unconfigured.get("/admin/users", headers=admin))  # 500: no admin key configured
    fake.check()
    assert ok.statuses >= {200, 201, 202, 206, 400, 403, 404, 416, 422, 500}


# ---------------------------------------------------------------------------- Schemathesis

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.ignored_auth,
    # Not unsupported_method: like Vexa's own FastAPI routing, DELETE /bots/id/5 matches
    # DELETE /bots/{platform}/{native_meeting_id} and is a 422 on the platform, not a 405.
]


Served = tuple[FakeVexa, Account, LoopbackServer]


@pytest.fixture(scope="module", params=PROFILES)
def fuzz_profile(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def serve(profile: str) -> Iterator[Served]:
    """A fresh fake on a real loopback socket, with a user whose key the fuzzer uses."""
    fake = FakeVexa(profile, seed=11, admin_key=ADMIN_KEY)
    account = fake.create_user()
    with fake.serve() as server:
        yield fake, account, server
    assert not fake.errors, f"the fake crashed while fuzzed: {fake.errors[:3]!r}"
    assert not server.errors, f"the server failed while fuzzed: {server.errors[:3]!r}"


# Two fakes: fuzzing the admin and control APIs revokes keys, lowers bot limits and so on,
# which would leave the Vexa operations nothing but 401s and 403s to answer. Those two APIs
# differ between profiles only in timestamp style, so they are fuzzed under v0.10 alone (the
# walks above cover both profiles), which keeps the file well inside its time budget.
@pytest.fixture(scope="module")
def vexa_fake(fuzz_profile: str) -> Iterator[Served]:
    yield from serve(fuzz_profile)


@pytest.fixture(scope="module")
def admin_fake() -> Iterator[Served]:
    yield from serve("v0.10")


def served_document(served: Served) -> Any:
    """The document the fake serves about itself, fetched over the socket.

    (``from_dict`` rather than ``from_url``: the latter leaves ``GET /openapi.json`` out.)
    """
    answer = httpx.get(f"{served[2].url}/openapi.json", timeout=10)
    answer.raise_for_status()
    return schemathesis.openapi.from_dict(answer.json())


@pytest.fixture
def vexa_schema(vexa_fake: Served) -> Any:
    return served_document(vexa_fake)


@pytest.fixture
def admin_schema(admin_fake: Served) -> Any:
    return served_document(admin_fake)


vexa_api: LazySchema = schemathesis.pytest.from_fixture("vexa_schema").include(tag=VEXA_TAG)
other_apis: LazySchema = schemathesis.pytest.from_fixture("admin_schema").exclude(tag=VEXA_TAG)
FUZZ = settings(
    max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


#: Message framing, not API parameters: a garbage value is the HTTP server's 400, for any path.
FRAMING = frozenset({"transfer-encoding", "content-length", "connection", "host", "expect"})


def call_and_validate(case: Any, served: Served) -> None:
    _, account, server = served
    if case.headers:
        case.headers = {k: v for k, v in case.headers.items() if k.lower() not in FRAMING}
    headers = {**account.headers, "X-Admin-API-Key": ADMIN_KEY}
    case.call_and_validate(base_url=server.url, headers=headers, checks=CHECKS)


@pytest.mark.slow
@vexa_api.parametrize()
@FUZZ
def test_the_vexa_api_answers_as_its_document_says(case: Any, vexa_fake: Served) -> None:
    call_and_validate(case, vexa_fake)


@pytest.mark.slow
@other_apis.parametrize()
@FUZZ
def test_the_admin_and_control_apis_answer_as_the_document_says(
    case: Any, admin_fake: Served
) -> None:
    call_and_validate(case, admin_fake)


# ---------------------------------------------------------------------------- found by fuzzing


def test_a_lifecycle_update_with_explicit_nulls_keeps_the_current_values() -> None:
    fake = FakeVexa()
    answer = fake.handle(Request.build("PUT", "/_harness/lifecycle", body=b'{"join_delay": null}'))
    assert answer.status == 200
    assert answer.json()["join_delay"] == fake.model.lifecycle.join_delay


def test_the_clock_cannot_be_advanced_past_what_timestamps_can_show() -> None:
    fake = FakeVexa()
    with fake.client() as client:
        assert client.post("/_harness/clock/advance", json={"seconds": 1e12}).status_code == 422


def test_control_reasons_stay_in_the_api_v1_enum() -> None:
    fake = FakeVexa()
    account = fake.create_user()
    bot = {"platform": "zoom", "native_meeting_id": "123456789"}
    with fake.client(account) as client:
        meeting = client.post("/bots", json=bot).json()
        ended = client.post(f"/_harness/meetings/{meeting['id']}/end", json={"reason": "nope"})
    assert ended.status_code == 422
