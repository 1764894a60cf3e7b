"""The fake's webhooks: which events fire, their envelopes and signatures, and the sender.

Envelopes are checked against Vexa's own webhook.v1 contract; signatures against an HMAC the
test computes itself; the sender against real sockets where it matters (a hanging receiver
must never hold up the API).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime
from typing import Any

import httpx
import pytest
from contract_schemas import SHARED
from jsonschema import Draft202012Validator
from webhook_receivers import socket_server

from harness import FakeVexa
from harness.webhooks.events import EVENT_TYPES, enabled, sample_stream
from harness.webhooks.profiles import V0_10
from harness.webhooks.receivers import AsgiReceiver, CallableReceiver, WsgiReceiver

WEBHOOK_V1 = json.loads((SHARED / "contracts/vexa/webhook.v1/webhook.schema.json").read_text())
URL = "http://receiver.test/hooks/vexa"
MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
ALL = {"meeting.started": True, "meeting.status_change": True, "bot.failed": True}


def contract(name: str) -> Draft202012Validator:
    return Draft202012Validator({**WEBHOOK_V1, "$ref": f"#/$defs/{name}"})


class Inbox:
    """A receiver that keeps every delivery (headers and raw body) and acks."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.got: list[tuple[httpx.Headers, bytes]] = []
        self.lock = threading.Lock()

    def __call__(self, headers: httpx.Headers, body: bytes) -> int:
        with self.lock:
            self.got.append((headers, body))
        return self.status

    @property
    def envelopes(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.got]

    def types(self, meeting_id: int | None = None) -> list[str]:
        return [
            e["event_type"]
            for e in self.envelopes
            if meeting_id is None
            or e["data"].get("meeting", e["data"].get("recording", {})).get("id") == meeting_id
            or e["data"].get("recording", {}).get("meeting_id") == meeting_id
        ]


def setup(
    profile: str = "v0.10", *, events: dict[str, bool] | None = None, secret: str | None = "s3cret"
) -> tuple[FakeVexa, httpx.Client, Inbox]:
    fake = FakeVexa(profile)
    inbox = Inbox()
    fake.webhooks.mount(URL, CallableReceiver(inbox))
    alice = fake.create_user()
    client = fake.client(alice)
    body: dict[str, Any] = {"webhook_url": URL}
    if secret is not None:
        body["webhook_secret"] = secret
    if events is not None:
        body["webhook_events"] = events
    client.put("/user/webhook", json=body).raise_for_status()
    return fake, client, inbox


def whole_life(fake: FakeVexa, client: httpx.Client) -> None:
    """One meeting completes by a user stop (with a recording), another fails at the lobby."""
    client.post("/bots", json=MEET).raise_for_status()
    fake.webhooks.run(5)
    client.delete("/bots/google_meet/abc-defg-hij").raise_for_status()
    fake.webhooks.run(5)
    fake.model.lifecycle = fake.model.lifecycle.__class__(auto_admit=False)
    client.post("/bots", json={"platform": "zoom", "native_meeting_id": "98765432101"})
    fake.webhooks.run(3)
    fake.reject(2)
    fake.webhooks.run(1)


# ---------------------------------------------------------------------------- which events


def test_without_a_filter_only_completion_and_recordings_fire() -> None:
    fake, client, inbox = setup()
    whole_life(fake, client)
    assert inbox.types(1) == ["meeting.completed", "recording.completed"]
    assert inbox.types(2) == ["meeting.completed"], "v0.10 fires it for failed meetings too"


def test_with_every_event_on_each_transition_sends_its_event() -> None:
    fake, client, inbox = setup(events=ALL)
    whole_life(fake, client)
    assert inbox.types(1) == [
        "meeting.status_change",  # joining
        "meeting.status_change",  # awaiting_admission
        "meeting.started",  # active
        "meeting.status_change",  # stopping
        "meeting.status_change",  # completed
        "meeting.completed",
        "recording.completed",
    ]
    assert inbox.types(2) == [
        "meeting.status_change",
        "meeting.status_change",
        "bot.failed",
        "meeting.completed",
    ]
    changes = [e["data"]["status_change"] for e in inbox.envelopes if "status_change" in e["data"]]
    assert [(c["from"], c["to"]) for c in changes[:5]] == [
        ("requested", "joining"),
        ("joining", "awaiting_admission"),
        ("awaiting_admission", "active"),
        ("active", "stopping"),
        ("stopping", "completed"),
    ]
    sources = {c["to"]: c["transition_source"] for c in changes}
    assert sources["stopping"] == "user_stop"
    assert sources["joining"] == "bot_callback"
    failed = next(e for e in inbox.envelopes if e["event_type"] == "bot.failed")["data"]
    assert failed["status_change"]["reason"] == "awaiting_admission_rejected"
    assert failed["meeting"]["failure_stage"] == "awaiting_admission"
    completed = [e for e in inbox.envelopes if e["event_type"] == "meeting.completed"]
    assert all("status_change" not in e["data"] for e in completed)


def test_meeting_completed_cannot_be_switched_off_in_v0_10() -> None:
    fake, client, inbox = setup(events={"meeting.completed": False, "meeting.started": True})
    whole_life(fake, client)
    assert inbox.types(1) == ["meeting.started", "meeting.completed", "recording.completed"]


def test_the_filter_semantics() -> None:
    assert enabled("meeting.completed", None, V0_10)
    assert not enabled("meeting.started", None, V0_10)
    assert not enabled("meeting.started", {"bot.failed": True}, V0_10)
    assert enabled("meeting.started", {"meeting.started": True}, V0_10)
    assert enabled("recording.completed", {"recording.completed": False}, V0_10)
    v012ish = V0_10.with_changes(unfiltered_events=frozenset())
    assert not enabled("meeting.completed", {"meeting.completed": False}, v012ish)
    assert enabled("meeting.completed", {"meeting.started": True}, v012ish)


def test_a_meeting_keeps_the_webhook_it_started_with() -> None:
    fake, client, inbox = setup()
    client.post("/bots", json=MEET).raise_for_status()
    other = "http://other.test/hook"
    stray = Inbox()
    fake.webhooks.mount(other, CallableReceiver(stray))
    client.put("/user/webhook", json={"webhook_url": other}).raise_for_status()
    fake.webhooks.run(5)
    client.delete("/bots/google_meet/abc-defg-hij")
    fake.webhooks.run(5)
    assert inbox.types() == ["meeting.completed", "recording.completed"]
    assert stray.got == []


def test_no_url_no_webhooks() -> None:
    fake = FakeVexa()
    alice = fake.create_user()
    with fake.client(alice) as client:
        client.post("/bots", json=MEET).raise_for_status()
        fake.advance(5)
        client.delete("/bots/google_meet/abc-defg-hij")
    fake.webhooks.run(5)
    assert fake.webhooks.deliveries() == []
    assert fake.journal.webhooks() == []


# ---------------------------------------------------------------------------- envelopes


@pytest.mark.parametrize("profile", ["docs", "v0.10"])
def test_every_envelope_the_fake_sends_validates_against_webhook_v1(profile: str) -> None:
    fake, client, inbox = setup(profile, events=ALL)
    whole_life(fake, client)
    assert set(inbox.types()) == set(EVENT_TYPES)
    envelope_schema, headers_schema = contract("Envelope"), contract("SignatureHeaders")
    for headers, body in inbox.got:
        envelope = json.loads(body)
        errors = list(envelope_schema.iter_errors(envelope))
        if envelope["event_type"] == "recording.completed":
            # v0.10 sends it; webhook.v1 (sealed from v0.12) has no such event type.
            assert [list(e.path) for e in errors] == [["event_type"]], errors
        else:
            assert errors == [], (envelope["event_type"], errors)
        assert envelope["event_id"].startswith("evt_")
        assert len(envelope["event_id"]) == 36
        int(envelope["event_id"][4:], 16)
        assert envelope["api_version"] == "2026-03-01"
        created = datetime.fromisoformat(envelope["created_at"].replace("Z", "+00:00"))
        assert created.utcoffset() is not None
        suffix = "Z" if profile == "docs" else "+00:00"
        assert envelope["created_at"].endswith(suffix)
        meeting = envelope["data"].get("meeting")
        if meeting is not None:
            assert not set(meeting["data"]) & {"webhook_url", "webhook_events", "webhook_secret"}
        as_sent = {name.decode(): value.decode() for name, value in headers.raw}
        assert list(headers_schema.iter_errors(as_sent)) == []
    ids = [e["event_id"] for e in inbox.envelopes]
    assert len(ids) == len(set(ids)), "a fresh event_id per emission"


def test_the_body_is_json_dumps_with_default_separators() -> None:
    fake, client, inbox = setup()
    whole_life(fake, client)
    for _, body in inbox.got:
        assert body == json.dumps(json.loads(body)).encode()
        assert b'", "' in body or b'": ' in body


# ---------------------------------------------------------------------------- signatures


def test_signatures_verify_with_an_independent_hmac() -> None:
    fake, client, inbox = setup(secret="  whsec_spaces_are_stripped  ")
    whole_life(fake, client)
    attempts = {e.event_id: e for e in fake.journal.webhooks()}
    assert inbox.got
    for headers, body in inbox.got:
        stamp = headers["x-webhook-timestamp"]
        expected = hmac.new(b"whsec_spaces_are_stripped", f"{stamp}.".encode() + body, "sha256")
        assert headers["x-webhook-signature"] == "sha256=" + expected.hexdigest()
        assert headers["authorization"] == "Bearer whsec_spaces_are_stripped"
        assert headers["content-type"] == "application/json"
        assert int(stamp) == int(attempts[json.loads(body)["event_id"]].at)


def test_without_a_secret_there_are_no_auth_headers() -> None:
    fake, client, inbox = setup(secret=None)
    whole_life(fake, client)
    for headers, _ in inbox.got:
        assert "authorization" not in headers
        assert "x-webhook-signature" not in headers
        assert "x-webhook-timestamp" not in headers


def test_each_retry_is_signed_afresh_over_the_same_bytes() -> None:
    fake, client, _ = setup()
    answers = iter([503, 503, 200])
    seen: list[tuple[httpx.Headers, bytes]] = []

    def flaky(headers: httpx.Headers, body: bytes) -> int:
        seen.append((headers, body))
        return next(answers) if json.loads(body)["event_type"] == "meeting.completed" else 200

    fake.webhooks.mount(URL, CallableReceiver(flaky))
    client.post("/bots", json={**MEET, "recording_enabled": False})
    fake.webhooks.run(5)
    client.delete("/bots/google_meet/abc-defg-hij")
    fake.webhooks.run(30)
    bodies = {body for _, body in seen}
    stamps = [h["x-webhook-timestamp"] for h, _ in seen]
    signatures = {h["x-webhook-signature"] for h, _ in seen}
    assert len(seen) == 3
    assert len(bodies) == 1
    assert len(set(stamps)) == 3
    assert len(signatures) == 3
    for headers, body in seen:
        mac = hmac.new(
            b"s3cret", headers["x-webhook-timestamp"].encode() + b"." + body, hashlib.sha256
        )
        assert headers["x-webhook-signature"] == "sha256=" + mac.hexdigest()


# ---------------------------------------------------------------------------- the sender


def test_a_hanging_receiver_never_holds_up_the_api() -> None:
    fake = FakeVexa("v0.10")
    alice = fake.create_user()
    with socket_server("hang") as url, fake.serve() as server:
        api = httpx.Client(base_url=server.url, headers=alice.headers, timeout=10)
        with api:
            api.put("/user/webhook", json={"webhook_url": url}).raise_for_status()
            api.post("/bots", json={**MEET, "recording_enabled": False}).raise_for_status()
            fake.advance(5)
            api.delete("/bots/google_meet/abc-defg-hij").raise_for_status()
            fake.advance(2)
            assert fake.webhooks.settle(grace=0.05)
            (stuck,) = fake.webhooks.pending()
            assert stuck.state == "in_flight"
            assert stuck.event_type == "meeting.completed"
            answer = api.post(
                "/bots", json={"platform": "zoom", "native_meeting_id": "12345678901"}
            )
            assert answer.status_code == 201
            assert api.get("/bots/status").status_code == 200
            (still,) = fake.webhooks.pending()
            assert still.state == "in_flight", "the delivery is still waiting on the receiver"
    assert fake.journal.webhooks() == [], "no answer yet: nothing to journal"
    fake.check()


def test_receivers_of_each_kind_can_be_mounted() -> None:
    got: list[tuple[str, bytes]] = []

    async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        got.append(("asgi " + scope["path"], body))
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        got.append(("wsgi " + environ["PATH_INFO"], environ["wsgi.input"].read(length)))
        start_response("204 No Content", [])
        return [b""]

    for receiver, status in ((AsgiReceiver(asgi), 202), (WsgiReceiver(wsgi), 204)):
        fake, client, _ = setup()
        fake.webhooks.mount(URL, receiver)
        whole_life(fake, client)
        assert {e.status for e in fake.journal.webhooks()} == {status}
    assert {path for path, _ in got} == {"asgi /hooks/vexa", "wsgi /hooks/vexa"}
    assert all(json.loads(body)["api_version"] == "2026-03-01" for _, body in got)


def test_a_crashing_in_process_receiver_answers_500_and_is_retried() -> None:
    fake, client, _ = setup()

    def broken(headers: httpx.Headers, body: bytes) -> int:
        raise RuntimeError("receiver bug")

    receiver = CallableReceiver(broken)
    fake.webhooks.mount(URL, receiver)
    client.post("/bots", json={**MEET, "recording_enabled": False})
    fake.webhooks.run(5)
    client.delete("/bots/google_meet/abc-defg-hij")
    fake.webhooks.run(20)
    assert [e.status for e in fake.journal.webhooks()] == [500] * 4
    assert len(receiver.crashes) == 4
    fake.check()


def test_the_sample_stream_is_the_same_for_the_same_seed() -> None:
    first, again, other = (
        sample_stream("v0.10", 4),
        sample_stream("v0.10", 4),
        sample_stream("v0.10", 5),
    )
    assert [e.body for e in first] == [e.body for e in again]
    assert [e.event_id for e in first] != [e.event_id for e in other]
    assert {e.event_type for e in first} == set(EVENT_TYPES)


# ---------------------------------------------------------------------------- the control API


def test_replay_duplicates_and_forges_over_the_control_api() -> None:
    fake, client, inbox = setup()
    whole_life(fake, client)
    first = inbox.envelopes[0]["event_id"]
    answer = client.post("/_harness/webhooks/replay", json={"event_id": first, "copies": 2})
    assert answer.status_code == 202
    assert len(answer.json()["replayed"]) == 2
    answer = client.post("/_harness/webhooks/replay", json={"event_id": first, "forge": "stale"})
    assert answer.status_code == 202
    fake.webhooks.settle()
    copies = [(h, b) for h, b in inbox.got if json.loads(b)["event_id"] == first]
    assert len(copies) == 4
    assert len({b for _, b in copies}) == 1
    stamps = [int(h["x-webhook-timestamp"]) for h, _ in copies]
    assert stamps[3] <= stamps[1] - 301, "the forged copy carries a stale timestamp"
    adversaries = [e.adversary for e in fake.journal.webhooks() if e.event_id == first]
    assert adversaries == [None, "replay", "replay", "stale"]
    listing = client.get("/_harness/webhooks").json()
    assert len(listing["deliveries"]) == len(inbox.got)
    assert (
        client.post("/_harness/webhooks/replay", json={"event_id": "evt_nope"}).status_code == 404
    )
    bad = client.post("/_harness/webhooks/replay", json={"event_id": first, "forge": "nope"})
    assert bad.status_code == 422


def test_trigger_sends_an_event_now() -> None:
    fake, client, inbox = setup()
    client.post("/bots", json=MEET).raise_for_status()
    fake.webhooks.run(5)
    answer = client.post(
        "/_harness/webhooks/trigger", json={"meeting_id": 1, "event_type": "meeting.started"}
    )
    assert answer.status_code == 202, answer.text
    assert answer.json()["envelope"]["data"]["status_change"]["to"] == "active"
    fake.webhooks.settle()
    assert inbox.types() == ["meeting.started"]
    missing = client.post(
        "/_harness/webhooks/trigger", json={"meeting_id": 9, "event_type": "meeting.started"}
    )
    assert missing.status_code == 404
    no_recording = client.post(
        "/_harness/webhooks/trigger", json={"meeting_id": 1, "event_type": "recording.completed"}
    )
    assert no_recording.status_code == 409
