"""The interactive bot routes (v0.10 voice agent): speak, chat, screen, avatar, events.

Every command needs the caller's *active* meeting for the key and answers 202
``{"message", "meeting_id"}``. Its 400s come after the meeting lookup. ``GET …/chat`` reads
the newest meeting in any status, and ``GET …/events`` lists what the bot was told, between
its status changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from contract_schemas import errors_of
from jsonschema import Draft202012Validator

from harness.fake import Account, FakeVexa
from harness.vexa.interactive import CHAT_LINES
from harness.vexa.transcripts import SPEAKERS

PROFILES = ("docs", "v0.10")
NATIVE = "abc-defg-hij"
KEY = f"/bots/google_meet/{NATIVE}"
NO_ACTIVE = f"No active meeting found for google_meet/{NATIVE}"
NO_MEETING = f"No meeting found for google_meet/{NATIVE}"

#: (method, path suffix, body, Vexa's 202 message): one call per command route.
COMMANDS: list[tuple[str, str, Any, str]] = [
    ("POST", "/speak", {"text": "Hello everyone"}, "Speak command sent"),
    ("POST", "/speak", {"audio_url": "https://cdn.example/a.wav"}, "Speak command sent"),
    ("POST", "/speak", {"audio_base64": "UklGRg=="}, "Speak command sent"),
    ("DELETE", "/speak", None, "Speak stop command sent"),
    ("POST", "/chat", {"text": "Notes are in the doc"}, "Chat message sent"),
    ("POST", "/screen", {"type": "image", "url": "https://x.example/a.png"}, "Screen content "),
    ("POST", "/screen", {"type": "html", "html": "<h1>Hi</h1>"}, "Screen content "),
    ("DELETE", "/screen", None, "Screen stop command sent"),
    ("PUT", "/avatar", {"url": "https://x.example/me.png"}, "Avatar set command sent"),
    ("PUT", "/avatar", {"image_base64": "data:image/png;base64,AA=="}, "Avatar set command sent"),
    ("DELETE", "/avatar", None, "Avatar reset command sent"),
    ("PATCH", "/voice-agent-settings", {"url": "https://agent.example/ws"}, "Voice agent "),
    ("PATCH", "/voice-agent-settings", {"url": None}, "Voice agent "),
]
FULL_MESSAGES = {
    "Screen content ": "Screen content command sent",
    "Voice agent ": "Voice agent settings command sent",
}
#: Every route of the family with a valid body, for the 404/auth matrices.
ROUTES: list[tuple[str, str, Any]] = [
    *((method, suffix, body) for method, suffix, body, _ in COMMANDS[::2]),
    ("GET", "/events", None),
]

#: The 202 body every command answers (what the openapi component must say).
ACCEPTED_SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "meeting_id": {"type": "integer"}},
    "required": ["message", "meeting_id"],
    "additionalProperties": False,
}
EVENTS_SCHEMA = {
    "type": "object",
    "properties": {
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "timestamp": {"type": "number"},
                    "data": {"type": "object"},
                },
                "required": ["type", "timestamp", "data"],
                "additionalProperties": False,
            },
        },
        "meeting_id": {"type": "integer"},
        "count": {"type": "integer", "minimum": 0},
    },
    "required": ["events", "meeting_id", "count"],
    "additionalProperties": False,
}


@pytest.fixture(params=PROFILES)
def fake(request: pytest.FixtureRequest) -> Iterator[FakeVexa]:
    fake = FakeVexa(request.param, seed=3)
    yield fake
    assert fake.errors == []


@pytest.fixture
def alice(fake: FakeVexa) -> Account:
    return fake.create_user("alice@example.com")


@pytest.fixture
def client(fake: FakeVexa, alice: Account) -> Iterator[httpx.Client]:
    with fake.client(alice) as client:
        yield client


def send_bot(client: httpx.Client, native: str = NATIVE) -> int:
    created = client.post("/bots", json={"platform": "google_meet", "native_meeting_id": native})
    assert created.status_code in (201, 202), created.text
    meeting_id: int = created.json()["id"]
    return meeting_id


def active_bot(fake: FakeVexa, client: httpx.Client, native: str = NATIVE) -> int:
    """A bot that reached ``active`` (the default lifecycle takes 3 s)."""
    meeting_id = send_bot(client, native)
    fake.advance(3)
    assert fake.meeting(meeting_id).status == "active"
    return meeting_id


def call(client: httpx.Client, method: str, suffix: str, body: Any = None) -> httpx.Response:
    if body is None:
        return client.request(method, KEY + suffix)
    return client.request(method, KEY + suffix, json=body)


# ---------------------------------------------------------------------------- success


@pytest.mark.parametrize(("method", "suffix", "body", "message"), COMMANDS)
def test_every_command_answers_202_with_the_meeting_id(
    fake: FakeVexa, client: httpx.Client, method: str, suffix: str, body: Any, message: str
) -> None:
    meeting_id = active_bot(fake, client)
    answer = call(client, method, suffix, body)
    assert answer.status_code == 202
    assert answer.json() == {
        "message": FULL_MESSAGES.get(message, message),
        "meeting_id": meeting_id,
    }
    assert not list(Draft202012Validator(ACCEPTED_SCHEMA).iter_errors(answer.json()))


def test_commands_reach_the_newest_active_meeting_not_an_older_one(
    fake: FakeVexa, client: httpx.Client
) -> None:
    first = active_bot(fake, client)
    fake.end(first)
    second = active_bot(fake, client)
    assert call(client, "POST", "/speak", {"text": "hi"}).json()["meeting_id"] == second
    assert call(client, "GET", "/events").json()["meeting_id"] == second


def test_a_loose_body_is_read_like_a_python_dict(fake: FakeVexa, client: httpx.Client) -> None:
    """Vexa reads ``req: dict``: unknown keys are fine, any truthy ``text`` is spoken."""
    active_bot(fake, client)
    assert call(client, "POST", "/speak", {"text": 5, "extra": [1]}).status_code == 202
    assert call(client, "POST", "/chat", {"text": 7}).status_code == 202
    messages = client.get(KEY + "/chat").json()["messages"]
    assert [m["text"] for m in messages if m["is_from_bot"]] == ["7"]


# ---------------------------------------------------------------------------- 404s and isolation


@pytest.mark.parametrize(("method", "suffix", "body"), ROUTES)
def test_without_an_active_meeting_every_route_is_404(
    fake: FakeVexa, client: httpx.Client, method: str, suffix: str, body: Any
) -> None:
    assert call(client, method, suffix, body).json() == {"detail": NO_ACTIVE}
    meeting_id = send_bot(client)  # requested, not active yet
    fake.advance(2)  # awaiting_admission
    answer = call(client, method, suffix, body)
    assert (answer.status_code, answer.json()) == (404, {"detail": NO_ACTIVE})
    fake.advance(1)
    assert call(client, method, suffix, body).status_code in (200, 202)
    assert client.delete(KEY).status_code == 202  # stopping
    assert call(client, method, suffix, body).json() == {"detail": NO_ACTIVE}
    fake.advance(5)
    assert fake.meeting(meeting_id).status == "completed"
    answer = call(client, method, suffix, body)
    assert (answer.status_code, answer.json()) == (404, {"detail": NO_ACTIVE})


@pytest.mark.parametrize(("method", "suffix", "body"), [*ROUTES, ("GET", "/chat", None)])
def test_another_users_active_bot_is_indistinguishable_from_none(
    fake: FakeVexa, client: httpx.Client, method: str, suffix: str, body: Any
) -> None:
    active_bot(fake, client)
    bob = fake.create_user("bob@example.com")
    with fake.client(bob) as as_bob:
        answer = call(as_bob, method, suffix, body)
    expected = NO_MEETING if (method, suffix) == ("GET", "/chat") else NO_ACTIVE
    assert (answer.status_code, answer.json()) == (404, {"detail": expected})


def test_the_400s_come_after_the_meeting_lookup(client: httpx.Client) -> None:
    for suffix, method in (("/speak", "POST"), ("/chat", "POST"), ("/screen", "POST")):
        assert call(client, method, suffix, {}).json() == {"detail": NO_ACTIVE}
    assert call(client, "PUT", "/avatar", {}).json() == {"detail": NO_ACTIVE}


# ---------------------------------------------------------------------------- 400s


@pytest.mark.parametrize(
    ("method", "suffix", "body", "detail"),
    [
        ("POST", "/speak", {}, "Must provide one of: text, audio_url, or audio_base64"),
        (
            "POST",
            "/speak",
            {"text": "", "voice": "x"},
            "Must provide one of: text, audio_url, or audio_base64",
        ),
        (
            "POST",
            "/speak",
            {"audio_url": None},
            "Must provide one of: text, audio_url, or audio_base64",
        ),
        ("POST", "/chat", {}, "text is required"),
        ("POST", "/chat", {"text": ""}, "text is required"),
        ("POST", "/screen", {}, "type must be one of: image, video, url, html"),
        (
            "POST",
            "/screen",
            {"type": "pdf", "url": "https://x.example"},
            "type must be one of: image, video, url, html",
        ),
        ("POST", "/screen", {"type": "html"}, "html content is required for type=html"),
        (
            "POST",
            "/screen",
            {"type": "html", "url": "https://x.example"},
            "html content is required for type=html",
        ),
        ("POST", "/screen", {"type": "image"}, "url is required for type=image"),
        ("POST", "/screen", {"type": "video", "url": ""}, "url is required for type=video"),
        ("POST", "/screen", {"type": "url", "html": "<p>"}, "url is required for type=url"),
        ("PUT", "/avatar", {}, "Either 'url' or 'image_base64' must be provided"),
        (
            "PUT",
            "/avatar",
            {"url": "", "image_base64": None},
            "Either 'url' or 'image_base64' must be provided",
        ),
    ],
)
def test_missing_content_is_a_400_with_vexas_words(
    fake: FakeVexa,
    client: httpx.Client,
    method: str,
    suffix: str,
    body: dict[str, Any],
    detail: str,
) -> None:
    active_bot(fake, client)
    answer = call(client, method, suffix, body)
    assert (answer.status_code, answer.json()) == (400, {"detail": detail})
    assert [e["type"] for e in client.get(KEY + "/events").json()["events"]] == [
        "meeting.status"
    ] * 3, "a refused command must not reach the bot"


# ---------------------------------------------------------------------------- 422s


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", "/speak"), ("POST", "/chat"), ("POST", "/screen"), ("PUT", "/avatar")],
)
@pytest.mark.parametrize("body", [[1, 2], "text", 3, True])
def test_a_body_that_is_not_a_json_object_is_a_422(
    fake: FakeVexa, client: httpx.Client, method: str, suffix: str, body: Any
) -> None:
    active_bot(fake, client)
    answer = client.request(method, KEY + suffix, json=body)
    assert answer.status_code == 422
    assert answer.json() == {
        "detail": [
            {
                "type": "dict_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary",
                "input": body,
            }
        ]
    }
    assert not errors_of("HTTPValidationError", answer.json())


@pytest.mark.parametrize(("method", "suffix"), [("POST", "/speak"), ("PUT", "/avatar")])
def test_a_missing_body_is_a_422(
    fake: FakeVexa, client: httpx.Client, method: str, suffix: str
) -> None:
    active_bot(fake, client)
    answer = client.request(method, KEY + suffix)
    assert answer.status_code == 422
    assert answer.json()["detail"] == [
        {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}
    ]


def test_malformed_json_is_answered_as_the_profile_says(
    fake: FakeVexa, client: httpx.Client
) -> None:
    active_bot(fake, client)
    answer = client.post(
        KEY + "/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    if fake.profile.malformed_body_status == 400:
        assert answer.json() == {
            "detail": "Malformed request body: Expecting property name enclosed in double quotes"
        }
    else:
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.parametrize(
    ("url", "kind", "msg"),
    [
        ("ftp://agent.example/ws", "url_scheme", "URL scheme should be 'http' or 'https'"),
        ("not a url", "url_parsing", "Input should be a valid URL, relative URL without a base"),
        ("", "url_parsing", "Input should be a valid URL, input is empty"),
        (42, "url_type", "URL input should be a string or URL"),
    ],
)
def test_an_invalid_voice_agent_url_is_a_422_in_every_profile(
    fake: FakeVexa, client: httpx.Client, url: Any, kind: str, msg: str
) -> None:
    active_bot(fake, client)
    answer = call(client, "PATCH", "/voice-agent-settings", {"url": url})
    assert answer.status_code == 422
    [item] = answer.json()["detail"]
    assert (item["type"], item["loc"], item["msg"], item["input"]) == (
        kind,
        ["body", "url"],
        msg,
        url,
    )


@pytest.mark.parametrize(
    ("raw", "kind", "msg"),
    [
        ("0", "greater_than_equal", "Input should be greater than or equal to 1"),
        ("201", "less_than_equal", "Input should be less than or equal to 200"),
        (
            "many",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
    ],
)
def test_events_limit_is_1_to_200(
    fake: FakeVexa, client: httpx.Client, raw: str, kind: str, msg: str
) -> None:
    active_bot(fake, client)
    answer = client.get(KEY + "/events", params={"limit": raw})
    assert answer.status_code == 422
    [item] = answer.json()["detail"]
    assert (item["type"], item["loc"], item["msg"], item["input"]) == (
        kind,
        ["query", "limit"],
        msg,
        raw,
    )


def test_an_unknown_platform_in_the_path_is_a_422(client: httpx.Client) -> None:
    answer = client.post("/bots/skype/abc/speak", json={"text": "hi"})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "enum"


# ---------------------------------------------------------------------------- auth and scopes


@pytest.mark.parametrize(("method", "suffix", "body"), [*ROUTES, ("GET", "/chat", None)])
def test_auth_and_scope_errors(fake: FakeVexa, method: str, suffix: str, body: Any) -> None:
    with fake.client() as anonymous:
        answer = call(anonymous, method, suffix, body)
    assert (answer.status_code, answer.json()) == (401, {"detail": fake.profile.missing_key_detail})
    with fake.client(headers={"X-API-Key": "vxa_bot_nope"}) as stranger:
        assert call(stranger, method, suffix, body).json() == {"detail": "Invalid API key"}
    reader = fake.create_user("reader@example.com", scopes=("tx",))
    with fake.client(reader) as tx_only:
        answer = call(tx_only, method, suffix, body)
    assert (answer.status_code, answer.json()) == (
        403,
        {"detail": "Insufficient scope for this endpoint"},
    )


def test_a_browser_scoped_key_may_drive_the_bot(fake: FakeVexa) -> None:
    pilot = fake.create_user("pilot@example.com", scopes=("browser",))
    with fake.client(pilot) as client:
        meeting_id = active_bot(fake, client)
        assert call(client, "POST", "/chat", {"text": "hi"}).json()["meeting_id"] == meeting_id


# ---------------------------------------------------------------------------- chat


def test_chat_round_trip(fake: FakeVexa, client: httpx.Client) -> None:
    meeting_id = active_bot(fake, client)
    bot_name = client.get(f"/bots/id/{meeting_id}").json()["data"]["bot_name"]
    sent_at = fake.clock.now()
    assert call(client, "POST", "/chat", {"text": "Recording has started."}).status_code == 202
    fake.advance(1)
    assert call(client, "POST", "/chat", {"text": "Questions welcome."}).status_code == 202
    body = client.get(KEY + "/chat").json()
    assert body == {
        "messages": [
            {
                "sender": bot_name,
                "text": "Recording has started.",
                "timestamp": sent_at,
                "is_from_bot": True,
            },
            {
                "sender": bot_name,
                "text": "Questions welcome.",
                "timestamp": sent_at + 1,
                "is_from_bot": True,
            },
        ],
        "meeting_id": meeting_id,
    }
    assert not errors_of("ChatMessagesResponse", body)


def test_participants_chat_while_the_bot_is_active_and_only_then(
    fake: FakeVexa, client: httpx.Client
) -> None:
    send_bot(client)
    assert client.get(KEY + "/chat").json()["messages"] == []  # requested: nobody to hear
    fake.advance(3)
    call(client, "POST", "/chat", {"text": "hello"})
    fake.advance(120)
    messages = client.get(KEY + "/chat").json()["messages"]
    theirs = [m for m in messages if not m["is_from_bot"]]
    assert len(theirs) == 2
    assert all(m["sender"] in SPEAKERS and m["text"] in CHAT_LINES for m in theirs)
    assert [m["timestamp"] for m in messages] == sorted(m["timestamp"] for m in messages)
    assert not errors_of("ChatMessagesResponse", {"messages": messages})


def test_participant_chat_is_a_function_of_seed_and_meeting(fake: FakeVexa) -> None:
    def transcript(seed: int) -> list[dict[str, Any]]:
        other = FakeVexa(fake.profile, seed=seed)
        with other.client(other.create_user()) as c:
            active_bot(other, c)
            other.advance(120)
            chat: list[dict[str, Any]] = c.get(KEY + "/chat").json()["messages"]
            return chat

    assert transcript(3) == transcript(3)
    assert transcript(3) != transcript(4)


def test_chat_is_readable_after_the_meeting_and_stops_growing(
    fake: FakeVexa, client: httpx.Client
) -> None:
    meeting_id = active_bot(fake, client)
    fake.advance(10)
    call(client, "POST", "/chat", {"text": "bye"})
    fake.end(meeting_id)
    after_end = client.get(KEY + "/chat").json()
    fake.advance(600)
    assert client.get(KEY + "/chat").json() == after_end
    assert after_end["meeting_id"] == meeting_id
    assert [m["text"] for m in after_end["messages"] if m["is_from_bot"]] == ["bye"]
    assert call(client, "POST", "/chat", {"text": "late"}).json() == {"detail": NO_ACTIVE}


def test_each_meeting_has_its_own_chat(fake: FakeVexa, client: httpx.Client) -> None:
    first = active_bot(fake, client)
    call(client, "POST", "/chat", {"text": "first meeting"})
    fake.end(first)
    second = send_bot(client)
    assert client.get(KEY + "/chat").json() == {"messages": [], "meeting_id": second}


def test_chat_of_a_deleted_meeting_is_gone(fake: FakeVexa, client: httpx.Client) -> None:
    meeting_id = active_bot(fake, client)
    call(client, "POST", "/chat", {"text": "secret"})
    fake.end(meeting_id)
    assert client.delete(f"/meetings/google_meet/{NATIVE}").status_code == 200
    answer = client.get(KEY + "/chat")
    assert (answer.status_code, answer.json()) == (404, {"detail": NO_MEETING})


# ---------------------------------------------------------------------------- events


def test_events_list_status_changes_then_commands_in_order(
    fake: FakeVexa, client: httpx.Client
) -> None:
    meeting_id = active_bot(fake, client)
    started = fake.clock.now()
    for method, suffix, body, _ in COMMANDS:
        assert call(client, method, suffix, body).status_code == 202
    body = client.get(KEY + "/events", params={"limit": 200}).json()
    assert not list(Draft202012Validator(EVENTS_SCHEMA).iter_errors(body))
    assert body["meeting_id"] == meeting_id
    assert body["count"] == len(body["events"]) == 3 + len(COMMANDS)
    kinds = [event["type"] for event in body["events"]]
    assert kinds == [
        "meeting.status",
        "meeting.status",
        "meeting.status",
        "speak.started",
        "speak.started",
        "speak.started",
        "speak.stopped",
        "chat.sent",
        "screen.started",
        "screen.started",
        "screen.stopped",
        "avatar.set",
        "avatar.set",
        "avatar.reset",
        "voice_agent.updated",
        "voice_agent.stopped",
    ]
    statuses = [e["data"]["to"] for e in body["events"][:3]]
    assert statuses == ["joining", "awaiting_admission", "active"]
    assert body["events"][2]["timestamp"] == started
    assert all(e["timestamp"] == started for e in body["events"][3:])
    assert body["events"][3]["data"] == {
        "text": "Hello everyone",
        "provider": "piper",
        "voice": "auto",
    }
    assert body["events"][4]["data"] == {
        "audio_url": "https://cdn.example/a.wav",
        "audio_base64": None,
        "format": "wav",
        "sample_rate": 24000,
    }
    assert body["events"][9]["data"] == {
        "type": "html",
        "url": None,
        "html": "<h1>Hi</h1>",
        "start_share": True,
    }


def test_events_default_to_the_last_20_and_honour_limit(
    fake: FakeVexa, client: httpx.Client
) -> None:
    active_bot(fake, client)
    for n in range(25):
        fake.advance(1)
        call(client, "POST", "/chat", {"text": f"line {n}"})
    default = client.get(KEY + "/events").json()
    assert default["count"] == 20
    assert [e["data"]["text"] for e in default["events"]] == [f"line {n}" for n in range(5, 25)]
    two = client.get(KEY + "/events", params={"limit": 2}).json()
    assert (two["count"], [e["data"]["text"] for e in two["events"]]) == (2, ["line 23", "line 24"])


def test_voice_agent_settings_are_saved_in_the_meeting(
    fake: FakeVexa, client: httpx.Client
) -> None:
    meeting_id = active_bot(fake, client)
    call(client, "PATCH", "/voice-agent-settings", {"url": "https://agent.example/ws"})
    data = client.get(f"/bots/id/{meeting_id}").json()["data"]
    assert data["voice_agent_enabled"] is True
    assert data["camera_enabled"] is True
    assert data["voice_agent_settings"] == {"url": "https://agent.example/ws"}
    call(client, "PATCH", "/voice-agent-settings", {})
    data = client.get(f"/bots/id/{meeting_id}").json()["data"]
    assert data["voice_agent_enabled"] is False
    assert "voice_agent_settings" not in data


# ---------------------------------------------------------------------------- over a socket


def test_speak_and_chat_over_a_real_socket() -> None:
    fake = FakeVexa("v0.10")
    alice = fake.create_user()
    with fake.serve() as server, httpx.Client(base_url=server.url, headers=alice.headers) as client:
        meeting_id = active_bot(fake, client)
        assert client.post(KEY + "/speak", json={"text": "hi"}).json() == {
            "message": "Speak command sent",
            "meeting_id": meeting_id,
        }
        assert client.post(KEY + "/chat", json={"text": "over TCP"}).status_code == 202
        messages = client.get(KEY + "/chat").json()["messages"]
        assert [m["text"] for m in messages] == ["over TCP"]
        assert client.post(KEY + "/chat", json=[]).status_code == 422
    assert fake.errors == []
