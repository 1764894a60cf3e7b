"""The same scripted session gives identical answers in-process and over the real socket."""

from __future__ import annotations

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
    answers = []
    for step in SCRIPT:
        if isinstance(step, float):
            fake.advance(step)
            continue
        method, path, body = step
        response = send(method, path, body)
        answers.append((response.status_code, response.headers["content-type"], response.content))
    return answers


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
