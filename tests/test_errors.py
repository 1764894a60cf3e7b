"""The error matrix: every way a request can be wrong, with Vexa's exact answer per profile.

Each case asserts the exact status and the exact ``detail``: the string, or for a 422 list the
``type``/``loc``/``msg`` of every item (and that the list is an api.v1 ``HTTPValidationError``).
No case may ever be a 500, and the fake must never crash (``fake.errors`` stays empty).
A subset runs again over a real socket, with httpx and with requests, to show the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx
import pytest
import requests
from contract_schemas import errors_of

from harness.fake import Account, FakeVexa
from harness.vexa.platforms import LANGUAGE_CODES
from harness.web.vexa_routes import ROUTER

PROFILES = ("docs", "v0.10")
BIG = 2 * 1024 * 1024

# ---------------------------------------------------------------------------- Vexa's words

PLATFORMS = "'google_meet', 'zoom', 'teams', 'jitsi' or 'browser_session'"
INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"
MEET_ID = (
    "Google Meet ID must be in format 'abc-defg-hij' or a custom nickname "
    "(5-40 lowercase alphanumeric/hyphen chars)"
)
MEET_PASSCODE = "Passcode is not supported for Google Meet meetings"
TEAMS_ID = (
    "Teams native_meeting_id must be a 10-15 digit numeric ID "
    "or a 16-character hex hash (for legacy /l/meetup-join/ URLs)"
)
TEAMS_URL_AS_ID = "Teams meeting ID must be the numeric ID or hash, not a full URL"
TEAMS_PASSCODE_REQUIRED = (
    "Teams meetings require a passcode. Without it, bots cannot join "
    "(lobby rejects anonymous guests). Provide the 'passcode' field."
)
CANNOT_CONSTRUCT = "Cannot construct meeting URL"
BAD_LANGUAGE = f"Invalid language code 'xx'. Must be one of: {sorted(LANGUAGE_CODES)}"
DUPLICATE = "An active or requested meeting already exists for this platform and meeting ID"
NO_SCOPE = "Insufficient scope for this endpoint"
STOP_ACCEPTED = "Stop request accepted and is being processed."

# ---------------------------------------------------------------------------- expectations

Item = tuple[str, tuple[str | int, ...], str]  # (type, loc, msg) of one 422 list entry


@dataclass(frozen=True)
class Answer:
    """An exact error answer: a status and a string ``detail`` or the 422 list's items."""

    status: int
    detail: str | tuple[Item, ...]


Expect = Answer | dict[str, Answer]  # one answer, or one per profile name


def body_error(kind: str, loc: tuple[str | int, ...], msg: str) -> Answer:
    return Answer(422, ((kind, loc, msg),))


def semantic(field_name: str | None, message: str) -> dict[str, Answer]:
    """Vexa's own validators: a 400 string (docs) or a pydantic ``value_error`` list (v0.10).

    ``field_name`` None means a model-level validator, reported at ``loc ["body"]``.
    """
    loc = ("body",) if field_name is None else ("body", field_name)
    return {
        "docs": Answer(400, message),
        "v0.10": body_error("value_error", loc, f"Value error, {message}"),
    }


MISSING_KEY: dict[str, Answer] = {
    "docs": Answer(401, "Not authenticated"),
    "v0.10": Answer(401, "Missing API key"),
}
INVALID_KEY = Answer(401, "Invalid API key")
PATH_PLATFORM = body_error("enum", ("path", "platform"), f"Input should be {PLATFORMS}")


def auth_first(answer: Answer, docs: Answer = MISSING_KEY["docs"]) -> dict[str, Answer]:
    """docs checks the key before validating; the v0.10 gateway validates the path first."""
    return {"docs": docs, "v0.10": answer}


def expected(expect: Expect, profile: str) -> Answer:
    return expect[profile] if isinstance(expect, dict) else expect


def assert_answer(status: int, body: Any, answer: Answer, what: str) -> None:
    assert status != 500, f"{what}: a 500 ({body!r})"
    assert (status, _detail_of(body)) == (answer.status, answer.detail), f"{what}: {body!r}"
    if isinstance(answer.detail, tuple):
        problems = errors_of("HTTPValidationError", body)
        assert not problems, f"{what}: not an api.v1 HTTPValidationError: {problems}"
        for item in body["detail"]:
            assert "input" in item, f"{what}: pydantic v2 items carry the input: {item!r}"
            assert set(item) <= {"type", "loc", "msg", "input", "ctx"}, item


def _detail_of(body: Any) -> Any:
    assert isinstance(body, dict), body
    assert set(body) == {"detail"}, f"an error body is exactly {{'detail'}}: {body!r}"
    detail = body["detail"]
    if isinstance(detail, list):
        return tuple((item["type"], tuple(item["loc"]), item["msg"]) for item in detail)
    return detail


# ---------------------------------------------------------------------------- requests

_UNSET: Any = object()
KeyKind = Literal["alice", "none", "unknown"]


@dataclass(frozen=True)
class Req:
    method: str
    url: str
    key: KeyKind = "alice"
    json: Any = _UNSET
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


Send = Callable[[Req], tuple[int, Any]]


def api_key(kind: KeyKind, alice: Account) -> dict[str, str]:
    if kind == "alice":
        return alice.headers
    if kind == "unknown":
        return {"X-API-Key": "vxa_bot_" + "0" * 32}
    return {}


def httpx_sender(client: httpx.Client, alice: Account) -> Send:
    def send(req: Req) -> tuple[int, Any]:
        extra: dict[str, Any] = {}
        if req.json is not _UNSET:
            extra["json"] = req.json
        if req.content is not None:
            extra["content"] = req.content
        headers = {**api_key(req.key, alice), **req.headers}
        response = client.request(req.method, req.url, headers=headers, **extra)
        assert response.headers["content-type"] == "application/json", response.headers
        return response.status_code, response.json()

    return send


def requests_sender(session: requests.Session, base_url: str, alice: Account) -> Send:
    def send(req: Req) -> tuple[int, Any]:
        extra: dict[str, Any] = {}
        if req.json is not _UNSET:
            extra["json"] = req.json
        if req.content is not None:
            extra["data"] = req.content
        headers = {**api_key(req.key, alice), **req.headers}
        response = session.request(
            req.method, base_url + req.url, headers=headers, timeout=10, **extra
        )
        assert response.headers["content-type"] == "application/json", response.headers
        return response.status_code, response.json()

    return send


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(params=PROFILES)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeVexa]:
    fake = FakeVexa(profile=request.param)
    yield fake
    assert fake.errors == [], f"the fake crashed: {fake.errors!r}"


@pytest.fixture
def alice(fake: FakeVexa) -> Account:
    return fake.create_user("alice@example.com")


@pytest.fixture
def client(fake: FakeVexa) -> Iterator[httpx.Client]:
    with fake.client() as client:
        yield client


@pytest.fixture
def send(client: httpx.Client, alice: Account) -> Send:
    return httpx_sender(client, alice)


class Api:
    """Terse calls for the stateful tests: ``api(account, method, url, json=...)``."""

    def __init__(self, fake: FakeVexa, client: httpx.Client) -> None:
        self.fake = fake
        self.client = client

    def __call__(
        self, account: Account | None, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        headers = account.headers if account is not None else {}
        response = self.client.request(method, url, headers=headers, **kwargs)
        assert response.status_code != 500, response.text
        return response

    def check(self, response: httpx.Response, expect: Expect) -> None:
        answer = expected(expect, self.fake.profile.name)
        what = f"{response.request.method} {response.request.url.path}"
        assert_answer(response.status_code, response.json(), answer, what)

    def start(self, account: Account, platform: str = "google_meet", **extra: Any) -> int:
        native = NATIVE[platform]
        body = {"platform": platform, "native_meeting_id": native, **PASSCODE[platform], **extra}
        response = self(account, "POST", "/bots", json=body)
        assert response.status_code == self.fake.profile.create_bot_status, response.text
        meeting_id: int = response.json()["id"]
        return meeting_id


NATIVE = {"google_meet": "abc-defg-hij", "teams": "1234567890123", "zoom": "12345678901"}
PASSCODE: dict[str, dict[str, str]] = {
    "google_meet": {},
    "teams": {"passcode": "abcd1234"},
    "zoom": {},
}


@pytest.fixture
def api(fake: FakeVexa, client: httpx.Client) -> Api:
    return Api(fake, client)


# ---------------------------------------------------------------------------- stateless matrix

MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
TEAMS = {"platform": "teams", "native_meeting_id": "1234567890123", "passcode": "abcd1234"}


def bot(**fields: Any) -> Req:
    return Req("POST", "/bots", json=fields)


CASES: dict[str, tuple[Req, Expect]] = {
    # --- auth
    "missing-key": (Req("GET", "/meetings", key="none"), MISSING_KEY),
    "unknown-key": (Req("GET", "/meetings", key="unknown"), INVALID_KEY),
    "empty-key": (Req("GET", "/meetings", key="none", headers={"X-API-Key": ""}), MISSING_KEY),
    # --- bodies that are not a MeetingCreate object
    "malformed-json": (
        Req("POST", "/bots", content=b'{"platform":', headers={"content-type": "application/json"}),
        {
            "docs": Answer(400, "Malformed request body: Expecting value"),
            "v0.10": body_error("json_invalid", ("body", 12), "JSON decode error"),
        },
    ),
    "non-json-body": (
        Req("POST", "/bots", content=b"platform=google_meet"),
        {
            "docs": Answer(400, "Malformed request body: Expecting value"),
            "v0.10": body_error("json_invalid", ("body", 0), "JSON decode error"),
        },
    ),
    "empty-body": (
        Req("POST", "/bots", content=b""),
        body_error("missing", ("body",), "Field required"),
    ),
    # --- field types (pydantic: a 422 list in every profile)
    "wrong-type-native-id": (
        bot(platform="google_meet", native_meeting_id=123),
        body_error("string_type", ("body", "native_meeting_id"), "Input should be a valid string"),
    ),
    "unknown-platform-in-body": (
        bot(platform="skype", native_meeting_id="abc-defg-hij"),
        body_error("enum", ("body", "platform"), f"Input should be {PLATFORMS}"),
    ),
    "bad-task": (
        bot(**MEET, task="dance"),
        semantic("task", "Invalid task 'dance'. Must be one of: ['transcribe', 'translate']"),
    ),
    "automatic-leave-extra-key": (
        bot(**MEET, automatic_leave={"max_bot_time": 1000, "linger": 5}),
        body_error(
            "extra_forbidden",
            ("body", "automatic_leave", "linger"),
            "Extra inputs are not permitted",
        ),
    ),
    "webhook-url-missing": (
        Req("PUT", "/user/webhook", json={"webhook_secret": "s"}),
        body_error("missing", ("body", "webhook_url"), "Field required"),
    ),
    "webhook-url-not-a-url": (
        Req("PUT", "/user/webhook", json={"webhook_url": "not a url"}),
        body_error(
            "url_parsing",
            ("body", "webhook_url"),
            "Input should be a valid URL, relative URL without a base",
        ),
    ),
    "patch-without-data": (
        Req("PATCH", "/meetings/google_meet/abc-defg-hij", json={"name": "x"}),
        body_error("missing", ("body", "data"), "Field required"),
    ),
    # --- Vexa's own rules on ids, passcodes and languages
    "meet-uppercase-id": (
        bot(platform="google_meet", native_meeting_id="ABC"),
        semantic("native_meeting_id", MEET_ID),
    ),
    "meet-underscores": (
        bot(platform="google_meet", native_meeting_id="abc_defg_hij"),
        semantic("native_meeting_id", MEET_ID),
    ),
    "meet-trailing-hyphen": (
        bot(platform="google_meet", native_meeting_id="abc-defg-hi-"),
        semantic("native_meeting_id", MEET_ID),
    ),
    "meet-with-passcode": (bot(**MEET, passcode="abcd1234"), semantic("passcode", MEET_PASSCODE)),
    "teams-short-id": (
        bot(platform="teams", native_meeting_id="123", passcode="abcd1234"),
        semantic("native_meeting_id", TEAMS_ID),
    ),
    "teams-full-url-as-id": (
        bot(
            platform="teams",
            native_meeting_id="https://teams.live.com/meet/1234567890123",
            passcode="abcd1234",
        ),
        semantic("native_meeting_id", TEAMS_URL_AS_ID),
    ),
    "teams-without-passcode": (
        bot(platform="teams", native_meeting_id="1234567890123"),
        semantic(None, TEAMS_PASSCODE_REQUIRED),
    ),
    # A 16-hex Teams id names a legacy meetup-join link: only the link itself can be joined.
    "teams-hash-id-without-its-url": (
        bot(platform="teams", native_meeting_id="0123456789abcdef", passcode="abcd"),
        {"docs": Answer(400, CANNOT_CONSTRUCT), "v0.10": Answer(422, CANNOT_CONSTRUCT)},
    ),
    "zoom-letters-in-id": (
        bot(platform="zoom", native_meeting_id="12ab"),
        {"docs": Answer(400, CANNOT_CONSTRUCT), "v0.10": Answer(422, CANNOT_CONSTRUCT)},
    ),
    "bad-language": (bot(**MEET, language="xx"), semantic("language", BAD_LANGUAGE)),
    "bad-language-in-config": (
        Req("PUT", "/bots/google_meet/abc-defg-hij/config", json={"language": "xx"}),
        semantic("language", BAD_LANGUAGE),
    ),
    # --- paths: an unknown platform is a 422 even without a key under v0.10
    "path-platform-stop-no-key": (
        Req("DELETE", "/bots/skype/x", key="none"),
        auth_first(PATH_PLATFORM),
    ),
    "path-platform-transcript-no-key": (
        Req("GET", "/transcripts/skype/x", key="none"),
        auth_first(PATH_PLATFORM),
    ),
    "path-platform-transcript-unknown-key": (
        Req("GET", "/transcripts/skype/x", key="unknown"),
        auth_first(PATH_PLATFORM, docs=INVALID_KEY),
    ),
    "path-platform-stop": (Req("DELETE", "/bots/skype/x"), PATH_PLATFORM),
    "path-platform-transcript": (Req("GET", "/transcripts/skype/x"), PATH_PLATFORM),
    "path-platform-config": (
        Req("PUT", "/bots/skype/x/config", json={"language": "en"}),
        PATH_PLATFORM,
    ),
    "path-platform-patch": (
        Req("PATCH", "/meetings/skype/x", json={"data": {"name": "x"}}),
        PATH_PLATFORM,
    ),
    "path-platform-delete": (Req("DELETE", "/meetings/skype/x"), PATH_PLATFORM),
    "non-int-bot-id": (
        Req("GET", "/bots/id/abc"),
        body_error("int_parsing", ("path", "meeting_id"), INT_PARSING),
    ),
    "non-int-meeting-id": (
        Req("GET", "/meetings/abc"),
        body_error("int_parsing", ("path", "meeting_id"), INT_PARSING),
    ),
    "non-int-meeting-id-no-key": (
        Req("GET", "/meetings/abc", key="none"),
        auth_first(body_error("int_parsing", ("path", "meeting_id"), INT_PARSING)),
    ),
    "non-int-transcript-meeting-id": (
        Req("GET", "/transcripts/google_meet/abc-defg-hij?meeting_id=first"),
        body_error("int_parsing", ("query", "meeting_id"), INT_PARSING),
    ),
    # --- query bounds
    "limit-0": (
        Req("GET", "/meetings?limit=0"),
        body_error(
            "greater_than_equal", ("query", "limit"), "Input should be greater than or equal to 1"
        ),
    ),
    "limit-101": (
        Req("GET", "/meetings?limit=101"),
        body_error(
            "less_than_equal", ("query", "limit"), "Input should be less than or equal to 100"
        ),
    ),
    "offset-negative": (
        Req("GET", "/meetings?offset=-1"),
        body_error(
            "greater_than_equal", ("query", "offset"), "Input should be greater than or equal to 0"
        ),
    ),
    "limit-not-a-number": (
        Req("GET", "/meetings?limit=x"),
        body_error("int_parsing", ("query", "limit"), INT_PARSING),
    ),
    "bots-limit-0": (
        Req("GET", "/bots?limit=0"),
        body_error(
            "greater_than_equal", ("query", "limit"), "Input should be greater than or equal to 1"
        ),
    ),
    # --- size and routing
    "huge-body": (
        Req("POST", "/bots", content=b'{"x":"' + b"a" * BIG + b'"}'),
        Answer(413, "Request body too large"),
    ),
    "huge-body-no-key": (
        Req("POST", "/bots", key="none", content=b"a" * BIG),
        Answer(413, "Request body too large"),
    ),
    "unknown-route": (Req("GET", "/bots/nowhere/at/all"), Answer(404, "Not Found")),
    "wrong-method": (Req("POST", "/meetings", json={}), Answer(405, "Method Not Allowed")),
}

#: Cases that run again over a real socket (httpx and requests).
SOCKET_CASES = (
    "missing-key",
    "unknown-key",
    "malformed-json",
    "non-json-body",
    "wrong-type-native-id",
    "unknown-platform-in-body",
    "meet-uppercase-id",
    "teams-without-passcode",
    "zoom-letters-in-id",
    "path-platform-stop-no-key",
    "non-int-meeting-id",
    "limit-0",
    "huge-body",
    "huge-body-no-key",
    "unknown-route",
)


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_matrix(case: str, fake: FakeVexa, send: Send) -> None:
    req, expect = CASES[case]
    status, body = send(req)
    assert_answer(status, body, expected(expect, fake.profile.name), case)
    assert fake.model.meetings == {}, "a refused request must change nothing"


@pytest.mark.parametrize("library", ["httpx", "requests"])
@pytest.mark.parametrize("case", SOCKET_CASES)
def test_error_matrix_over_a_real_socket(
    case: str, library: str, fake: FakeVexa, alice: Account
) -> None:
    req, expect = CASES[case]
    answer = expected(expect, fake.profile.name)
    with fake.serve() as server:
        if library == "httpx":
            with httpx.Client(base_url=server.url, timeout=10) as http:
                status, body = httpx_sender(http, alice)(req)
        else:
            with requests.Session() as session:
                status, body = requests_sender(session, server.url, alice)(req)
    assert_answer(status, body, answer, f"{case} over {library}")
    with fake.client() as in_process:
        assert httpx_sender(in_process, alice)(req) == (status, body), (
            "socket and in-process differ"
        )


# ---------------------------------------------------------------------------- auth on every route

#: A valid request for every route of the fake, so only the key can be wrong.
VALID_BODY: dict[tuple[str, str], Any] = {
    ("POST", "/bots"): MEET,
    ("PUT", "/bots/{platform}/{native_meeting_id}/config"): {"language": "en"},
    ("PATCH", "/meetings/{platform}/{native_meeting_id}"): {"data": {"name": "x"}},
    ("PUT", "/user/webhook"): {"webhook_url": "https://hooks.example.com/vexa"},
}
USER_ROUTES = sorted(
    (route.method, route.openapi_path) for route in ROUTER.routes if route.handler.auth != "none"
)


def concrete(path: str) -> str:
    return (
        path.replace("{platform}", "google_meet")
        .replace("{native_meeting_id}", "abc-defg-hij")
        .replace("{meeting_id}", "1")
    )


def test_every_route_with_a_body_has_a_valid_one() -> None:
    with_body = {
        (route.method, route.openapi_path) for route in ROUTER.routes if route.handler.body
    }
    assert with_body == set(VALID_BODY)


@pytest.mark.parametrize("key", ["none", "unknown", "revoked"])
@pytest.mark.parametrize("route", USER_ROUTES)
def test_every_user_route_refuses_a_bad_key(
    route: tuple[str, str], key: str, fake: FakeVexa, alice: Account, api: Api
) -> None:
    method, path = route
    body = VALID_BODY.get(route, _UNSET)
    extra = {} if body is _UNSET else {"json": body}
    if key == "none":
        account, expect = None, MISSING_KEY
    elif key == "unknown":
        account, expect = Account(0, "nobody@example.com", "vxa_bot_" + "Z" * 32), INVALID_KEY
    else:
        fake.model.revoke_key(fake.model.keys[alice.api_key].id)
        account, expect = alice, INVALID_KEY
    api.check(api(account, method, concrete(path), **extra), expect)
    assert fake.model.meetings == {}


def test_revoked_and_expired_keys(fake: FakeVexa, alice: Account, api: Api) -> None:
    spare = fake.create_key(alice)
    assert api(alice, "GET", "/auth/me").status_code == 200
    fake.model.revoke_key(fake.model.keys[alice.api_key].id)
    api.check(api(alice, "GET", "/auth/me"), INVALID_KEY)
    spare_account = Account(alice.user_id, alice.email, spare)
    assert api(spare_account, "GET", "/auth/me").status_code == 200, "revocation is per key"

    expiring = fake.model.create_key(alice.user_id, ("bot", "tx"), expires_in=60)
    short = Account(alice.user_id, alice.email, expiring.token)
    fake.advance(59)
    assert api(short, "GET", "/meetings").status_code == 200
    fake.advance(1)
    api.check(api(short, "GET", "/meetings"), INVALID_KEY)
    api.check(api(short, "POST", "/bots", json=MEET), INVALID_KEY)
    assert api(spare_account, "GET", "/meetings").status_code == 200


SCOPE_CASES = [
    (("bot",), "GET", "/meetings", _UNSET),
    (("bot",), "GET", "/meetings/1", _UNSET),
    (("bot",), "GET", "/transcripts/google_meet/abc-defg-hij", _UNSET),
    (("bot",), "PATCH", "/meetings/google_meet/abc-defg-hij", {"data": {"name": "x"}}),
    (("bot", "browser"), "DELETE", "/meetings/google_meet/abc-defg-hij", _UNSET),
    (("tx",), "POST", "/bots", MEET),
    (("tx",), "GET", "/bots/status", _UNSET),
    (("tx",), "DELETE", "/bots/google_meet/abc-defg-hij", _UNSET),
    (("tx",), "PUT", "/user/webhook", {"webhook_url": "https://hooks.example.com/vexa"}),
    (("browser",), "PUT", "/user/webhook", {"webhook_url": "https://hooks.example.com/vexa"}),
]


@pytest.mark.parametrize(("scopes", "method", "url", "body"), SCOPE_CASES)
def test_a_key_without_the_scope_gets_403(
    scopes: tuple[str, ...], method: str, url: str, body: Any, fake: FakeVexa, api: Api
) -> None:
    limited = fake.create_user(scopes=scopes)
    extra = {} if body is _UNSET else {"json": body}
    api.check(api(limited, method, url, **extra), Answer(403, NO_SCOPE))
    assert fake.model.meetings == {}


def test_the_scopes_a_route_needs_are_enough(fake: FakeVexa, api: Api) -> None:
    """The positive side of the scope table (vexa-api.md §2), so the 403s above mean something."""
    bot_only = fake.create_user(scopes=("bot",))
    browser_only = fake.create_user(scopes=("browser",))
    tx_only = fake.create_user(scopes=("tx",))
    assert api(bot_only, "GET", "/bots/status").status_code == 200
    assert (
        api(bot_only, "PUT", "/user/webhook", json=VALID_BODY[("PUT", "/user/webhook")]).status_code
        == 200
    )
    assert api(browser_only, "GET", "/bots").status_code == 200
    api.start(browser_only)
    assert api(tx_only, "GET", "/meetings").status_code == 200
    assert api(tx_only, "GET", "/meetings").json() == {"meetings": []}


# ---------------------------------------------------------------------------- isolation


def test_a_strangers_meeting_is_indistinguishable_from_a_missing_one(
    fake: FakeVexa, alice: Account, api: Api
) -> None:
    meeting_id = api.start(alice)
    fake.advance(3 + 20)  # active, with twenty seconds of speech
    bob = fake.create_user("bob@example.com")
    missing_id, missing_native = 999, "zzz-zzzz-zzz"

    def probes(ident: int, native: str) -> list[tuple[str, str, dict[str, Any], Answer]]:
        key = f"google_meet/{native}"
        not_found = f"Meeting not found for platform google_meet and ID {native}"
        return [
            ("GET", f"/bots/id/{ident}", {}, Answer(404, "Meeting not found")),
            ("GET", f"/meetings/{ident}", {}, Answer(404, "Meeting not found")),
            ("GET", f"/transcripts/{key}", {}, Answer(404, not_found)),
            (
                "GET",
                f"/transcripts/{key}?meeting_id={ident}",
                {},
                Answer(
                    404,
                    f"Meeting not found for platform google_meet, ID {native}, "
                    f"and meeting_id {ident}",
                ),
            ),
            ("DELETE", f"/bots/{key}", {}, Answer(404, "No meeting found to stop.")),
            (
                "PUT",
                f"/bots/{key}/config",
                {"json": {"language": "es"}},
                Answer(404, "No active meeting found"),
            ),
            (
                "PATCH",
                f"/meetings/{key}",
                {"json": {"data": {"name": "mine"}}},
                Answer(404, not_found),
            ),
            ("DELETE", f"/meetings/{key}", {}, Answer(404, not_found)),
        ]

    for (method, url, extra, answer), (m2, url2, extra2, answer2) in zip(
        probes(meeting_id, "abc-defg-hij"), probes(missing_id, missing_native), strict=True
    ):
        api.check(api(bob, method, url, **extra), answer)
        api.check(api(bob, m2, url2, **extra2), answer2)
        same = answer.detail == answer2.detail or (
            isinstance(answer.detail, str)
            and isinstance(answer2.detail, str)
            and answer.detail.replace("abc-defg-hij", "?").replace(str(meeting_id), "#")
            == answer2.detail.replace(missing_native, "?").replace(str(missing_id), "#")
        )
        assert same, f"{method} {url}: a stranger's meeting answers differently from a missing one"

    # Nothing bob tried touched alice's meeting, and bob sees none of it.
    mine = api(alice, "GET", f"/meetings/{meeting_id}").json()
    assert mine["status"] == "active"
    assert "name" not in mine["data"]
    assert mine["data"].get("language") is None
    assert api(bob, "GET", "/meetings").json() == {"meetings": []}
    assert api(bob, "GET", "/bots/status").json() == {"running_bots": []}
    assert api(bob, "GET", "/bots").json() == {"meetings": [], "has_more": False}

    # Finished, alice's meeting is still not bob's to delete.
    assert api(alice, "DELETE", "/bots/google_meet/abc-defg-hij").status_code == 202
    fake.advance(2)
    api.check(
        api(bob, "DELETE", "/meetings/google_meet/abc-defg-hij"),
        Answer(404, "Meeting not found for platform google_meet and ID abc-defg-hij"),
    )
    assert api(alice, "GET", "/transcripts/google_meet/abc-defg-hij").json()["segments"]


# ---------------------------------------------------------------------------- POST /bots limits


def test_a_second_live_bot_in_the_same_meeting_is_a_409(
    fake: FakeVexa, alice: Account, api: Api
) -> None:
    api.start(alice)
    for _ in range(4):  # requested, joining, awaiting_admission, active: all live
        api.check(api(alice, "POST", "/bots", json=MEET), Answer(409, DUPLICATE))
        fake.advance(1)
    assert fake.meeting(1).status == "active"
    bob = fake.create_user("bob@example.com")
    api.start(bob)  # dedupe is per user: bob may have a bot in the same meeting
    assert api(alice, "DELETE", "/bots/google_meet/abc-defg-hij").status_code == 202
    second = api.start(alice)  # `stopping` is not live: a new run may start
    assert second == 3
    api.check(api(alice, "POST", "/bots", json=MEET), Answer(409, DUPLICATE))


def test_the_concurrency_cap(fake: FakeVexa, api: Api) -> None:
    capped = fake.create_user(max_concurrent_bots=1)
    api.start(capped)
    api.check(
        api(capped, "POST", "/bots", json=TEAMS), Answer(403, "Concurrent bot limit reached (1/1).")
    )
    # The duplicate check comes first (vexa-api.md §4.1 evaluation order).
    api.check(api(capped, "POST", "/bots", json=MEET), Answer(409, DUPLICATE))
    fake.advance(3)
    api.check(
        api(capped, "POST", "/bots", json=TEAMS), Answer(403, "Concurrent bot limit reached (1/1).")
    )
    assert api(capped, "DELETE", "/bots/google_meet/abc-defg-hij").status_code == 202
    api.start(capped, "teams")  # a stopping bot no longer counts

    depleted = fake.create_user(max_concurrent_bots=0)
    api.check(
        api(depleted, "POST", "/bots", json=MEET),
        Answer(
            403,
            "Concurrent bot quota is depleted (limit is 0). "
            "Contact your administrator to increase it.",
        ),
    )
    assert [m.user_id for m in fake.model.meetings.values()] == [capped.user_id] * 2


# ---------------------------------------------------------------------------- lifecycle conflicts


def test_deleting_a_live_meeting_is_a_409(fake: FakeVexa, alice: Account, api: Api) -> None:
    api.start(alice)
    url = "/meetings/google_meet/abc-defg-hij"
    prefix = "Meeting not finalized; cannot delete transcripts. Current status: "
    api.check(api(alice, "DELETE", url), Answer(409, prefix + "requested"))
    fake.advance(3 + 20)
    api.check(api(alice, "DELETE", url), Answer(409, prefix + "active"))
    assert api(alice, "DELETE", "/bots/google_meet/abc-defg-hij").status_code == 202
    api.check(api(alice, "DELETE", url), Answer(409, prefix + "stopping"))
    assert api(alice, "GET", "/transcripts/google_meet/abc-defg-hij").json()["segments"]
    fake.advance(2)
    assert api(alice, "DELETE", url).status_code == 200


def test_reconfiguring_a_bot_that_is_not_active_is_a_409(
    fake: FakeVexa, alice: Account, api: Api
) -> None:
    url = "/bots/google_meet/abc-defg-hij/config"
    api.check(
        api(alice, "PUT", url, json={"language": "es"}), Answer(404, "No active meeting found")
    )
    api.start(alice)
    for status in ("requested", "joining", "awaiting_admission"):
        api.check(
            api(alice, "PUT", url, json={"language": "es"}),
            Answer(409, f"Meeting found but not active (status: '{status}')"),
        )
        fake.advance(1)
    accepted = api(alice, "PUT", url, json={"language": "es"})
    assert (accepted.status_code, accepted.json()) == (
        202,
        {"message": "Reconfiguration request accepted and sent to the bot."},
    )


def test_patching_with_nothing_is_a_400(fake: FakeVexa, alice: Account, api: Api) -> None:
    url = "/meetings/google_meet/abc-defg-hij"
    api.check(
        api(alice, "PATCH", url, json={"data": {"name": "x"}}),
        Answer(404, "Meeting not found for platform google_meet and ID abc-defg-hij"),
    )
    api.start(alice)
    nothing = Answer(400, "No data provided for update.")
    api.check(api(alice, "PATCH", url, json={"data": {}}), nothing)
    api.check(
        api(alice, "PATCH", url, json={"data": {"name": None, "notes": None, "languages": None}}),
        nothing,
    )
    api.check(api(alice, "PATCH", url, json={"data": {"unknown_field": 1}}), nothing)
    patched = api(alice, "PATCH", url, json={"data": {"name": "Kept", "notes": None}})
    assert patched.status_code == 200
    assert patched.json()["data"]["name"] == "Kept"
    assert "notes" not in patched.json()["data"]


def test_deleting_a_meeting_twice(fake: FakeVexa, alice: Account, api: Api) -> None:
    api.start(alice)
    fake.advance(3)
    assert api(alice, "DELETE", "/bots/google_meet/abc-defg-hij").status_code == 202
    fake.advance(2)
    url = "/meetings/google_meet/abc-defg-hij"
    first = api(alice, "DELETE", url)
    assert first.status_code == 200
    again = api(alice, "DELETE", url)
    if fake.profile.name == "docs":  # the docs' "already deleted → success" path
        assert (again.status_code, again.json()) == (
            200,
            {"message": "Meeting google_meet/abc-defg-hij already deleted and data anonymized"},
        )
    else:  # v0.10 nulls the native id, so the key finds nothing (vexa-api.md §4.6)
        api.check(
            again, Answer(404, "Meeting not found for platform google_meet and ID abc-defg-hij")
        )
    # The native key is gone after anonymisation: the transcript is a 404 in every profile.
    api.check(
        api(alice, "GET", "/transcripts/google_meet/abc-defg-hij"),
        Answer(404, "Meeting not found for platform google_meet and ID abc-defg-hij"),
    )


def test_stopping(fake: FakeVexa, alice: Account, api: Api) -> None:
    url = "/bots/google_meet/abc-defg-hij"
    api.check(api(alice, "DELETE", url), Answer(404, "No meeting found to stop."))
    meeting_id = api.start(alice)
    fake.advance(3)
    for _ in range(2):  # a repeated stop is accepted again (v0.10 keeps answering 202)
        response = api(alice, "DELETE", url)
        assert (response.status_code, response.json()) == (202, {"message": STOP_ACCEPTED})
    assert fake.meeting(meeting_id).status == "stopping"
    fake.advance(1)
    response = api(alice, "DELETE", url)
    assert (response.status_code, response.json()) == (
        202,
        {"message": "Meeting already completed."},
    )

    failed_id = api.start(alice, "teams")
    fake.advance(2)
    fake.reject(failed_id)
    response = api(alice, "DELETE", "/bots/teams/1234567890123")
    assert (response.status_code, response.json()) == (202, {"message": "Meeting already failed."})


def test_refused_requests_are_the_same_over_the_socket(fake: FakeVexa, alice: Account) -> None:
    """Stateful answers (409, 403, 404 after a stop) over httpx and requests on a real socket."""
    bob = fake.create_user("bob@example.com", max_concurrent_bots=1)
    with fake.client() as in_process:
        Api(fake, in_process).start(alice)
        Api(fake, in_process).start(bob, "zoom")
    cases = [
        (alice, "POST", "/bots", MEET, Answer(409, DUPLICATE)),
        (bob, "POST", "/bots", TEAMS, Answer(403, "Concurrent bot limit reached (1/1).")),
        (bob, "GET", "/bots/id/1", _UNSET, Answer(404, "Meeting not found")),
        (
            bob,
            "GET",
            "/transcripts/google_meet/abc-defg-hij",
            _UNSET,
            Answer(404, "Meeting not found for platform google_meet and ID abc-defg-hij"),
        ),
        (
            alice,
            "PUT",
            "/bots/google_meet/abc-defg-hij/config",
            {"language": "es"},
            Answer(409, "Meeting found but not active (status: 'requested')"),
        ),
    ]
    with (
        fake.serve() as server,
        httpx.Client(base_url=server.url, timeout=10) as http,
        requests.Session() as session,
    ):
        for account, method, url, body, answer in cases:
            extra = {} if body is _UNSET else {"json": body}
            via_httpx = http.request(method, url, headers=account.headers, **extra)
            assert_answer(via_httpx.status_code, via_httpx.json(), answer, f"httpx {url}")
            via_requests = session.request(
                method, server.url + url, headers=account.headers, timeout=10, **extra
            )
            assert_answer(via_requests.status_code, via_requests.json(), answer, f"requests {url}")
    assert len(fake.model.meetings) == 2


# ---------------------------------------------------------------------------- non-object JSON

NON_OBJECTS = {"array": [], "array-of-objects": [MEET], "number": 42, "string": "google_meet"}


@pytest.mark.parametrize("kind", sorted(NON_OBJECTS))
def test_a_json_body_that_is_not_an_object_is_a_422_on_the_body(
    kind: str, fake: FakeVexa, send: Send
) -> None:
    """Well-formed JSON of the wrong type is a pydantic type error (422 list) in every profile."""
    value = NON_OBJECTS[kind]
    status, body = send(Req("POST", "/bots", json=value))
    assert status == 422, body
    assert not errors_of("HTTPValidationError", body)
    [item] = body["detail"]
    assert item["loc"] == ["body"]
    assert item["input"] == value
    assert fake.model.meetings == {}


@pytest.mark.parametrize("kind", sorted(NON_OBJECTS))
def test_a_non_object_body_is_reported_as_fastapi_reports_it(
    kind: str, fake: FakeVexa, send: Send
) -> None:
    status, body = send(Req("POST", "/bots", json=NON_OBJECTS[kind]))
    assert_answer(
        status,
        body,
        body_error(
            "model_attributes_type",
            ("body",),
            "Input should be a valid dictionary or object to extract fields from",
        ),
        kind,
    )


# ---------------------------------------------------------------------------- accepted look-alikes


@pytest.mark.parametrize(
    ("platform", "native", "passcode"),
    [
        # 11 chars of [a-z-]: not the abc-defg-hij code, but a valid v0.10 custom nickname
        # (^[a-z0-9][a-z0-9-]{3,38}[a-z0-9]$, vexa-api.md §5), so Vexa accepts it.
        ("google_meet", "abc-defg-hi", None),
        ("google_meet", "team-standup", None),
        ("zoom", "123456789", "free form passcode!"),  # zoom passcodes are free-form
    ],
)
def test_ids_that_look_wrong_but_are_valid(
    platform: str, native: str, passcode: str | None, fake: FakeVexa, send: Send
) -> None:
    request = {"platform": platform, "native_meeting_id": native}
    if passcode is not None:
        request["passcode"] = passcode
    status, body = send(Req("POST", "/bots", json=request))
    assert status == fake.profile.create_bot_status, body
    assert (body["platform"], body["native_meeting_id"]) == (platform, native)


# ---------------------------------------------------------------------------- who speaks first


@pytest.mark.parametrize(
    "req",
    [
        Req("POST", "/bots", key="none", content=b'{"platform":'),
        Req("POST", "/bots", key="none", json={"platform": "skype"}),
        Req("PUT", "/user/webhook", key="none", json={}),
        Req("GET", "/meetings?limit=0", key="none"),
        Req("GET", "/transcripts/google_meet/abc-defg-hij?meeting_id=x", key="none"),
    ],
    ids=["malformed-body", "body-enum", "body-missing-field", "query-bound", "query-int"],
)
def test_the_key_is_checked_before_the_body_and_query(req: Req, send: Send, fake: FakeVexa) -> None:
    """v0.10's gateway validates only its path parameters before auth (api.v1 lists a 422 only
    for operations with path parameters); bodies and queries reach meeting-api behind it."""
    status, body = send(req)
    assert_answer(status, body, MISSING_KEY[fake.profile.name], req.url)


def test_a_wrong_method_is_a_405_that_says_what_is_allowed(fake: FakeVexa) -> None:
    with fake.client() as client:
        answer = client.put("/bots/status")
    assert answer.status_code == 405
    assert answer.json() == {"detail": "Method Not Allowed"}
    assert answer.headers["allow"] == "GET"
