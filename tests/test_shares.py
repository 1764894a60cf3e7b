"""Transcript share links: minted with a key, read without one, gone when their TTL runs out.

Expiry runs on the harness clock (``fake.advance``), so a 15-minute link is checked in
microseconds. The public text is checked line by line against the transcript JSON it renders.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import requests
from contract_schemas import errors_of

from harness.fake import IN_PROCESS_BASE_URL, Account, FakeVexa
from harness.vexa.shares import transcript_text

PROFILES = ("docs", "v0.10")
PLATFORM, NATIVE = "google_meet", "abc-defg-hij"
SHARE = f"/transcripts/{PLATFORM}/{NATIVE}/share"
SHARE_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
LINE = re.compile(r"^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] [^:]+: .+$")


@pytest.fixture(params=PROFILES)
def fake(request: pytest.FixtureRequest) -> FakeVexa:
    return FakeVexa(request.param, seed=5)


@pytest.fixture
def alice(fake: FakeVexa) -> Account:
    return fake.create_user("alice@example.com")


@pytest.fixture
def client(fake: FakeVexa, alice: Account) -> Iterator[httpx.Client]:
    with fake.client(alice) as client:
        yield client


@pytest.fixture
def anonymous(fake: FakeVexa) -> Iterator[httpx.Client]:
    with fake.client() as client:
        yield client


def live_meeting(fake: FakeVexa, client: httpx.Client, talk: float = 30.0) -> int:
    created = client.post("/bots", json={"platform": PLATFORM, "native_meeting_id": NATIVE})
    assert created.status_code == fake.profile.create_bot_status, created.text
    fake.advance(3 + talk)
    meeting_id: int = created.json()["id"]
    return meeting_id


def share(client: httpx.Client, **params: Any) -> dict[str, Any]:
    answer = client.post(SHARE, params=params)
    assert answer.status_code == 200, answer.text
    assert errors_of("TranscriptShareResponse", answer.json()) == []
    body: dict[str, Any] = answer.json()
    return body


def public_path(url: str) -> str:
    return url.removeprefix(IN_PROCESS_BASE_URL)


# ---------------------------------------------------------------------------- minting


def test_a_share_link_names_the_public_text(fake: FakeVexa, client: httpx.Client) -> None:
    live_meeting(fake, client)
    body = share(client)
    assert set(body) == {"share_id", "url", "expires_at", "expires_in_seconds"}
    assert SHARE_ID.match(body["share_id"])
    assert body["url"] == f"http://vexa.test/public/transcripts/{body['share_id']}.txt"
    assert body["expires_in_seconds"] == 900
    expected = datetime.fromtimestamp(fake.clock.now() + 900, UTC)
    assert body["expires_at"] == expected.isoformat().replace("+00:00", "Z")
    assert share(client)["share_id"] != body["share_id"]


@pytest.mark.parametrize(
    ("asked", "granted"),
    [(None, 900), (0, 900), (1, 60), (-30, 60), (59, 60), (60, 60), (3600, 3600), (10**9, 86400)],
)
def test_ttl_defaults_to_900_and_is_clamped(
    fake: FakeVexa, client: httpx.Client, asked: int | None, granted: int
) -> None:
    live_meeting(fake, client)
    params = {} if asked is None else {"ttl_seconds": asked}
    assert share(client, **params)["expires_in_seconds"] == granted


def test_bad_query_and_missing_meeting(fake: FakeVexa, client: httpx.Client) -> None:
    live_meeting(fake, client)
    for params in ({"ttl_seconds": "soon"}, {"meeting_id": "first"}):
        answer = client.post(SHARE, params=params)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"][0] == "query"
    missing = client.post(f"/transcripts/{PLATFORM}/zzz-zzzz-zzz/share")
    assert missing.status_code == 404
    # The gateway passes the transcript service's raw JSON through as the detail string.
    inner = {"detail": f"Meeting not found for platform {PLATFORM} and ID zzz-zzzz-zzz"}
    assert missing.json() == {"detail": json.dumps(inner, separators=(",", ":"))}
    wrong_row = client.post(SHARE, params={"meeting_id": 999})
    assert wrong_row.status_code == 404
    assert "and meeting_id 999" in wrong_row.json()["detail"]
    bad_platform = client.post(f"/transcripts/skype/{NATIVE}/share")
    assert bad_platform.status_code == 422


def test_minting_needs_a_transcript_scoped_key(
    fake: FakeVexa, client: httpx.Client, anonymous: httpx.Client
) -> None:
    live_meeting(fake, client)
    assert anonymous.post(SHARE).status_code == 401
    bot_only = fake.create_key(fake.model.users[1].id, scopes=("bot",))
    denied = client.post(SHARE, headers={"X-API-Key": bot_only})
    assert denied.status_code == 403
    assert denied.json() == {"detail": "Insufficient scope for this endpoint"}


# ---------------------------------------------------------------------------- reading


def test_the_public_text_renders_the_transcript(
    fake: FakeVexa, client: httpx.Client, anonymous: httpx.Client
) -> None:
    live_meeting(fake, client, talk=40)
    client.delete(f"/bots/{PLATFORM}/{NATIVE}")
    fake.advance(5)
    body = share(client)
    answer = anonymous.get(public_path(body["url"]))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["cache-control"] == "no-store, no-cache, must-revalidate"
    transcript = client.get(f"/transcripts/{PLATFORM}/{NATIVE}").json()
    lines = answer.text.split("\n")
    assert lines[:9] == [
        "MEETING TRANSCRIPT",
        "",
        f"Platform: {PLATFORM}",
        f"Meeting ID: {NATIVE}",
        f"Start: {transcript['start_time']}",
        f"End: {transcript['end_time']}",
        "",
        "---",
        "",
    ]
    assert answer.text.endswith("\n")
    assert lines[-1] == ""
    segments = transcript["segments"]
    body_lines = lines[9:-1]
    assert len(body_lines) == len(segments) > 3
    for line, segment in zip(body_lines, segments, strict=True):
        assert LINE.match(line), line
        moment = datetime.fromisoformat(segment["absolute_start_time"].replace("Z", "+00:00"))
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
        assert line == f"[{stamp}] {segment['speaker']}: {segment['text']}"
    assert answer.text == transcript_text(transcript)


def test_the_text_is_fetched_afresh_on_every_read(
    fake: FakeVexa, client: httpx.Client, anonymous: httpx.Client
) -> None:
    live_meeting(fake, client, talk=10)
    path = public_path(share(client, ttl_seconds=3600)["url"])
    early = anonymous.get(path).text
    assert "End:" not in early
    fake.advance(60)
    later = anonymous.get(path).text
    assert later.startswith(early.rstrip("\n").rsplit("\n", 1)[0])  # the old lines stay
    assert later.count("\n") > early.count("\n")


def test_a_link_expires_on_the_harness_clock(
    fake: FakeVexa, client: httpx.Client, anonymous: httpx.Client
) -> None:
    live_meeting(fake, client)
    path = public_path(share(client, ttl_seconds=120)["url"])
    fake.advance(119.5)
    assert anonymous.get(path).status_code == 200
    fake.advance(0.5)
    gone = anonymous.get(path)
    assert gone.status_code == 404
    assert gone.json() == {"detail": "Share link expired or not found"}
    assert anonymous.get(path).status_code == 404


def test_unknown_or_malformed_share_ids(anonymous: httpx.Client) -> None:
    unknown = anonymous.get("/public/transcripts/AAAAAAAAAAAAAAAAAAAAAA.txt")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"detail": "Share link expired or not found"},
    )
    assert anonymous.get("/public/transcripts/AAAAAAAAAAAAAAAAAAAAAA").json() == {
        "detail": "Not Found"
    }


def test_a_revoked_key_or_a_deleted_meeting_breaks_the_link(
    fake: FakeVexa, client: httpx.Client, anonymous: httpx.Client
) -> None:
    live_meeting(fake, client)
    spare = fake.create_key(fake.model.users[1].id)
    spare_path = public_path(share(client, ttl_seconds=3600)["url"])
    with fake.client(headers={"X-API-Key": spare}) as spare_client:
        revoked_path = public_path(share(spare_client, ttl_seconds=3600)["url"])
    fake.model.revoke_key(fake.model.keys[spare].id)
    revoked = anonymous.get(revoked_path)
    assert revoked.status_code == 401
    assert revoked.json() == {
        "detail": 'Failed to fetch transcript: {"detail":"Invalid API key"}',
    }
    client.delete(f"/bots/{PLATFORM}/{NATIVE}")
    fake.advance(5)
    assert client.delete(f"/meetings/{PLATFORM}/{NATIVE}").status_code == 200
    deleted = anonymous.get(spare_path)
    assert deleted.status_code == 404
    assert deleted.json()["detail"].startswith('Failed to fetch transcript: {"detail":"Meeting')


def test_a_link_pinned_to_an_older_meeting(
    fake: FakeVexa, client: httpx.Client, anonymous: httpx.Client
) -> None:
    first = live_meeting(fake, client, talk=10)
    client.delete(f"/bots/{PLATFORM}/{NATIVE}")
    fake.advance(5)
    live_meeting(fake, client, talk=2)
    pinned = anonymous.get(public_path(share(client, meeting_id=first)["url"])).text
    newest = anonymous.get(public_path(share(client)["url"])).text
    first_end = client.get(f"/meetings/{first}").json()["end_time"]
    assert f"End: {first_end}" in pinned
    assert "End:" not in newest


def test_over_a_socket_the_url_names_the_server(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        live_meeting(fake, client)
    with fake.serve() as server:
        minted = requests.post(server.url + SHARE, headers=alice.headers, timeout=10)
        assert minted.status_code == 200
        url = minted.json()["url"]
        assert url.startswith(f"{server.url}/public/transcripts/")
        text = requests.get(url, timeout=10)  # no key at all
        assert text.status_code == 200
        assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert text.text.startswith("MEETING TRANSCRIPT\n")
        forwarded = requests.post(
            server.url + SHARE,
            headers={**alice.headers, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "v.ex"},
            timeout=10,
        )
        assert forwarded.json()["url"].startswith("https://v.ex/public/transcripts/")
    fake.check()
