"""Vexa v0.10's retry schedule: pure, then as the fake plays it against broken receivers.

The expected times are written out by hand from vexa-api.md §7 (1/2/4 s quick retries with up
to 0.5 s of jitter; durable retries 60, 60, 300, 1800, 7200 s, each at the worker's next
30-second poll), not computed by the code under test.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any

import httpx
import pytest
from webhook_receivers import closed_port, socket_server

from harness import FakeVexa
from harness.journal import WebhookEvent
from harness.webhooks.profiles import V0_10
from harness.webhooks.receivers import CallableReceiver
from harness.webhooks.schedule import Outcome, Track, after, final_result, poll_tick, quick_backoff

#: Real seconds an unanswered attempt gets before it counts as hanging: generous where the
#: receiver answers (a refused connection is quick, but not under a loaded CI machine), short
#: where it really hangs (each hanging attempt costs that much real time).
GRACE = 2.0
HANG_GRACE = 0.05


# ---------------------------------------------------------------------------- pure


def test_quick_backoff_is_one_two_four_seconds_plus_half_a_second_of_jitter() -> None:
    rng = random.Random(1)
    for n, low in enumerate((1.0, 2.0, 4.0)):
        waits = [quick_backoff(n, V0_10, rng) for _ in range(200)]
        assert low <= min(waits)
        assert max(waits) <= low + 0.5
        assert len(set(waits)) > 1, "jittered"
    assert quick_backoff(9, V0_10, rng) == 10.0, "capped at 10 s"


def test_poll_ticks_round_up_to_the_worker_period() -> None:
    assert poll_tick(0.0, 0.0, 30) == 0.0
    assert poll_tick(0.1, 0.0, 30) == 30.0
    assert poll_tick(67.4, 0.0, 30) == 90.0
    assert poll_tick(90.0, 0.0, 30) == 90.0
    assert poll_tick(101.0, 5.0, 30) == 125.0


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, "delivered"),
        (204, "delivered"),
        (301, "rejected"),
        (400, "rejected"),
        (404, "rejected"),
        (410, "rejected"),
        (429, None),
        (500, None),
        (501, None),
        (503, None),
    ],
)
def test_which_answers_end_a_delivery(status: int, result: str | None) -> None:
    assert final_result(Outcome(status=status)) == result


def replay_policy(outcome: Outcome, answer_after: float = 0.0) -> list[float]:
    """Attempt start times of an emission at t=0 whose every attempt ends as ``outcome``."""
    rng, track, at, starts = random.Random(3), Track(), 0.0, []
    while True:
        starts.append(at)
        step = after(
            V0_10, track, outcome, started=at, ended=at + answer_after, origin=0.0, rng=rng
        )
        track = step.track
        if step.next_at is None:
            assert step.result == "exhausted", step
            return starts
        at = step.next_at


def test_a_failing_delivery_gets_four_quick_attempts_then_five_durable_ones() -> None:
    starts = replay_policy(Outcome(error="connect"))
    assert len(starts) == 9
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert 1 <= gaps[0] <= 1.5
    assert 2 <= gaps[1] <= 2.5
    assert 4 <= gaps[2] <= 4.5
    assert starts[4] == 30 * math.ceil((starts[3] + 60) / 30)
    assert gaps[4:] == [60, 300, 1800, 7200]


def test_a_failure_without_a_quick_retry_goes_straight_to_the_durable_queue() -> None:
    for outcome in (Outcome(status=501), Outcome(error="protocol")):
        starts = replay_policy(outcome)
        assert starts == [0, 60, 120, 420, 2220, 9420]


def test_durable_retries_count_from_the_tick_not_from_the_timeout() -> None:
    starts = replay_policy(Outcome(error="timeout"), answer_after=30.0)
    assert starts[4] == 30 * math.ceil((starts[3] + 30 + 60) / 30)
    assert [b - a for a, b in itertools.pairwise(starts[4:])] == [60, 300, 1800, 7200]


def test_an_entry_older_than_the_max_age_is_dropped() -> None:
    short = V0_10.with_changes(max_age=150.0)
    track = Track("durable", attempts=4, in_phase=0, queued_at=0.0)
    step = after(
        short, track, Outcome(status=503), started=60, ended=60, origin=0, rng=random.Random()
    )
    assert step.next_at == 120
    assert step.result is None
    step = after(
        short,
        step.track,
        Outcome(status=503),
        started=120,
        ended=120,
        origin=0,
        rng=random.Random(),
    )
    assert step.result == "expired"
    assert step.next_at is None


# ---------------------------------------------------------------------------- played by the fake


def completed_meeting(
    url: str, receiver: CallableReceiver | None = None, grace: float = GRACE
) -> tuple[FakeVexa, float]:
    """A fake whose one meeting completes (at the returned time) with a webhook to ``url``."""
    fake = FakeVexa("v0.10")
    if receiver is not None:
        fake.webhooks.mount(url, receiver)
    alice = fake.create_user()
    bot = {
        "platform": "google_meet",
        "native_meeting_id": "abc-defg-hij",
        "recording_enabled": False,
    }
    with fake.client(alice) as client:
        client.put("/user/webhook", json={"webhook_url": url, "webhook_secret": "s3cret"})
        client.post("/bots", json=bot).raise_for_status()
        fake.advance(5)
        client.delete("/bots/google_meet/abc-defg-hij").raise_for_status()
    fake.webhooks.run(1, grace=grace)
    done = fake.meeting(1).end_time
    assert done is not None
    return fake, done


def attempts(fake: FakeVexa) -> list[WebhookEvent]:
    found = [e for e in fake.journal.webhooks() if e.event_type == "meeting.completed"]
    assert [e.attempt for e in found] == list(range(1, len(found) + 1))
    return found


def check_quick_then_durable(
    fake: FakeVexa, done: float, answer_after: float
) -> list[WebhookEvent]:
    origin = fake.webhooks.poll_origin  # the durable worker's first poll

    def tick(t: float) -> float:
        return origin + 30 * math.ceil((t - origin) / 30)

    seen = attempts(fake)
    assert len(seen) == 9, [(e.at - done, e.error, e.status) for e in seen]
    at = [e.at for e in seen]
    assert at[0] == done
    for earlier, later, low in zip(at, at[1:4], (1, 2, 4), strict=False):
        assert low <= later - (earlier + answer_after) <= low + 0.5
    assert at[4] == tick(at[3] + answer_after + 60)
    assert [b - a for a, b in itertools.pairwise(at[4:])] == [60, 300, 1800, 7200]
    for event in seen:
        assert event.answered_at == pytest.approx(event.at + answer_after)
    (record,) = [r for r in fake.webhooks.deliveries() if r.event_type == "meeting.completed"]
    assert record.state == "exhausted"
    assert record.attempts == 9
    assert any("gave up after 9 attempts" in line for line in fake.webhooks.problems())
    fake.check()
    return seen


def test_a_receiver_that_is_down_gets_the_whole_schedule_on_virtual_time() -> None:
    fake, done = completed_meeting(closed_port())
    fake.webhooks.run(12 * 3600, grace=GRACE)
    seen = check_quick_then_durable(fake, done, 0.0)
    assert {e.error for e in seen} == {"connect"}
    assert {e.status for e in seen} == {None}
    assert "could not connect" in fake.webhooks.problems()[0]


def test_a_receiver_that_hangs_times_out_after_30_s_each_time() -> None:
    with socket_server("hang") as url:
        fake, done = completed_meeting(url, grace=HANG_GRACE)
        fake.webhooks.run(12 * 3600, grace=HANG_GRACE)
        seen = check_quick_then_durable(fake, done, 30.0)
    assert {e.error for e in seen} == {"timeout"}
    assert "timed out" in fake.webhooks.problems()[0]


def test_a_receiver_that_answers_500_gets_quick_then_durable_retries() -> None:
    failing = CallableReceiver(lambda headers, body: 500)
    fake, done = completed_meeting("http://receiver.test/hook", failing)
    fake.webhooks.run(12 * 3600, grace=GRACE)
    seen = check_quick_then_durable(fake, done, 0.0)
    assert {e.status for e in seen} == {500}


def test_a_receiver_that_drops_connections_goes_straight_to_durable_retries() -> None:
    with socket_server("drop") as url:
        fake, done = completed_meeting(url)
        fake.webhooks.run(12 * 3600, grace=GRACE)
    seen = attempts(fake)
    assert {e.error for e in seen} == {"protocol"}, seen
    offsets = [e.at - done for e in seen]
    first = fake.webhooks.poll_origin + 30 * math.ceil((done + 60 - fake.webhooks.poll_origin) / 30)
    assert [e.at for e in seen][:2] == [done, first]
    assert [b - a for a, b in itertools.pairwise(offsets[1:])] == [60, 300, 1800, 7200]


def test_a_4xx_is_final_and_a_late_2xx_ends_the_retries() -> None:
    fake, _ = completed_meeting("http://gone.test/hook", CallableReceiver(lambda h, b: 410))
    assert [e.status for e in attempts(fake)] == [410]
    assert fake.webhooks.deliveries()[0].state == "rejected"

    answers = iter([503, 502, 200])
    fake, _ = completed_meeting(
        "http://flaky.test/hook", CallableReceiver(lambda h, b: next(answers))
    )
    fake.webhooks.run(60, grace=GRACE)
    assert [e.status for e in attempts(fake)] == [503, 502, 200]
    assert fake.webhooks.deliveries()[0].state == "delivered"
    assert fake.webhooks.problems() == []


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/vexa", "http://10.0.0.7/hook", "https://8.8.8.8/x"]
)
def test_hosts_off_this_machine_are_never_contacted(url: str) -> None:
    fake, _ = completed_meeting(url)
    (first,) = attempts(fake)[:1]
    assert first.error == "connect"
    assert "is not this machine" in fake.webhooks.problems()[0]
    assert "allow_remote" in fake.webhooks.problems()[0]


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    async def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("the network was used")

    monkeypatch.setattr(httpx.AsyncClient, "post", refuse)
    return calls


def test_mounted_receivers_never_touch_the_network(no_network: list[Any]) -> None:
    fake, _ = completed_meeting("http://receiver.test/hook", CallableReceiver(lambda h, b: 200))
    assert [e.status for e in attempts(fake)] == [200]
    assert no_network == []
