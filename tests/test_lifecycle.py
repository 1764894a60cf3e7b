"""The bot lifecycle on the harness clock: automatic steps, controls, timeouts, transcripts."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from harness import Account, ConfigurationError, FakeVexa, Lifecycle

MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}


@pytest.fixture
def fake() -> FakeVexa:
    return FakeVexa("v0.10", seed=11)


@pytest.fixture
def alice(fake: FakeVexa) -> Account:
    return fake.create_user("alice@example.com")


def send_bot(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = client.post("/bots", json={**MEET, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def status_of(client: httpx.Client, meeting_id: int) -> str:
    status: str = client.get(f"/bots/id/{meeting_id}").json()["status"]
    return status


def transitions(client: httpx.Client, meeting_id: int) -> list[tuple[str, str, str]]:
    data = client.get(f"/meetings/{meeting_id}").json()["data"]
    return [(t["from"], t["to"], t["timestamp"]) for t in data["status_transition"]]


def test_happy_path_moves_on_the_harness_clock(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        bot = send_bot(client)
        assert bot["status"] == "requested"
        assert bot["start_time"] is None
        fake.advance(1)
        assert status_of(client, bot["id"]) == "joining"
        fake.advance(1)
        assert status_of(client, bot["id"]) == "awaiting_admission"
        fake.advance(1)
        meeting = client.get(f"/meetings/{bot['id']}").json()
        assert meeting["status"] == "active"
        assert meeting["start_time"] == "2026-06-20T09:00:03"
        assert client.delete("/bots/google_meet/abc-defg-hij").status_code == 202
        assert status_of(client, bot["id"]) == "stopping"
        fake.advance(1)
        done = client.get(f"/meetings/{bot['id']}").json()
        assert done["status"] == "completed"
        assert done["completion_reason"] == "stopped"
        assert done["end_time"] == "2026-06-20T09:00:04"
        assert transitions(client, bot["id"]) == [
            ("requested", "joining", "2026-06-20T09:00:01+00:00"),
            ("joining", "awaiting_admission", "2026-06-20T09:00:02+00:00"),
            ("awaiting_admission", "active", "2026-06-20T09:00:03+00:00"),
            ("active", "stopping", "2026-06-20T09:00:03+00:00"),
            ("stopping", "completed", "2026-06-20T09:00:04+00:00"),
        ]


def test_one_big_jump_replays_each_step_at_its_own_time(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        bot = send_bot(client)
        fake.advance(3600)
        stamps = [t[2] for t in transitions(client, bot["id"])]
        assert stamps == [
            "2026-06-20T09:00:01+00:00",
            "2026-06-20T09:00:02+00:00",
            "2026-06-20T09:00:03+00:00",
        ]


def test_lobby_waits_until_admitted(alice: Account, fake: FakeVexa) -> None:
    fake.model.lifecycle = Lifecycle(auto_admit=False)
    with fake.client(alice) as client:
        bot = send_bot(client)
        fake.advance(600)
        assert status_of(client, bot["id"]) == "awaiting_admission"
        fake.admit(bot["id"])
        assert status_of(client, bot["id"]) == "active"


def test_admission_timeout_fails_the_bot(alice: Account, fake: FakeVexa) -> None:
    fake.model.lifecycle = Lifecycle(auto_admit=False)
    with fake.client(alice) as client:
        bot = send_bot(client, automatic_leave={"max_wait_for_admission": 30_000})
        fake.advance(2 + 29)
        assert status_of(client, bot["id"]) == "awaiting_admission"
        fake.advance(1)
        failed = client.get(f"/meetings/{bot['id']}").json()
        assert failed["status"] == "failed"
        assert failed["completion_reason"] == "awaiting_admission_timeout"
        assert failed["failure_stage"] == "awaiting_admission"


@pytest.mark.parametrize(
    ("control", "status", "reason", "stage"),
    [
        ("reject", "failed", "awaiting_admission_rejected", "awaiting_admission"),
        ("evict", "failed", "evicted", "active"),
        ("end", "completed", "left_alone", None),
    ],
)
def test_controls(
    fake: FakeVexa,
    alice: Account,
    control: str,
    status: str,
    reason: str,
    stage: str | None,
) -> None:
    with fake.client(alice) as client:
        bot = send_bot(client)
        fake.advance(2 if control == "reject" else 3)
        getattr(fake, control)(bot["id"])
        meeting = client.get(f"/meetings/{bot['id']}").json()
        assert (meeting["status"], meeting["completion_reason"], meeting["failure_stage"]) == (
            status,
            reason,
            stage,
        )
        assert meeting["end_time"] is not None
        # A finished meeting frees the slot: the same meeting can get a new bot.
        assert client.post("/bots", json=MEET).status_code == 201


@pytest.mark.parametrize(
    ("stage", "reason"),
    [
        ("requested", "join_failure"),
        ("joining", "join_failure"),
        ("awaiting_admission", "awaiting_admission_rejected"),
        ("active", "evicted"),
    ],
)
def test_fail_at_a_stage(alice: Account, fake: FakeVexa, stage: str, reason: str) -> None:
    fake.model.lifecycle = Lifecycle(fail_at=stage)
    with fake.client(alice) as client:
        bot = send_bot(client)
        fake.advance(60)
        meeting = client.get(f"/meetings/{bot['id']}").json()
        assert meeting["status"] == "failed"
        assert meeting["failure_stage"] == stage
        assert meeting["completion_reason"] == reason


def test_max_bot_time_stops_then_fails(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        bot = send_bot(client, automatic_leave={"max_bot_time": 60_000})
        fake.advance(60)
        assert status_of(client, bot["id"]) == "stopping"
        fake.advance(1)
        meeting = client.get(f"/meetings/{bot['id']}").json()
        assert meeting["status"] == "failed"
        assert meeting["completion_reason"] == "max_bot_time_exceeded"


def test_controls_refuse_impossible_moves(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        bot = send_bot(client)
    with pytest.raises(ConfigurationError, match="cannot move to active"):
        fake.admit(bot["id"])  # still requested
    fake.end(bot["id"])
    with pytest.raises(ConfigurationError, match="already completed"):
        fake.evict(bot["id"])
    with pytest.raises(ConfigurationError, match="no meeting with id 999"):
        fake.admit(999)


def test_invalid_lifecycle_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="fail_at='lobby'"):
        Lifecycle(fail_at="lobby")
    with pytest.raises(ConfigurationError, match="join_delay must be >= 0"):
        Lifecycle(join_delay=-1)


def test_transcript_grows_while_active_and_freezes_after(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        send_bot(client)
        fake.advance(3)
        assert client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"] == []
        fake.advance(30)
        early = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
        fake.advance(30)
        later = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
        early_done = [s for s in early if s["completed"]]
        later_done = [s for s in later if s["completed"]]
        assert len(later_done) > len(early_done) > 0
        # What was complete earlier is unchanged later: segments are stable.
        assert later_done[: len(early_done)] == early_done
        client.delete("/bots/google_meet/abc-defg-hij")
        fake.advance(1)
        frozen = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
        fake.advance(600)
        assert client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"] == frozen
        assert all(s["completed"] for s in frozen)


def test_segments_have_consistent_times(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        send_bot(client, language="de")
        fake.advance(120)
        body = client.get("/transcripts/google_meet/abc-defg-hij").json()
    segments = body["segments"]
    assert len(segments) > 10
    ids = [s["segment_id"] for s in segments]
    assert len(set(ids)) == len(ids)
    for before, after in itertools.pairwise(segments):
        assert before["end"] <= after["start"]
        assert before["absolute_end_time"] <= after["absolute_start_time"]
    assert {s["language"] for s in segments} == {"de"}
    assert {s["speaker"] for s in segments} <= {
        "Anna Keller",
        "Ben Okafor",
        "Chidi Mensah",
        "Dana Ruiz",
    }


def test_config_changes_language_of_later_segments(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        send_bot(client, language="en")
        fake.advance(40)
        put = client.put("/bots/google_meet/abc-defg-hij/config", json={"language": "fr"})
        assert put.status_code == 202
        fake.advance(40)
        languages = [
            s["language"]
            for s in client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
        ]
    assert languages[0] == "en"
    assert languages[-1] == "fr"
    assert languages == sorted(languages, key=lambda lang: lang == "fr")


def test_same_seed_same_transcript_other_seed_other_transcript() -> None:
    def transcript(seed: int) -> list[str]:
        fake = FakeVexa(seed=seed)
        account = fake.create_user()
        with fake.client(account) as client:
            client.post("/bots", json=MEET)
            fake.advance(90)
            segments = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
        return [f"{s['speaker']}: {s['text']}" for s in segments]

    assert transcript(1) == transcript(1)
    assert transcript(1) != transcript(2)


def test_webhook_settings_are_copied_into_later_meetings(fake: FakeVexa, alice: Account) -> None:
    with fake.client(alice) as client:
        put = client.put(
            "/user/webhook",
            json={
                "webhook_url": "https://hooks.example.com/vexa",
                "webhook_secret": "s3cret",
                "webhook_events": {"meeting.started": True},
            },
        )
        assert put.status_code == 200
        assert "webhook_secret" not in put.json()["data"]
        first = send_bot(client)
        client.put("/user/webhook", json={"webhook_url": "https://other.example.com/hook"})
        assert first["data"]["webhook_url"] == "https://hooks.example.com/vexa"
        assert first["data"]["webhook_events"] == {"meeting.started": True}
        assert "webhook_secret" not in first["data"]
        assert fake.meeting(first["id"]).webhook_secret == "s3cret"
        later = send_bot(client, native_meeting_id="xyz-abcd-efg")
        assert later["data"]["webhook_url"] == "https://other.example.com/hook"
        # An explicit empty secret clears it (v0.10); omitting it keeps it.
        client.put(
            "/user/webhook", json={"webhook_url": "https://a.example.com/h", "webhook_secret": ""}
        )
        assert "webhook_secret" not in fake.model.users[alice.user_id].data


@pytest.mark.parametrize(
    ("url", "platform", "native", "passcode"),
    [
        ("https://meet.google.com/abc-defg-hij", "google_meet", "abc-defg-hij", None),
        (
            "https://teams.live.com/meet/1234567890123?p=Secret12",
            "teams",
            "1234567890123",
            "Secret12",
        ),
        (
            "https://teams.microsoft.com/v2/?meetingjoin=true#/meet/9876543210?p=Pass99",
            "teams",
            "9876543210",
            "Pass99",
        ),
        ("https://us05web.zoom.us/j/12345678901?pwd=xyz", "zoom", "12345678901", "xyz"),
        ("https://zoom.us/wc/join/123456789", "zoom", "123456789", None),
    ],
)
def test_meeting_url_fills_platform_id_and_passcode(
    fake: FakeVexa, alice: Account, url: str, platform: str, native: str, passcode: str | None
) -> None:
    with fake.client(alice) as client:
        created = client.post("/bots", json={"meeting_url": url})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["platform"], body["native_meeting_id"]) == (platform, native)
    assert body["data"].get("passcode") == passcode
    assert body["constructed_meeting_url"] == url


def test_legacy_teams_link_becomes_a_hash_id(fake: FakeVexa, alice: Account) -> None:
    url = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=x"
    with fake.client(alice) as client:
        body = client.post("/bots", json={"meeting_url": url}).json()
    assert body["platform"] == "teams"
    assert len(body["native_meeting_id"]) == 16
    assert body["constructed_meeting_url"] == url
