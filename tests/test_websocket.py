"""The WebSocket ``/ws`` of the fake Vexa, v0.10's form: over real sockets and in-process.

Every frame a test receives is validated against Vexa's ws.v1 schema on arrival, and each ws.v1
golden example is reproduced (same keys, same JSON types) or skipped with the reason.
Timeouts here are hang guards only; nothing asserts how long anything took.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from ws_client import (
    GOLDEN,
    HANG_GUARD,
    LIFECYCLE,
    MEET,
    REF,
    WS_V1,
    SocketClient,
    drain,
    recv,
    statuses,
)

from harness import Account, FakeVexa, Lifecycle, SystemClock
from harness.server.websocket import InProcessWebSocket, WebSocketClosed

# ----------------------------------------------------------------------- fixtures


@pytest.fixture
def fake() -> FakeVexa:
    return FakeVexa("v0.10", seed=5)


@pytest.fixture
def alice(fake: FakeVexa) -> Account:
    return fake.create_user("alice@example.com")


@pytest.fixture
def bob(fake: FakeVexa) -> Account:
    return fake.create_user("bob@example.com")


def send_bot(fake: FakeVexa, account: Account, **body: Any) -> dict[str, Any]:
    with fake.client(account) as client:
        response = client.post("/bots", json={**MEET, **body})
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def stop_bot(fake: FakeVexa, account: Account, native: str = "abc-defg-hij") -> None:
    with fake.client(account) as client:
        assert client.delete(f"/bots/google_meet/{native}").status_code == 202


async def subscribed(ws: InProcessWebSocket, *refs: dict[str, str]) -> None:
    await ws.send_json({"action": "subscribe", "meetings": list(refs or [REF])})
    assert await recv(ws) == {"type": "subscribed", "meetings": list(refs or [REF])}


class GatedClock(SystemClock):
    """Real time that stands still until :meth:`release`: a test can set the scene first.

    Still a real-time clock to the fake (not a ``VirtualClock``), so its ticker drives it.
    """

    def __init__(self) -> None:
        super().__init__()
        self._frozen = super().now()
        self._released: float | None = None
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            self._released = time.monotonic()

    def now(self) -> float:
        with self._lock:
            if self._released is None:
                return self._frozen
            return self._frozen + (time.monotonic() - self._released)


@pytest.fixture
def served(fake: FakeVexa) -> Iterator[str]:
    with fake.serve() as server:
        yield server.url
    if server.errors:
        raise server.errors[0]
    fake.check()


# ----------------------------------------------------------------------- connecting


@pytest.mark.asyncio
async def test_no_key_is_told_then_closed_4401_over_the_socket(served: str) -> None:
    client = await SocketClient.connect(served)
    assert await client.receive_json() == {"type": "error", "error": "missing_api_key"}
    with pytest.raises(WebSocketClosed):
        await client.receive_json()
    assert client.close_code == 4401
    await client.close()


@pytest.mark.asyncio
async def test_no_key_in_process_is_the_same(fake: FakeVexa) -> None:
    async with fake.websocket() as ws:
        assert await recv(ws) == {"type": "error", "error": "missing_api_key"}
        with pytest.raises(WebSocketClosed) as closed:
            await ws.receive_json(timeout=HANG_GUARD)
        assert closed.value.code == 4401 == ws.close_code
        with pytest.raises(WebSocketClosed):
            await ws.send_json({"action": "ping"})


@pytest.mark.asyncio
@pytest.mark.parametrize("how", ["header", "query"])
async def test_the_key_comes_in_a_header_or_the_query_and_pings_are_answered(
    served: str, alice: Account, how: str
) -> None:
    if how == "header":
        client = await SocketClient.connect(served, api_key=alice.api_key)
    else:
        client = await SocketClient.connect(served, target=f"/ws?api_key={alice.api_key}")
    await client.send_json({"action": "ping"})
    assert await client.receive_json() == {"type": "pong"}
    await client.close()


@pytest.mark.asyncio
async def test_a_bad_key_is_accepted_at_connect_and_refused_on_subscribe(
    served: str, fake: FakeVexa, alice: Account
) -> None:
    send_bot(fake, alice)
    client = await SocketClient.connect(served, api_key="not-a-key")
    await client.send_json({"action": "ping"})  # v0.10 does not check the key at connect
    assert await client.receive_json() == {"type": "pong"}
    await client.send_json({"action": "subscribe", "meetings": [REF]})
    assert await client.receive_json() == {
        "type": "error",
        "error": "authorization_service_error",
        "status": 401,
        "detail": '{"detail":"Invalid API key"}',
    }
    await client.close()


def test_plain_http_get_of_ws_is_not_found_and_a_bad_handshake_is_refused(served: str) -> None:
    assert httpx.get(f"{served}/ws", timeout=HANG_GUARD).status_code == 404
    headers = {"connection": "Upgrade", "upgrade": "websocket", "sec-websocket-version": "13"}
    refused = httpx.get(f"{served}/ws", headers=headers, timeout=HANG_GUARD)
    assert refused.status_code == 400  # no Sec-WebSocket-Key


# ----------------------------------------------------------------------- the control protocol


@pytest.mark.asyncio
async def test_invalid_json_and_binary_messages_leave_the_socket_open(served: str) -> None:
    client = await SocketClient.connect(served, api_key="any-key")
    await client.send_text("{not json")
    assert await client.receive_json() == {"type": "error", "error": "invalid_json"}
    await client.send_bytes(b'{"action": "ping"}')
    assert await client.receive_json() == {"type": "error", "error": "invalid_json"}
    await client.send_json({"action": "ping"})
    assert await client.receive_json() == {"type": "pong"}
    await client.close()


@pytest.mark.asyncio
@pytest.mark.parametrize("message", [{"action": "dance"}, {}, {"action": None}, [1, 2], "ping", 7])
async def test_anything_else_is_an_unknown_action(fake: FakeVexa, message: Any) -> None:
    async with fake.websocket(api_key="any-key") as ws:
        await ws.send_json(message)
        assert await recv(ws) == {"type": "error", "error": "unknown_action"}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("message", "details"),
    [
        ({"action": "subscribe"}, "'meetings' must be a non-empty list"),
        ({"action": "subscribe", "meetings": REF}, "'meetings' must be a non-empty list"),
        ({"action": "subscribe", "meetings": []}, "'meetings' list cannot be empty"),
        ({"action": "subscribe", "meetings": [1, "x"]}, "no valid meeting objects"),
        (
            {"action": "subscribe", "meetings": [{"platform": "google_meet", "native_id": " "}]},
            "no valid meeting objects",
        ),
        ({"action": "subscribe", "meetings": [{"native_id": "abc"}]}, "no valid meeting objects"),
    ],
)
async def test_subscribe_payload_errors(
    fake: FakeVexa, alice: Account, message: Any, details: str
) -> None:
    async with fake.websocket(alice) as ws:
        await ws.send_json(message)
        assert await recv(ws) == {
            "type": "error",
            "error": "invalid_subscribe_payload",
            "details": details,
        }
        assert drain(ws) == []


@pytest.mark.asyncio
async def test_per_meeting_errors_come_first_then_the_authorized_subset(
    fake: FakeVexa, alice: Account
) -> None:
    send_bot(fake, alice)
    meetings = [
        {"platform": "google_meet", "native_id": "Not A Meet Id"},
        REF,
        {"platform": "google_meet", "native_id": "xyz-wxyz-xyz"},
        {"platform": "teams", "native_id": "12345"},
    ]
    async with fake.websocket(alice) as ws:
        await ws.send_json({"action": "subscribe", "meetings": meetings})
        assert await recv(ws) == {
            "type": "error",
            "error": "invalid_subscribe_payload",
            "details": [
                "meetings[0] invalid native_meeting_id for platform 'google_meet'",
                "meetings[2] not authorized or not found for user",
                "meetings[3] invalid native_meeting_id for platform 'teams'",
            ],
        }
        assert await recv(ws) == {"type": "subscribed", "meetings": [REF]}


@pytest.mark.asyncio
async def test_an_unknown_platform_is_the_collectors_422(fake: FakeVexa, alice: Account) -> None:
    async with fake.websocket(alice) as ws:
        await ws.send_json({"action": "subscribe", "meetings": [{**REF, "platform": "skype"}]})
        frame = await recv(ws)
        assert frame["error"] == "authorization_service_error"
        assert frame["status"] == 422
        [item] = json.loads(frame["detail"])["detail"]
        assert item["loc"] == ["body", "meetings", 0, "platform"]
        assert item["type"] == "enum"


@pytest.mark.asyncio
async def test_unsubscribe(fake: FakeVexa, alice: Account) -> None:
    send_bot(fake, alice)
    async with fake.websocket(alice) as ws:
        await ws.send_json({"action": "unsubscribe", "meetings": "all"})
        assert await recv(ws) == {
            "type": "error",
            "error": "invalid_unsubscribe_payload",
            "details": "'meetings' must be a list",
        }
        await ws.send_json({"action": "unsubscribe", "meetings": [REF, 3, {"platform": "zoom"}]})
        assert await recv(ws) == {
            "type": "error",
            "error": "invalid_unsubscribe_payload",
            "details": [
                "meetings[0] not currently subscribed",
                "meetings[1] must be an object",
                "meetings[2] missing 'platform' or 'native_id'",
            ],
        }
        await subscribed(ws)
        fake.advance(1)
        assert statuses(drain(ws)) == ["joining"]
        await ws.send_json({"action": "unsubscribe", "meetings": [REF]})
        assert await recv(ws) == {"type": "unsubscribed", "meetings": [REF]}
        fake.advance(5)
        assert drain(ws) == []


@pytest.mark.asyncio
async def test_isolation_another_users_meeting_is_not_found(
    fake: FakeVexa, alice: Account, bob: Account
) -> None:
    send_bot(fake, alice)
    async with fake.websocket(bob) as ws:
        await ws.send_json({"action": "subscribe", "meetings": [REF]})
        assert await recv(ws) == {
            "type": "error",
            "error": "invalid_subscribe_payload",
            "details": ["meetings[0] not authorized or not found for user"],
        }
        assert await recv(ws) == {"type": "subscribed", "meetings": []}
        # Bob's own bot in the same room: he sees his meeting, never Alice's.
        mine = send_bot(fake, bob)
        await subscribed(ws)
        fake.advance(1)
        frames = drain(ws)
        assert statuses(frames) == ["joining"]
        assert {f["meeting"]["id"] for f in frames} == {mine["id"]}
        assert {f["user_id"] for f in frames} == {bob.user_id}


# ----------------------------------------------------------------------- data frames


@pytest.mark.asyncio
async def test_the_whole_lifecycle_in_order_in_process_on_a_virtual_clock(
    fake: FakeVexa, alice: Account
) -> None:
    bot = send_bot(fake, alice)
    async with fake.websocket(alice) as ws:
        # ``requested`` is published by POST /bots itself, before any socket can subscribe
        # (v0.10 authorizes against an existing meeting): the POST answer is where it is seen.
        await subscribed(ws)
        seen = [bot["status"]]
        for _ in range(3):
            fake.advance(1)
            seen += statuses(drain(ws))
        stop_bot(fake, alice)
        fake.advance(1)
        frames = drain(ws)
        seen += statuses(frames)
    assert seen == LIFECYCLE
    last = frames[-1]
    assert last["meeting"] == {**REF, "id": bot["id"]}
    assert last["user_id"] == alice.user_id
    assert last["ts"] == "2026-06-20T09:00:04"  # v0.10: naive UTC, like datetime.utcnow()


@pytest.mark.asyncio
async def test_the_whole_lifecycle_in_order_over_a_socket_on_real_time() -> None:
    clock = GatedClock()
    quick = Lifecycle(join_delay=0.05, lobby_delay=0.05, admission_delay=0.05, stop_delay=0.05)
    fake = FakeVexa("v0.10", clock=clock, lifecycle=quick)
    account = fake.create_user("carol@example.com")
    with fake.serve() as server:
        async with httpx.AsyncClient(base_url=server.url, headers=account.headers) as rest:
            created = await rest.post("/bots", json=MEET)
            assert created.status_code == 201
            client = await SocketClient.connect(server.url, api_key=account.api_key)
            await client.send_json({"action": "subscribe", "meetings": [REF]})
            assert await client.receive_json() == {"type": "subscribed", "meetings": [REF]}
            clock.release()  # from here on, only the server's ticker moves the bot
            frames = await client.until_status("active")
            assert (await rest.delete("/bots/google_meet/abc-defg-hij")).status_code == 202
            frames += await client.until_status("completed")
            await client.close()
    assert [created.json()["status"], *statuses(frames)] == LIFECYCLE
    assert not server.errors


@pytest.mark.asyncio
async def test_transcript_frames_carry_what_get_transcripts_returns(
    fake: FakeVexa, alice: Account
) -> None:
    bot = send_bot(fake, alice)
    async with fake.websocket(alice) as ws:
        await subscribed(ws)
        fake.advance(3)  # active
        frames = drain(ws)
        for _ in range(80):
            fake.advance(0.5)
            frames += drain(ws)
        stop_bot(fake, alice)
        fake.advance(1)
        frames += drain(ws)
    with fake.client(alice) as client:
        rest = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
    transcripts = [f for f in frames if f["type"] == "transcript"]
    confirmed: dict[str, dict[str, Any]] = {}
    for frame in transcripts:
        assert frame["meeting"] == {"id": bot["id"]}
        for segment in frame["confirmed"]:
            assert segment["speaker"] == frame["speaker"]
            confirmed[segment["segment_id"]] = segment  # last wins
    assert len(rest) > 5
    assert list(confirmed.values()) == [
        {k: v for k, v in s.items() if k != "created_at"} for s in rest
    ]
    pending = [s for f in transcripts for s in f["pending"]]
    assert pending
    assert not any(s["completed"] for s in pending)
    assert all(s["completed"] for s in confirmed.values())
    # Speech published before the stop precedes the ``stopping`` frame.
    stopping = next(i for i, f in enumerate(frames) if statuses([f]) == ["stopping"])
    assert all(f["type"] != "transcript" for f in frames[stopping:])


@pytest.mark.asyncio
async def test_speech_comes_before_the_status_change_that_ends_it_even_in_one_jump() -> None:
    fake = FakeVexa("v0.10", seed=3, lifecycle=Lifecycle(fail_at="active", active_fail_delay=40))
    alice = fake.create_user("alice@example.com")
    send_bot(fake, alice)
    async with fake.websocket(alice) as ws:
        await subscribed(ws)
        fake.advance(3)
        assert statuses(drain(ws)) == ["joining", "awaiting_admission", "active"]
        fake.advance(120)  # the bot fails 40 s in, somewhere inside this one jump
        frames = drain(ws)
    assert [f["type"] for f in frames[-1:]] == ["meeting.status"]
    assert statuses(frames) == ["failed"]
    spoken = [s["segment_id"] for f in frames[:-1] for s in f["confirmed"]]
    with fake.client(alice) as client:
        rest = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
    assert spoken == [s["segment_id"] for s in rest]
    assert len(spoken) > 3


@pytest.mark.asyncio
async def test_a_subscription_gets_only_what_happens_after_it(
    fake: FakeVexa, alice: Account
) -> None:
    send_bot(fake, alice)
    fake.advance(3 + 30)  # 30 s of speech nobody listened to
    subscribed_at = datetime.fromtimestamp(fake.clock.now(), UTC)
    async with fake.websocket(alice) as ws:
        await subscribed(ws)
        assert drain(ws) == []
        fake.advance(20)
        frames = drain(ws)
    segments = [s for f in frames for s in f["confirmed"]]
    assert segments
    assert min(datetime.fromisoformat(s["absolute_end_time"]) for s in segments) > subscribed_at
    with fake.client(alice) as client:
        everything = client.get("/transcripts/google_meet/abc-defg-hij").json()["segments"]
    assert len(everything) > len(segments)  # the earlier ones exist; they were not sent


@pytest.mark.asyncio
async def test_transcripts_flow_over_the_socket_when_a_virtual_clock_advances(
    served: str, fake: FakeVexa, alice: Account
) -> None:
    send_bot(fake, alice)
    client = await SocketClient.connect(served, api_key=alice.api_key)
    await client.send_json({"action": "subscribe", "meetings": [REF]})
    assert (await client.receive_json())["type"] == "subscribed"
    await asyncio.to_thread(fake.advance, 3)
    assert statuses(await client.until_status("active")) == [
        "joining",
        "awaiting_admission",
        "active",
    ]
    with fake.client() as control:  # the control API moves the clock and flushes too
        assert control.post("/_harness/clock/advance", json={"seconds": 10}).status_code == 200
    frame = await client.receive_json()
    assert frame["type"] == "transcript"
    assert frame["confirmed"] or frame["pending"]
    await client.close()


# ----------------------------------------------------------------------- slow consumers


@pytest.mark.asyncio
async def test_a_consumer_that_never_reads_loses_the_oldest_frames_in_process(
    fake: FakeVexa, alice: Account
) -> None:
    fake.live.queue_limit = 16
    send_bot(fake, alice)
    async with fake.websocket(alice) as ws:
        await subscribed(ws)
        fake.advance(600)
        assert ws.session.queued == 16
        assert ws.session.dropped > 0
        assert fake.live.dropped == ws.session.dropped
        newest = drain(ws)
        assert len(newest) == 16
    with fake.client(alice) as client:
        assert client.get("/bots/status").status_code == 200


@pytest.mark.asyncio
async def test_rest_stays_responsive_while_a_socket_consumer_never_reads(
    fake: FakeVexa, alice: Account
) -> None:
    fake.live.queue_limit = 32
    rooms = [{"platform": "google_meet", "native_id": f"room-{i:02d}"} for i in range(10)]
    for room in rooms:
        send_bot(fake, alice, native_meeting_id=room["native_id"])
    with fake.serve() as server:
        client = await SocketClient.connect(server.url, api_key=alice.api_key, receive_buffer=4096)
        await client.send_json({"action": "subscribe", "meetings": rooms})
        assert (await client.receive_json())["type"] == "subscribed"
        [session] = fake.live.sessions
        # From here the client never reads. Ten bots talk for up to two hours (megabytes, more
        # than the socket buffers hold), so the server's sender must block and frames drop.
        async with httpx.AsyncClient(base_url=server.url, headers=alice.headers) as rest:
            for _ in range(72):
                await asyncio.to_thread(fake.advance, 100)
                answer = await asyncio.wait_for(rest.get("/bots/status"), HANG_GUARD)
                assert answer.status_code == 200
                assert session.queued <= 32
                if session.dropped:
                    break
        assert session.dropped > 0
        client.writer.close()
    assert not server.errors


# ----------------------------------------------------------------------- ws.v1 golden twins

SKIPPED = {
    "ChatMessage.summary.json": "chat_message is the v0.12 frame; v0.10's gateway forwards "
    "only tc:meeting:{id}:mutable and bm:meeting:{id}:status (no chat channel)",
    "TranscriptionSegment.live.json": "transcription_segment is the v0.12 per-segment frame; "
    "v0.10 sends the per-speaker transcript bundle (Transcript.bundle.json)",
    "MeetingStatus.scheduled.json": "'scheduled' and the user channel u:{user_id}:meetings "
    "exist only in v0.12",
    "Error.authorization-call-failed.json": "the downstream authorize call raising: ws.v1 "
    "itself marks it production-only, unreachable without a network between services",
}


def json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {dict: "object", list: "array", str: "string", float: "number"}.get(type(value), "null")


def twin_mismatches(golden: Any, ours: Any, path: str = "$", *, exact: bool = True) -> list[str]:
    """Where ``ours`` fails to have the golden's keys and JSON types.

    The frame's own keys must be the golden's exactly; nested objects may add keys (a v0.10
    segment also carries ``start``/``end``), as ws.v1 data frames are additive.
    """
    if json_type(golden) != json_type(ours):
        return [f"{path}: {json_type(ours)} instead of {json_type(golden)}"]
    problems = []
    if isinstance(golden, dict):
        missing = sorted(set(golden) - set(ours))
        extra = sorted(set(ours) - set(golden)) if exact else []
        problems += [f"{path}.{key}: missing" for key in missing]
        problems += [f"{path}.{key}: not in the golden" for key in extra]
        for key in set(golden) & set(ours):
            problems += twin_mismatches(golden[key], ours[key], f"{path}.{key}", exact=False)
    elif isinstance(golden, list) and golden and ours:
        problems += twin_mismatches(golden[0], ours[0], f"{path}[0]", exact=False)
    return problems


@pytest.fixture(scope="module")
def produced() -> dict[str, Any]:
    """One scenario that makes every v0.10 frame ws.v1 has a golden for."""

    async def scenario() -> dict[str, Any]:
        fake = FakeVexa("v0.10", seed=9)
        alice = fake.create_user("alice@example.com")
        send_bot(fake, alice)
        send_bot(fake, alice, native_meeting_id="g5-ws-gate-room")
        out: dict[str, Any] = {}
        async with fake.websocket() as anonymous:
            out["Error.missing-key.json"] = await recv(anonymous)
        async with fake.websocket(api_key="vxa_bot_unknown") as stranger:
            await stranger.send_json({"action": "subscribe", "meetings": [REF]})
            out["Error.authorization-service-error.json"] = await recv(stranger)
        async with fake.websocket(alice) as ws:
            await ws.send_json({"action": "shout"})
            out["Error.unknown-action.json"] = await recv(ws)
            request = json.loads((WS_V1 / "golden" / "SubscribeRequest.subscribe.json").read_text())
            out["SubscribeRequest.subscribe.json"] = request
            await ws.send_json(request)
            out["Subscribed.ack.json"] = await recv(ws)
            unsubscribe = json.loads(
                (WS_V1 / "golden" / "UnsubscribeRequest.unsubscribe.json").read_text()
            )
            out["UnsubscribeRequest.unsubscribe.json"] = unsubscribe
            await ws.send_json(unsubscribe)
            out["unsubscribed"] = await recv(ws)
            await subscribed(ws)
            fake.advance(3)
            frames = drain(ws)
            for _ in range(40):
                fake.advance(0.5)
                frames += drain(ws)
        out["MeetingStatus.active.json"] = next(f for f in frames if statuses([f]) == ["active"])
        out["Transcript.bundle.json"] = next(
            f for f in frames if f["type"] == "transcript" and f["confirmed"] and not f["pending"]
        )
        return out

    return asyncio.run(scenario())


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_every_ws_v1_golden_has_a_twin(path: Path, produced: dict[str, Any]) -> None:
    if path.name in SKIPPED:
        pytest.skip(SKIPPED[path.name])
    golden = json.loads(path.read_text())
    twin = produced[path.name]
    assert twin_mismatches(golden, twin) == []
    if path.name == "Subscribed.ack.json":
        assert twin == golden  # the golden room exists in the scenario: the very same ack
    if path.name == "UnsubscribeRequest.unsubscribe.json":
        assert produced["unsubscribed"] == {"type": "unsubscribed", "meetings": golden["meetings"]}


def test_every_golden_is_either_reproduced_or_explained() -> None:
    names = {p.name for p in GOLDEN}
    assert names, "ws.v1 golden examples not found"
    assert set(SKIPPED) <= names
