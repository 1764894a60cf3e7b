"""The admin API (``X-Admin-API-Key``): users, tokens, and what the tokens then may do.

Find-or-create by email (201, then 200), clamped listing, merged ``data``, a fixed email, and
tokens minted with scopes and an expiry that gate the user routes on virtual time. A deleted
token gets 401 at once. The admin key itself: 500 when the server has none, 403 when it is
wrong. ``serve --admin-key`` is checked end to end in a real process.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from contract_schemas import is_naive_iso, is_rfc3339
from jsonschema import Draft202012Validator

from harness.fake import FakeVexa
from harness.vexa.admin import MAX_TOKEN_EXPIRES_IN
from harness.vexa.views import stamp

PROFILES = ("docs", "v0.10")
ADMIN_KEY = "admin-secret"
ADMIN = {"X-Admin-API-Key": ADMIN_KEY}
MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
TOKEN = re.compile(r"^vxa_(bot|tx|browser)_[A-Za-z0-9]{32}$")
INT_PARSING = "Input should be a valid integer, unable to parse string as an integer"

_STRING = {"type": "string"}
_NULLABLE_STRING = {"type": ["string", "null"]}
#: admin-api ``UserResponse`` / ``TokenResponse`` / ``UserDetailResponse`` as the fake emits them.
USER_RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "email": _STRING,
        "name": _NULLABLE_STRING,
        "image_url": _NULLABLE_STRING,
        "max_concurrent_bots": {"type": "integer"},
        "data": {"type": "object"},
        "created_at": _STRING,
    },
    "required": ["id", "email", "name", "image_url", "max_concurrent_bots", "data", "created_at"],
    "additionalProperties": False,
}
TOKEN_RESPONSE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "token": {"type": "string", "pattern": TOKEN.pattern},
        "user_id": {"type": "integer"},
        "scopes": {"type": "array", "items": {"enum": ["bot", "tx", "browser"]}, "minItems": 1},
        "name": _NULLABLE_STRING,
        "created_at": _STRING,
        "last_used_at": {"type": "null"},
        "expires_at": _NULLABLE_STRING,
    },
    "required": [
        "id",
        "token",
        "user_id",
        "scopes",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
    ],
    "additionalProperties": False,
}
USER_DETAIL: dict[str, Any] = {
    **USER_RESPONSE,
    "properties": {
        **USER_RESPONSE["properties"],
        "api_tokens": {"type": "array", "items": TOKEN_RESPONSE},
    },
    "required": [*USER_RESPONSE["required"], "api_tokens"],
}


def conforms(schema: dict[str, Any], body: Any) -> bool:
    return not list(Draft202012Validator(schema).iter_errors(body))


@pytest.fixture(params=PROFILES)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeVexa]:
    fake = FakeVexa(request.param, seed=5, admin_key=ADMIN_KEY)
    yield fake
    assert fake.errors == []


@pytest.fixture
def admin(fake: FakeVexa) -> Iterator[httpx.Client]:
    with fake.client(headers=ADMIN) as client:
        yield client


def new_user(admin: httpx.Client, email: str = "ada@example.com", **fields: Any) -> int:
    answer = admin.post("/admin/users", json={"email": email, **fields})
    assert answer.status_code == 201, answer.text
    user_id: int = answer.json()["id"]
    return user_id


def mint(admin: httpx.Client, user_id: int, **params: Any) -> dict[str, Any]:
    answer = admin.post(f"/admin/users/{user_id}/tokens", params=params)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def as_user(fake: FakeVexa, token: str) -> httpx.Client:
    return fake.client(headers={"X-API-Key": token})


# ---------------------------------------------------------------------------- users


def test_create_is_find_or_create_by_email(fake: FakeVexa, admin: httpx.Client) -> None:
    created = admin.post(
        "/admin/users",
        json={"email": "ada@example.com", "name": "Ada", "image_url": "https://i.example/a.png"},
    )
    assert created.status_code == 201
    body = created.json()
    assert conforms(USER_RESPONSE, body)
    assert (body["email"], body["name"], body["image_url"]) == (
        "ada@example.com",
        "Ada",
        "https://i.example/a.png",
    )
    is_stamp = is_rfc3339 if fake.profile.timestamps == "zulu" else is_naive_iso
    assert is_stamp(body["created_at"])
    again = admin.post("/admin/users", json={"email": "ada@example.com", "name": "Other"})
    assert (again.status_code, again.json()) == (200, body), "an existing user is returned as is"
    assert len(admin.get("/admin/users").json()) == 1


def test_default_bot_limit_is_a_profile_field(fake: FakeVexa, admin: httpx.Client) -> None:
    body = admin.post("/admin/users", json={"email": "ada@example.com"}).json()
    assert body["max_concurrent_bots"] == fake.profile.admin_default_max_concurrent_bots
    expected = {"docs": 1, "v0.10": 0}[fake.profile.name]
    assert body["max_concurrent_bots"] == expected
    token = mint(admin, body["id"])["token"]
    with as_user(fake, token) as client:
        sent = client.post("/bots", json=MEET)
    if fake.profile.name == "v0.10":
        assert (sent.status_code, sent.json()["detail"]) == (
            403,
            "Concurrent bot quota is depleted (limit is 0). Contact your administrator to "
            "increase it.",
        )
    else:
        assert sent.status_code == fake.profile.create_bot_status


def test_create_takes_an_explicit_limit_and_ignores_data(admin: httpx.Client) -> None:
    body = admin.post(
        "/admin/users",
        json={"email": "ada@example.com", "max_concurrent_bots": 4, "data": {"plan": "pro"}},
    ).json()
    assert (body["max_concurrent_bots"], body["data"]) == (4, {})


def test_the_email_domain_is_normalised(admin: httpx.Client) -> None:
    body = admin.post("/admin/users", json={"email": "Ada@Example.COM"}).json()
    assert body["email"] == "Ada@example.com"
    assert admin.post("/admin/users", json={"email": "Ada@example.com"}).status_code == 200


@pytest.mark.parametrize(
    ("email", "reason"),
    [
        ("ada", "An email address must have an @-sign."),
        ("@example.com", "There must be something before the @-sign."),
        ("ada@", "There must be something after the @-sign."),
        ("ada@localhost", "The part after the @-sign is not valid. It should have a period."),
        ("a@b@example.com", "The email address is not valid. It must have exactly one @-sign."),
        (
            "a da@example.com",
            "The email address contains invalid characters before the @-sign: SPACE.",
        ),
    ],
)
def test_an_invalid_email_is_refused_as_the_profile_words_it(
    fake: FakeVexa, admin: httpx.Client, email: str, reason: str
) -> None:
    answer = admin.post("/admin/users", json={"email": email})
    message = f"value is not a valid email address: {reason}"
    if fake.profile.semantic_validation_status == 400:
        assert (answer.status_code, answer.json()) == (400, {"detail": message})
    else:
        assert answer.status_code == 422
        assert answer.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "email"],
                "msg": message,
                "input": email,
                "ctx": {"reason": reason},
            }
        ]
    assert admin.get("/admin/users").json() == []


@pytest.mark.parametrize(
    ("body", "kind", "loc"),
    [
        ({}, "missing", ["body", "email"]),
        ({"email": 7}, "string_type", ["body", "email"]),
        (
            {"email": "a@b.example", "max_concurrent_bots": "many"},
            "int_parsing",
            ["body", "max_concurrent_bots"],
        ),
        ({"email": "a@b.example", "data": [1]}, "dict_type", ["body", "data"]),
    ],
)
def test_a_malformed_create_is_a_422_list(
    admin: httpx.Client, body: dict[str, Any], kind: str, loc: list[str]
) -> None:
    answer = admin.post("/admin/users", json=body)
    assert answer.status_code == 422
    assert [(e["type"], e["loc"]) for e in answer.json()["detail"]] == [(kind, loc)]


def test_list_pages_and_clamps(admin: httpx.Client) -> None:
    ids = [new_user(admin, f"u{n}@example.com") for n in range(5)]
    listed = admin.get("/admin/users").json()
    assert [u["id"] for u in listed] == ids
    assert all(conforms(USER_RESPONSE, u) for u in listed)
    page = admin.get("/admin/users", params={"skip": 1, "limit": 2}).json()
    assert [u["id"] for u in page] == ids[1:3]
    assert [u["id"] for u in admin.get("/admin/users", params={"limit": 0}).json()] == ids[:1]
    assert len(admin.get("/admin/users", params={"skip": -3, "limit": 10_000}).json()) == 5
    assert admin.get("/admin/users", params={"skip": 9}).json() == []
    bad = admin.get("/admin/users", params={"limit": "all"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {"type": "int_parsing", "loc": ["query", "limit"], "msg": INT_PARSING, "input": "all"}
    ]


def test_list_caps_a_page_at_100(admin: httpx.Client) -> None:
    for n in range(101):
        new_user(admin, f"u{n}@example.com")
    assert len(admin.get("/admin/users", params={"limit": 500}).json()) == 100


def test_get_by_id_includes_the_tokens_and_the_raw_data(
    fake: FakeVexa, admin: httpx.Client
) -> None:
    user_id = new_user(admin)
    first = mint(admin, user_id, name="ci")
    second = mint(admin, user_id, scopes="tx")
    admin.patch(f"/admin/users/{user_id}", json={"data": {"webhook_secret": "s3cret"}})
    body = admin.get(f"/admin/users/{user_id}").json()
    assert conforms(USER_DETAIL, body)
    assert body["api_tokens"] == [first, second]
    assert body["data"] == {"webhook_secret": "s3cret"}, "UserDetailResponse does not redact"
    missing = admin.get("/admin/users/999")
    assert (missing.status_code, missing.json()) == (404, {"detail": "User not found"})
    bad = admin.get("/admin/users/ada")
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["path", "user_id"]


def test_get_by_email(admin: httpx.Client) -> None:
    user_id = new_user(admin)
    body = admin.get("/admin/users/email/ada@example.com").json()
    assert (body["id"], conforms(USER_RESPONSE, body)) == (user_id, True)
    missing = admin.get("/admin/users/email/bob@example.com")
    assert (missing.status_code, missing.json()) == (404, {"detail": "User not found"})


def test_patch_merges_data_and_keeps_the_email(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin, name="Ada")
    admin.patch(f"/admin/users/{user_id}", json={"data": {"plan": "pro", "team": "a"}})
    answer = admin.patch(
        f"/admin/users/{user_id}",
        json={"data": {"team": "b"}, "max_concurrent_bots": 3, "email": "ada@example.com"},
    )
    assert answer.status_code == 200
    body = answer.json()
    assert conforms(USER_RESPONSE, body)
    assert (body["name"], body["max_concurrent_bots"], body["data"]) == (
        "Ada",
        3,
        {"plan": "pro", "team": "b"},
    )
    assert admin.patch(f"/admin/users/{user_id}", json={"name": None}).json()["name"] is None
    assert admin.patch(f"/admin/users/{user_id}", json={}).json()["max_concurrent_bots"] == 3
    moved = admin.patch(f"/admin/users/{user_id}", json={"email": "eve@example.com"})
    assert (moved.status_code, moved.json()) == (
        400,
        {"detail": "Cannot change user email via this endpoint."},
    )
    missing = admin.patch("/admin/users/999", json={"name": "x"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "User not found"})
    bad = admin.patch(f"/admin/users/{user_id}", json={"max_concurrent_bots": "lots"})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "max_concurrent_bots"]


def test_a_raised_limit_lets_the_user_send_bots(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin, max_concurrent_bots=0)
    token = mint(admin, user_id)["token"]
    with as_user(fake, token) as client:
        assert client.post("/bots", json=MEET).status_code == 403
        admin.patch(f"/admin/users/{user_id}", json={"max_concurrent_bots": 1})
        assert client.post("/bots", json=MEET).status_code == fake.profile.create_bot_status


# ---------------------------------------------------------------------------- tokens


def test_a_token_defaults_to_the_bot_scope(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin)
    body = mint(admin, user_id)
    assert conforms(TOKEN_RESPONSE, body)
    assert body["token"].startswith("vxa_bot_")
    assert (body["user_id"], body["scopes"], body["name"], body["expires_at"]) == (
        user_id,
        ["bot"],
        None,
        None,
    )


def test_scopes_name_and_expiry(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin)
    body = mint(admin, user_id, scopes="tx, bot", scope="browser", name="ci", expires_in=3600)
    assert conforms(TOKEN_RESPONSE, body)
    assert body["token"].startswith("vxa_tx_"), "the prefix is the first scope"
    assert (body["scopes"], body["name"]) == (["tx", "bot"], "ci")
    assert body["expires_at"] == stamp(fake.clock.now() + 3600, fake.profile)
    assert body["created_at"] == stamp(fake.clock.now(), fake.profile)
    browser = mint(admin, user_id, scope="browser")
    assert (browser["scopes"], browser["token"][:12]) == (["browser"], "vxa_browser_")


def test_tokens_are_unique_and_deterministic_per_seed(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin)
    tokens = [mint(admin, user_id)["token"] for _ in range(3)]
    assert len(set(tokens)) == 3
    assert all(TOKEN.match(token) for token in tokens)
    twin = FakeVexa(fake.profile, seed=5, admin_key=ADMIN_KEY)
    with twin.client(headers=ADMIN) as twin_admin:
        twin_id = new_user(twin_admin)
        assert [mint(twin_admin, twin_id)["token"] for _ in range(3)] == tokens


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"scope": "admin"}, "Invalid scope(s): ['admin']. Valid: ['bot', 'browser', 'tx']"),
        ({"scopes": "x,bot,y"}, "Invalid scope(s): ['x', 'y']. Valid: ['bot', 'browser', 'tx']"),
        ({"scopes": "bot", "expires_in": 0}, "expires_in must be a positive number of seconds"),
        ({"expires_in": -5}, "expires_in must be a positive number of seconds"),
        (
            {"expires_in": MAX_TOKEN_EXPIRES_IN + 1},
            "expires_in must not exceed 7776000 seconds",
        ),
        (
            {"scope": "nope", "expires_in": 0},
            "Invalid scope(s): ['nope']. Valid: ['bot', 'browser', 'tx']",
        ),
    ],
)
def test_a_bad_mint_is_a_422_string(
    fake: FakeVexa, admin: httpx.Client, params: dict[str, Any], detail: str
) -> None:
    user_id = new_user(admin)
    answer = admin.post(f"/admin/users/{user_id}/tokens", params=params)
    assert (answer.status_code, answer.json()) == (422, {"detail": detail})
    assert admin.get(f"/admin/users/{user_id}").json()["api_tokens"] == []


def test_minting_for_a_missing_user_is_404_before_the_scope_check(admin: httpx.Client) -> None:
    answer = admin.post("/admin/users/42/tokens", params={"scope": "nope"})
    assert (answer.status_code, answer.json()) == (404, {"detail": "User not found"})
    bad = admin.post("/admin/users/1/tokens", params={"expires_in": "soon"})
    assert bad.status_code == 422
    assert bad.json()["detail"] == [
        {"type": "int_parsing", "loc": ["query", "expires_in"], "msg": INT_PARSING, "input": "soon"}
    ]


def test_token_scopes_gate_the_user_routes(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin, max_concurrent_bots=2)
    reader = mint(admin, user_id, scope="tx")["token"]
    sender = mint(admin, user_id, scope="bot")["token"]
    with as_user(fake, reader) as client:
        refused = client.post("/bots", json=MEET)
        assert (refused.status_code, refused.json()) == (
            403,
            {"detail": "Insufficient scope for this endpoint"},
        )
        assert (client.get("/meetings").status_code, client.get("/meetings").json()) == (
            200,
            {"meetings": []},
        )
    with as_user(fake, sender) as client:
        assert client.post("/bots", json=MEET).status_code == fake.profile.create_bot_status
        assert client.get("/meetings").json() == {"detail": "Insufficient scope for this endpoint"}
    with as_user(fake, reader) as client:
        [meeting] = client.get("/meetings").json()["meetings"]
        assert meeting["user_id"] == user_id


def test_a_token_expires_on_virtual_time(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin)
    token = mint(admin, user_id, scopes="bot,tx", expires_in=60)["token"]
    with as_user(fake, token) as client:
        assert client.get("/meetings").status_code == 200
        fake.advance(59.5)
        assert client.get("/meetings").status_code == 200
        fake.advance(0.5)
        answer = client.get("/meetings")
        assert (answer.status_code, answer.json()) == (401, {"detail": "Invalid API key"})


def test_a_deleted_token_is_refused_at_once(fake: FakeVexa, admin: httpx.Client) -> None:
    user_id = new_user(admin)
    doomed = mint(admin, user_id, scopes="tx")
    kept = mint(admin, user_id, scopes="tx")
    deleted = admin.delete(f"/admin/tokens/{doomed['id']}")
    assert (deleted.status_code, deleted.content) == (204, b"")
    with as_user(fake, doomed["token"]) as client:
        answer = client.get("/meetings")
        assert (answer.status_code, answer.json()) == (401, {"detail": "Invalid API key"})
    with as_user(fake, kept["token"]) as client:
        assert client.get("/meetings").status_code == 200
    assert admin.get(f"/admin/users/{user_id}").json()["api_tokens"] == [kept]
    again = admin.delete(f"/admin/tokens/{doomed['id']}")
    assert (again.status_code, again.json()) == (404, {"detail": "Token not found"})
    missing = admin.delete("/admin/tokens/999")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Token not found"})
    assert admin.delete("/admin/tokens/first").status_code == 422


def test_keys_made_by_the_harness_are_admin_tokens_too(fake: FakeVexa, admin: httpx.Client) -> None:
    account = fake.create_user("carol@example.com")
    [token] = admin.get(f"/admin/users/{account.user_id}").json()["api_tokens"]
    assert token["token"] == account.api_key
    admin.delete(f"/admin/tokens/{token['id']}")
    with fake.client(account) as client:
        assert client.get("/auth/me").json() == {"detail": "Invalid API key"}


# ---------------------------------------------------------------------------- the admin key

ADMIN_ROUTES = [
    ("POST", "/admin/users", {"email": "ada@example.com"}),
    ("GET", "/admin/users", None),
    ("GET", "/admin/users/1", None),
    ("GET", "/admin/users/email/ada@example.com", None),
    ("PATCH", "/admin/users/1", {"name": "x"}),
    ("POST", "/admin/users/1/tokens", None),
    ("DELETE", "/admin/tokens/1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_a_missing_or_wrong_admin_key_is_403(
    fake: FakeVexa, method: str, path: str, body: Any
) -> None:
    account = fake.create_user("ada@example.com")
    refused = (403, {"detail": "Invalid or missing admin token."})
    for headers in ({}, {"X-Admin-API-Key": "guess"}, {"X-Admin-API-Key": ""}, account.headers):
        with fake.client(headers=headers) as client:
            answer = client.request(method, path, json=body)
        assert (answer.status_code, answer.json()) == refused
    assert len(fake.model.users) == 1
    assert len(fake.model.keys) == 1


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_an_unconfigured_admin_key_is_500(profile: str, method: str, path: str, body: Any) -> None:
    for fake in (FakeVexa(profile), FakeVexa(profile, admin_key="")):
        with fake.client(headers=ADMIN) as client:
            answer = client.request(method, path, json=body)
        assert (answer.status_code, answer.json()) == (
            500,
            {"detail": "Admin authentication is not configured on the server."},
        )
        assert fake.errors == []


# ---------------------------------------------------------------------------- serve --admin-key

LISTENING = re.compile(r"^listening on (http://127\.0\.0\.1:\d+)$")


def test_serve_admin_key_over_a_real_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--admin-key", "k"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().rstrip("\n")
        match = LISTENING.match(first)
        assert match, first
        url = match.group(1)
        lines = [process.stdout.readline().rstrip("\n") for _ in range(3)]
        assert "admin api: enabled (X-Admin-API-Key)" in lines
        with httpx.Client(base_url=url, headers={"X-Admin-API-Key": "k"}, timeout=10) as admin:
            assert admin.get("/admin/users", headers={"X-Admin-API-Key": "x"}).status_code == 403
            created = admin.post("/admin/users", json={"email": "ops@example.com"})
            assert created.status_code == 201
            assert created.json()["max_concurrent_bots"] == 1  # the docs profile
            user_id = created.json()["id"]
            token = admin.post(f"/admin/users/{user_id}/tokens", params={"scopes": "bot,tx"}).json()
        with httpx.Client(base_url=url, headers={"X-API-Key": token["token"]}) as client:
            me = client.get("/auth/me").json()
            assert (me["user_id"], me["scopes"]) == (user_id, ["bot", "tx"])
            assert client.post("/bots", json=MEET).status_code == 202
            assert client.get("/meetings").json()["meetings"][0]["user_id"] == user_id
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
    assert process.returncode == 0


def test_serve_without_admin_key_answers_500() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = LISTENING.match(process.stdout.readline().rstrip("\n"))
        assert match
        answer = httpx.get(f"{match.group(1)}/admin/users", headers=ADMIN)
        assert answer.status_code == 500
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
