"""Recordings, their media bytes and the recording configuration, under both profiles.

A recorded bot session leaves one recording whose master WAV lasts exactly as long as the bot
was active. The bytes are real (Python's ``wave`` reads them) and deterministic, and any byte
range of them can be fetched: seven random slices, in-process and over a real socket, put back
together equal the whole file.
"""

from __future__ import annotations

import io
import random
import time
import wave
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
from contract_schemas import errors_of, is_naive_iso, is_rfc3339

from harness.fake import Account, FakeVexa
from harness.vexa.media import (
    HEADER_SIZE,
    SAMPLE_RATE,
    ByteRange,
    RangeNotSatisfiable,
    WavAudio,
    parse_range,
)

PROFILES = ("docs", "v0.10")
MEET = ("google_meet", "abc-defg-hij")
#: Seconds from POST /bots to ``active`` with the default lifecycle (join, lobby, admit).
TO_ACTIVE = 3.0

RECORDING_KEYS = {
    "id",
    "meeting_id",
    "user_id",
    "session_uid",
    "source",
    "status",
    "error_message",
    "created_at",
    "completed_at",
    "media_files",
}
MEDIA_KEYS = {
    "id",
    "type",
    "format",
    "storage_backend",
    "file_size_bytes",
    "duration_seconds",
    "metadata",
    "created_at",
}
#: What ``meeting.data["recordings"]`` keeps beyond the API view.
STORED_MEDIA_KEYS = MEDIA_KEYS | {"storage_path", "chunk_count", "is_final", "finalized_by"}
LINK_KEYS = {"url", "download_url", "filename", "content_type", "file_size_bytes", "expires_in"}


def is_db_time(value: object, profile: str) -> bool:
    return is_rfc3339(value) if profile == "docs" else is_naive_iso(value)


def record_session(
    fake: FakeVexa,
    client: httpx.Client,
    native: str = MEET[1],
    active_for: float = 20.0,
    **body: Any,
) -> int:
    """One bot session that is active for ``active_for`` seconds, then stopped; its meeting id."""
    created = client.post("/bots", json={"platform": MEET[0], "native_meeting_id": native, **body})
    assert created.status_code == fake.profile.create_bot_status, created.text
    fake.advance(TO_ACTIVE + active_for)
    assert client.delete(f"/bots/{MEET[0]}/{native}").status_code == 202
    fake.advance(5)
    meeting_id: int = created.json()["id"]
    assert client.get(f"/meetings/{meeting_id}").json()["status"] == "completed"
    return meeting_id


def only_recording(client: httpx.Client) -> dict[str, Any]:
    listing = client.get("/recordings")
    assert listing.status_code == 200, listing.text
    (recording,) = listing.json()["recordings"]
    assert isinstance(recording, dict)
    return recording


def raw_path(recording: dict[str, Any]) -> str:
    return f"/recordings/{recording['id']}/media/{recording['media_files'][0]['id']}/raw"


def seven_slices(total: int, rng: random.Random) -> list[tuple[int, int]]:
    """Seven contiguous inclusive ranges covering ``0..total-1``, cut at random places."""
    cuts = sorted(rng.sample(range(1, total), 6))
    bounds = [0, *cuts, total]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(7)]


def range_header(first: int, last: int, total: int, rng: random.Random) -> str:
    """Ask for the slice in one of the three shapes, so all of them get exercised."""
    if last == total - 1 and rng.random() < 0.5:
        return f"bytes={first}-" if rng.random() < 0.5 else f"bytes=-{total - first}"
    return f"bytes={first}-{last}"


@pytest.fixture(params=PROFILES)
def fake(request: pytest.FixtureRequest) -> FakeVexa:
    return FakeVexa(request.param, seed=11)


@pytest.fixture
def alice(fake: FakeVexa) -> Account:
    return fake.create_user("alice@example.com")


@pytest.fixture
def client(fake: FakeVexa, alice: Account) -> Iterator[httpx.Client]:
    with fake.client(alice) as client:
        yield client


# ---------------------------------------------------------------------------- the recording


def test_a_recorded_session_leaves_one_recording(fake: FakeVexa, client: httpx.Client) -> None:
    profile = fake.profile.name
    meeting_id = record_session(fake, client, active_for=20)
    recording = only_recording(client)
    assert set(recording) == RECORDING_KEYS
    assert recording["meeting_id"] == meeting_id
    assert recording["user_id"] == fake.model.meetings[meeting_id].user_id
    assert 10**11 <= recording["id"] < 10**12
    assert (recording["source"], recording["status"], recording["error_message"]) == (
        "bot",
        "completed",
        None,
    )
    assert is_db_time(recording["created_at"], profile)
    assert is_db_time(recording["completed_at"], profile)
    (media,) = recording["media_files"]
    assert set(media) == MEDIA_KEYS
    assert 10**11 <= media["id"] < 10**12
    assert (media["type"], media["format"], media["storage_backend"]) == ("audio", "wav", "local")
    assert media["duration_seconds"] == 20.0
    assert media["metadata"] == {"sample_rate": SAMPLE_RATE}
    assert media["file_size_bytes"] == HEADER_SIZE + 20 * SAMPLE_RATE * 2
    assert client.get(f"/recordings/{recording['id']}").json() == recording


def test_the_recording_is_in_meeting_data_and_the_transcript(
    fake: FakeVexa, client: httpx.Client
) -> None:
    zoned = fake.profile.name == "docs"
    meeting_id = record_session(fake, client)
    recording = only_recording(client)
    transcript = client.get(f"/transcripts/{MEET[0]}/{MEET[1]}").json()
    assert errors_of("TranscriptionResponse", transcript, zoned=zoned) == []
    (stored,) = transcript["recordings"]
    assert stored == transcript["data"]["recordings"][0]
    assert client.get(f"/meetings/{meeting_id}").json()["data"]["recordings"] == [stored]
    assert stored["id"] == recording["id"]
    (media,) = stored["media_files"]
    assert set(media) == STORED_MEDIA_KEYS
    assert media["is_final"] is True
    assert media["finalized_by"] == "recording_finalizer.master"
    assert media["chunk_count"] == 2  # 20 s in 10 s chunks
    assert media["storage_path"] == (
        f"recordings/{recording['user_id']}/{recording['id']}/{recording['session_uid']}"
        "/audio/master.wav"
    )
    assert stored["playback_url"] == {
        "audio": f"/recordings/{recording['id']}/master?type=audio",
        "video": None,
    }
    bots = client.get("/bots").json()["meetings"]
    assert bots[0]["data"]["has_recording"] is True


def test_no_recording_without_an_active_bot_or_with_recording_off(
    fake: FakeVexa, client: httpx.Client
) -> None:
    record_session(fake, client, recording_enabled=False)
    rejected = client.post("/bots", json={"platform": "zoom", "native_meeting_id": "123456789"})
    assert rejected.status_code == fake.profile.create_bot_status, rejected.text
    fake.advance(2)  # in the lobby
    fake.reject(rejected.json()["id"])
    assert client.get("/recordings").json() == {"recordings": []}


def test_a_bot_that_fails_after_being_active_still_leaves_its_recording(
    fake: FakeVexa, client: httpx.Client
) -> None:
    created = client.post("/bots", json={"platform": MEET[0], "native_meeting_id": MEET[1]})
    fake.advance(TO_ACTIVE + 7.5)
    fake.evict(created.json()["id"])
    assert client.get(f"/meetings/{created.json()['id']}").json()["status"] == "failed"
    assert only_recording(client)["media_files"][0]["duration_seconds"] == 7.5


def test_listing_pages_filters_and_orders_newest_first(
    fake: FakeVexa, client: httpx.Client
) -> None:
    first = record_session(fake, client, native="aaa-bbbb-ccc")
    second = record_session(fake, client, native="ddd-eeee-fff")
    third = record_session(fake, client, native="ggg-hhhh-iii")
    listed = client.get("/recordings").json()["recordings"]
    assert [r["meeting_id"] for r in listed] == [third, second, first]
    page = client.get("/recordings", params={"limit": 1, "offset": 1}).json()["recordings"]
    assert [r["meeting_id"] for r in page] == [second]
    only = client.get("/recordings", params={"meeting_id": first}).json()["recordings"]
    assert [r["meeting_id"] for r in only] == [first]
    for bad in ({"limit": 0}, {"limit": 201}, {"offset": -1}, {"meeting_id": "x"}):
        answer = client.get("/recordings", params=bad)
        assert answer.status_code == 422, bad
        assert answer.json()["detail"][0]["loc"][0] == "query"
    assert client.get("/recordings", params={"limit": 200}).status_code == 200


def test_another_users_recording_is_not_found(fake: FakeVexa, client: httpx.Client) -> None:
    record_session(fake, client)
    recording = only_recording(client)
    mallory = fake.create_user("mallory@example.com", scopes=("bot",))
    rid, mid = recording["id"], recording["media_files"][0]["id"]
    with fake.client(mallory) as other:
        assert other.get("/recordings").json() == {"recordings": []}
        for method, path in (
            ("GET", f"/recordings/{rid}"),
            ("DELETE", f"/recordings/{rid}"),
            ("GET", f"/recordings/{rid}/master?type=audio"),
            ("GET", f"/recordings/{rid}/media/{mid}/download"),
            ("GET", f"/recordings/{rid}/media/{mid}/raw"),
        ):
            answer = other.request(method, path)
            assert answer.status_code == 404, (method, path)
            assert answer.json() == {"detail": "Recording not found"}
    assert only_recording(client)["id"] == rid  # mallory's DELETE changed nothing


def test_recordings_need_a_key_but_no_scope(fake: FakeVexa, client: httpx.Client) -> None:
    record_session(fake, client)
    with fake.client() as anonymous:
        assert anonymous.get("/recordings").status_code == 401
    browser_only = fake.create_key(fake.model.users[1].id, scopes=("browser",))
    listing = client.get("/recordings", headers={"X-API-Key": browser_only})
    assert len(listing.json()["recordings"]) == 1


# ---------------------------------------------------------------------------- deletion


def test_delete_then_repeat_as_the_profile_says(fake: FakeVexa, client: httpx.Client) -> None:
    meeting_id = record_session(fake, client)
    rid = only_recording(client)["id"]
    deleted = client.delete(f"/recordings/{rid}")
    assert deleted.status_code == 200
    assert deleted.json() == {"status": "deleted", "recording_id": rid}
    assert client.get("/recordings").json() == {"recordings": []}
    assert client.get(f"/recordings/{rid}").json() == {"detail": "Recording not found"}
    assert client.get(f"/meetings/{meeting_id}").json()["data"]["recordings"] == []
    again = client.delete(f"/recordings/{rid}")
    if fake.profile.repeat_recording_delete_succeeds:
        assert (again.status_code, again.content) == (204, b"")
    else:
        assert again.status_code == 404
        assert again.json() == {"detail": "Recording not found"}
    never = client.delete("/recordings/123456789012")
    assert (never.status_code, never.json()) == (404, {"detail": "Recording not found"})


def test_deleting_the_meeting_deletes_its_recordings(fake: FakeVexa, client: httpx.Client) -> None:
    record_session(fake, client)
    rid = only_recording(client)["id"]
    assert client.delete(f"/meetings/{MEET[0]}/{MEET[1]}").status_code == 200
    assert client.get("/recordings").json() == {"recordings": []}
    assert client.get(f"/recordings/{rid}").status_code == 404


# ---------------------------------------------------------------------------- links


def test_master_and_download_links(fake: FakeVexa, client: httpx.Client) -> None:
    record_session(fake, client, active_for=12)
    recording = only_recording(client)
    rid, media = recording["id"], recording["media_files"][0]
    raw = f"/recordings/{rid}/media/{media['id']}/raw"
    download = client.get(f"/recordings/{rid}/media/{media['id']}/download")
    assert download.status_code == 200
    assert download.json() == {
        "url": raw,
        "download_url": raw,
        "filename": f"{rid}_audio.wav",
        "content_type": "audio/wav",
        "file_size_bytes": media["file_size_bytes"],
        "expires_in": 3600,
    }
    master = client.get(f"/recordings/{rid}/master", params={"type": "audio"}).json()
    assert set(master) == LINK_KEYS | {"media_file_id", "raw_url", "duration_seconds"}
    assert (master["media_file_id"], master["raw_url"]) == (media["id"], raw)
    assert master["duration_seconds"] == 12.0
    video = client.get(f"/recordings/{rid}/master", params={"type": "video"})
    assert video.status_code == 404
    assert video.json() == {
        "detail": f"No master video file for recording {rid} (still finalizing or not produced)"
    }
    missing = client.get(f"/recordings/{rid}/media/{media['id'] + 1}/download")
    assert (missing.status_code, missing.json()) == (404, {"detail": "Media file not found"})
    gone = client.get(f"/recordings/{rid}/media/{media['id'] + 1}/raw")
    assert (gone.status_code, gone.json()) == (404, {"detail": "Media file not found"})


def test_master_type_is_required_and_checked(fake: FakeVexa, client: httpx.Client) -> None:
    record_session(fake, client)
    rid = only_recording(client)["id"]
    missing = client.get(f"/recordings/{rid}/master")
    assert missing.status_code == 422
    assert missing.json() == {
        "detail": [
            {"type": "missing", "loc": ["query", "type"], "msg": "Field required", "input": None}
        ]
    }
    wrong = client.get(f"/recordings/{rid}/master", params={"type": "screenshot"})
    assert wrong.status_code == 422
    assert wrong.json() == {
        "detail": [
            {
                "type": "string_pattern_mismatch",
                "loc": ["query", "type"],
                "msg": "String should match pattern '^(audio|video)$'",
                "input": "screenshot",
                "ctx": {"pattern": "^(audio|video)$"},
            }
        ]
    }
    not_int = client.get("/recordings/abc/master", params={"type": "audio"})
    assert not_int.status_code == 422
    assert not_int.json()["detail"][0]["loc"] == ["path", "recording_id"]


# ---------------------------------------------------------------------------- the bytes


def test_the_media_is_a_real_wav_as_long_as_the_bot_was_active(
    fake: FakeVexa, client: httpx.Client
) -> None:
    record_session(fake, client, active_for=42.25)
    recording = only_recording(client)
    rid = recording["id"]
    answer = client.get(raw_path(recording))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "audio/wav"
    assert answer.headers["accept-ranges"] == "bytes"
    assert answer.headers["content-disposition"] == f'inline; filename="{rid}_audio.wav"'
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert len(answer.content) == recording["media_files"][0]["file_size_bytes"]
    with wave.open(io.BytesIO(answer.content)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() / wav.getframerate() == 42.25
        frames = wav.readframes(wav.getnframes())
    assert len(frames) == 42.25 * 8000 * 2
    assert frames.count(0) < len(frames) // 2  # tones, not a silent file


def test_the_bytes_are_deterministic_per_seed(fake: FakeVexa) -> None:
    def download(seed: int) -> bytes:
        other = FakeVexa(fake.profile, seed=seed)
        with other.client(other.create_user()) as client:
            record_session(other, client, active_for=5)
            return client.get(raw_path(only_recording(client))).content

    assert download(3) == download(3)
    assert download(3) != download(4)


def test_seven_random_ranges_reassemble_the_file_in_process(
    fake: FakeVexa, client: httpx.Client
) -> None:
    record_session(fake, client, active_for=9.5)
    path = raw_path(only_recording(client))
    whole = client.get(path).content
    rng = random.Random(2024)
    for _ in range(3):
        parts = []
        for first, last in seven_slices(len(whole), rng):
            answer = client.get(path, headers={"Range": range_header(first, last, len(whole), rng)})
            assert answer.status_code == 206
            assert answer.headers["content-range"] == f"bytes {first}-{last}/{len(whole)}"
            assert int(answer.headers["content-length"]) == last - first + 1
            assert answer.headers["content-type"] == "audio/wav"
            parts.append(answer.content)
        assert b"".join(parts) == whole


def test_seven_random_ranges_reassemble_the_file_over_a_socket(
    fake: FakeVexa, alice: Account, client: httpx.Client
) -> None:
    record_session(fake, client, active_for=6)
    path = raw_path(only_recording(client))
    rng = random.Random(7)
    with (
        fake.serve() as server,
        httpx.Client(base_url=server.url, headers=alice.headers, timeout=10) as over_httpx,
        requests.Session() as over_requests,
    ):
        over_requests.headers.update(alice.headers)
        whole = over_httpx.get(path).content
        assert whole == over_requests.get(server.url + path, timeout=10).content
        assert whole == client.get(path).content
        total = len(whole)
        httpx_parts, requests_parts = [], []
        for first, last in seven_slices(total, rng):
            header = {"Range": range_header(first, last, total, rng)}
            via_httpx = over_httpx.get(path, headers=header)
            via_requests = over_requests.get(server.url + path, headers=header, timeout=10)
            for answer in (via_httpx, via_requests):
                assert answer.status_code == 206
                assert answer.headers["Content-Range"] == f"bytes {first}-{last}/{total}"
                assert answer.headers["Content-Length"] == str(last - first + 1)
            httpx_parts.append(via_httpx.content)
            requests_parts.append(via_requests.content)
        assert b"".join(httpx_parts) == whole
        assert b"".join(requests_parts) == whole
    fake.check()


def test_open_suffix_and_clamped_ranges(fake: FakeVexa, client: httpx.Client) -> None:
    record_session(fake, client, active_for=2)
    path = raw_path(only_recording(client))
    whole = client.get(path).content
    total = len(whole)
    cases = {
        "bytes=100-": (100, total - 1),
        "bytes=-44": (total - 44, total - 1),
        f"bytes=-{total * 3}": (0, total - 1),  # a suffix longer than the file: all of it
        f"bytes=10-{total + 500}": (10, total - 1),  # an end past the file is clamped
        "bytes=0-0": (0, 0),
        "bytes=5-9, 20-30": (5, 9),  # only the first range of several
        "BYTES = 3-4": (3, 4),
    }
    for header, (first, last) in cases.items():
        answer = client.get(path, headers={"Range": header})
        assert answer.status_code == 206, header
        assert answer.headers["content-range"] == f"bytes {first}-{last}/{total}", header
        assert answer.content == whole[first : last + 1], header


def test_impossible_ranges_are_416_and_malformed_ones_are_ignored(
    fake: FakeVexa, client: httpx.Client
) -> None:
    record_session(fake, client, active_for=2)
    path = raw_path(only_recording(client))
    whole = client.get(path).content
    total = len(whole)
    impossible = (f"bytes={total}-", f"bytes={total}-{total + 5}", "bytes=9-3", "bytes=-0")
    for header in impossible:
        answer = client.get(path, headers={"Range": header})
        assert answer.status_code == 416, header
        assert answer.json() == {"detail": "Requested range not satisfiable"}
        assert answer.headers["content-range"] == f"bytes */{total}"
    for header in (
        "bytes=",
        "bytes=-",
        "bytes=a-b",
        "items=0-9",
        "0-9",
        "bytes=1-2-3",
        b"bytes=\xb2-",
    ):
        answer = client.get(path, headers={"Range": header})
        assert answer.status_code == 200, header
        assert answer.content == whole, header
        assert "content-range" not in answer.headers


def test_a_long_recording_costs_nothing_until_read() -> None:
    two_hours = WavAudio.lasting(key=5, seconds=7200)
    assert two_hours.size == HEADER_SIZE + 7200 * SAMPLE_RATE * 2
    started = time.perf_counter()
    tail = two_hours.read(two_hours.size - 1000)
    middle = two_hours.read(50_000_001, 50_000_101)
    assert time.perf_counter() - started < 0.5
    assert len(tail) == 1000
    assert len(middle) == 100
    assert two_hours.read(0, HEADER_SIZE) == two_hours.header()
    assert two_hours.read(10, 10) == b""
    assert two_hours.read(two_hours.size, None) == b""
    short = WavAudio.lasting(key=5, seconds=1.5)
    whole = short.read()
    assert b"".join(short.read(i, i + 333) for i in range(0, short.size, 333)) == whole


def test_parse_range_table() -> None:
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == ByteRange(0, 9, 100)
    assert parse_range("bytes=90-", 100) == ByteRange(90, 99, 100)
    assert parse_range("bytes=-10", 100) == ByteRange(90, 99, 100)
    assert parse_range("bytes=0-9", 100).content_range == "bytes 0-9/100"  # type: ignore[union-attr]
    for unsatisfiable in ("bytes=100-", "bytes=5-4", "bytes=-0"):
        with pytest.raises(RangeNotSatisfiable):
            parse_range(unsatisfiable, 100)
    for malformed in ("", "bytes", "bytes=x-1", "bytes=1-x", "bytes=--1", "pages=1-2"):
        assert parse_range(malformed, 100) is None


# ---------------------------------------------------------------------------- configuration


def test_recording_config_defaults_and_updates(fake: FakeVexa, client: httpx.Client) -> None:
    assert client.get("/recording-config").json() == {"enabled": True, "capture_modes": ["audio"]}
    updated = client.put("/recording-config", json={"capture_modes": ["audio", "video"]})
    assert updated.json() == {"enabled": True, "capture_modes": ["audio", "video"]}
    updated = client.put("/recording-config", json={"enabled": False})
    assert updated.json() == {"enabled": False, "capture_modes": ["audio", "video"]}
    assert client.get("/recording-config").json() == updated.json()
    bad = client.put("/recording-config", json={"capture_modes": ["screen"]})
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "capture_modes", 0]
    not_bool = client.put("/recording-config", json={"enabled": "perhaps"})
    assert not_bool.status_code == 422
    assert client.get("/recording-config").json() == updated.json()  # a 422 changed nothing
    other = fake.create_user()
    with fake.client(other) as theirs:
        assert theirs.get("/recording-config").json()["enabled"] is True  # per user


def test_post_bots_defaults_recording_to_the_users_config(
    fake: FakeVexa, client: httpx.Client
) -> None:
    client.put("/recording-config", json={"enabled": False})
    meeting_id = record_session(fake, client, native="aaa-bbbb-ccc")
    assert fake.model.meetings[meeting_id].data["recording_enabled"] is False
    assert client.get("/recordings").json() == {"recordings": []}
    forced = record_session(fake, client, native="ddd-eeee-fff", recording_enabled=True)
    assert only_recording(client)["meeting_id"] == forced
