"""The same scripted session gives identical answers in-process and over the real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness import FakeVexa, VirtualClock

Step = tuple[str, str, Any]

SCRIPT: list[Step | float] = [
    ("GET", "/", None),
    ("GET", "/auth/me", None),
    ("PUT", "/user/webhook", {"webhook_url": "https://hooks.example.com/v", "webhook_secret": "k"}),
    (
        "POST",
        "/bots",
        {"platform": "google_meet", "native_meeting_id": "abc-defg-hij", "language": "en"},
    ),
    ("POST", "/bots", {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}),
    ("POST", "/bots", {"platform": "teams", "native_meeting_id": "1234567890123"}),
    (
        "POST",
        "/bots",
        {"platform": "zoom", "meeting_url": "https://us05web.zoom.us/j/12345678901?pwd=xyz"},
    ),
    ("GET", "/bots/status", None),
    2.0,
    ("GET", "/bots", None),
    3.0,
    ("PUT", "/bots/google_meet/abc-defg-hij/config", {"language": "de"}),
    45.0,
    ("GET", "/transcripts/google_meet/abc-defg-hij", None),
    ("PATCH", "/meetings/google_meet/abc-defg-hij", {"data": {"name": "Weekly", "notes": "n"}}),
    ("DELETE", "/meetings/google_meet/abc-defg-hij", None),
    ("DELETE", "/bots/google_meet/abc-defg-hij", None),
    ("DELETE", "/bots/google_meet/abc-defg-hij", None),
    2.0,
    ("GET", "/meetings?limit=2&offset=0", None),
    ("GET", "/meetings/1", None),
    ("GET", "/bots/id/1", None),
    ("DELETE", "/meetings/google_meet/abc-defg-hij", None),
    ("DELETE", "/meetings/google_meet/abc-defg-hij", None),
    ("GET", "/transcripts/google_meet/abc-defg-hij", None),
    ("GET", "/meetings", None),
    ("GET", "/bots/skype/x", None),
    ("POST", "/bots", b"{not json"),
]


def run_script(
    fake: FakeVexa, send: Callable[[str, str, Any], httpx.Response]
) -> list[tuple[int, str, bytes]]:
    return run_script_steps(fake, send, SCRIPT)


def request_with(client: httpx.Client) -> Callable[[str, str, Any], httpx.Response]:
    def send(method: str, path: str, body: Any) -> httpx.Response:
        if isinstance(body, bytes):
            return client.request(method, path, content=body)
        return client.request(method, path, json=body)

    return send


@pytest.mark.parametrize("profile", ["docs", "v0.10"])
def test_in_process_and_socket_answer_identically(profile: str) -> None:
    in_process = FakeVexa(profile, seed=5, clock=VirtualClock())
    account = in_process.create_user("same@example.com")
    with in_process.client(account) as client:
        expected = run_script(in_process, request_with(client))

    served = FakeVexa(profile, seed=5, clock=VirtualClock())
    served.create_user("same@example.com")
    with (
        served.serve() as server,
        httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as client,
    ):
        actual = run_script(served, request_with(client))

    assert actual == expected
    statuses = [status for status, _, _ in expected]
    assert 500 not in statuses
    assert {200, 404, 409, 422 if profile == "v0.10" else 400} <= set(statuses)


# ---------------------------------------------------------------------------- part 2

MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij", "recording_enabled": True}

SCRIPT_2: list[Step | float] = [
    ("POST", "/bots", MEET),
    4.0,
    ("POST", "/bots/google_meet/abc-defg-hij/chat", {"text": "Hello from the bot"}),
    30.0,
    ("GET", "/bots/google_meet/abc-defg-hij/chat", None),
    ("GET", "/bots/google_meet/abc-defg-hij/events", None),
    ("DELETE", "/bots/google_meet/abc-defg-hij", None),
    2.0,
    ("GET", "/recordings", None),
    ("POST", "/transcripts/google_meet/abc-defg-hij/share?ttl_seconds=120", None),
]


def run_part_two(
    fake: FakeVexa, client: httpx.Client
) -> tuple[list[tuple[int, str, bytes]], list[tuple[int, str, bytes]]]:
    """The scripted REST part, then Range reads of the recording and the share link."""
    answers = run_script_steps(fake, request_with(client), SCRIPT_2)
    recording = client.get("/recordings").json()["recordings"][0]
    media = recording["media_files"][0]["id"]
    raw = f"/recordings/{recording['id']}/media/{media}/raw"
    share = client.post("/transcripts/google_meet/abc-defg-hij/share").json()
    public = share["url"].split("/public/", 1)[1]
    ranged = []
    for headers in ({}, {"Range": "bytes=0-99"}, {"Range": "bytes=-64"}, {"Range": "bytes=10-"}):
        got = client.get(raw, headers=headers)
        ranged.append((got.status_code, got.headers.get("content-range", ""), got.content))
    got = client.get(f"/public/{public}")
    ranged.append((got.status_code, got.headers["content-type"], got.content))
    return answers, ranged


def run_script_steps(
    fake: FakeVexa, send: Callable[[str, str, Any], httpx.Response], script: list[Step | float]
) -> list[tuple[int, str, bytes]]:
    answers = []
    for step in script:
        if isinstance(step, float):
            fake.advance(step)
            continue
        method, path, body = step
        response = send(method, path, body)
        answers.append((response.status_code, response.headers["content-type"], response.content))
    return answers


@pytest.mark.parametrize("profile", ["docs", "v0.10"])
def test_recordings_ranges_share_links_and_chat_match_too(profile: str) -> None:
    in_process = FakeVexa(profile, seed=9)
    account = in_process.create_user("same@example.com")
    with in_process.client(account) as client:
        expected = run_part_two(in_process, client)

    served = FakeVexa(profile, seed=9)
    served.create_user("same@example.com")
    with (
        served.serve() as server,
        httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as client,
    ):
        actual = run_part_two(served, client)

    # The share link's URL names the host it was asked on; everything else is identical.
    host_free = [
        (status, kind, body.replace(server.url.encode(), b"http://vexa.test"))
        for status, kind, body in actual[0]
    ]
    assert host_free == expected[0]
    assert actual[1] == expected[1]
    statuses = [status for status, _, _ in expected[1]]
    assert statuses == [200, 206, 206, 206, 200]
    full = expected[1][0][2]
    assert expected[1][1][2] == full[:100]
    assert expected[1][2][2] == full[-64:]


@pytest.mark.parametrize("profile", ["docs", "v0.10"])
def test_websocket_frames_match_in_process_and_over_the_socket(profile: str) -> None:
    from ws_client import SocketClient

    async def in_process() -> list[dict[str, Any]]:
        fake = FakeVexa(profile, seed=4)
        account = fake.create_user("same@example.com")
        with fake.client(account) as client:
            client.post(
                "/bots", json={"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
            )
            async with fake.websocket(account) as ws:
                await ws.send_json({"action": "subscribe", "meetings": [REF]})
                frames = [await ws.receive_json(timeout=5)]
                fake.advance(40)
                client.delete("/bots/google_meet/abc-defg-hij")
                fake.advance(2)
                frames += ws.drain()
        return frames

    async def over_socket() -> list[dict[str, Any]]:
        fake = FakeVexa(profile, seed=4)
        account = fake.create_user("same@example.com")
        with (
            fake.serve() as server,
            httpx.Client(base_url=server.url, headers=account.headers) as client,
        ):
            client.post(
                "/bots", json={"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
            )
            ws = await SocketClient.connect(server.url, api_key=account.api_key)
            await ws.send_json({"action": "subscribe", "meetings": [REF]})
            frames = [await ws.receive_json()]
            fake.advance(40)
            client.delete("/bots/google_meet/abc-defg-hij")
            fake.advance(2)
            while not frames or frames[-1].get("payload", {}).get("status") != "completed":
                frames.append(await ws.receive_json())
            await ws.close()
        return frames

    expected = asyncio.run(in_process())
    actual = asyncio.run(over_socket())
    assert actual == expected
    kinds = [frame["type"] for frame in expected]
    assert kinds[0] == "subscribed"
    assert "transcript" in kinds
    assert [f["payload"]["status"] for f in expected if f["type"] == "meeting.status"] == [
        "joining",
        "awaiting_admission",
        "active",
        "stopping",
        "completed",
    ]


REF = {"platform": "google_meet", "native_id": "abc-defg-hij"}
BOT = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
