"""Webhook fault plans: seeded, and each one the noise (or the attack) it claims to be."""

from __future__ import annotations

import random
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from harness.webhooks.adversary import FORGERIES, clean, duplicated, forge, forged, reordered
from harness.webhooks.signing import delivery_headers, verify

SECRET = "whsec_adversary"
BODY = b'{"event_id": "evt_00000000000000000000000000000001", "event_type": "meeting.completed"}'
NOW = 1_781_946_000.0

sizes = st.integers(min_value=1, max_value=40)
seeds = st.integers(min_value=0, max_value=2**32)


@given(sizes, seeds)
def test_a_duplicated_stream_delivers_every_event_exactly_twice(n: int, seed: int) -> None:
    plan = duplicated(n, seed)
    assert Counter(plan.order()) == dict.fromkeys(range(n), 2)
    firsts = [d.event for d in plan.deliveries if d.copy == 0]
    assert firsts == list(range(n)), "first deliveries keep the stream order"
    position = {(d.event, d.copy): i for i, d in enumerate(plan.deliveries)}
    for d in plan.deliveries:
        if d.copy:
            assert position[(d.event, 1)] > position[(d.event, 0)]
    shapes = {d.why for d in plan.deliveries if d.copy}
    if n >= 4:
        assert shapes == {"duplicate", "concurrent duplicate", "lost answer", "late redelivery"}
    for batch in plan.groups():
        if len(batch) > 1:
            assert {d.event for d in batch} == {batch[0].event}
            assert {d.why for d in batch if d.copy} == {"concurrent duplicate"}


@given(st.integers(min_value=2, max_value=40), seeds, st.integers(min_value=1, max_value=5))
def test_a_reordered_stream_is_a_new_order_where_no_meeting_ends_last(
    n: int, seed: int, meetings: int
) -> None:
    keys = [random.Random(seed + i).randrange(meetings) for i in range(n)]
    plan = reordered(n, seed, keys)
    order = plan.order()
    assert sorted(order) == list(range(n))
    assert order != list(range(n))
    for key in set(keys):
        members = [i for i in range(n) if keys[i] == key]
        if len(members) > 1:
            delivered = [e for e in order if keys[e] == key]
            assert delivered[-1] != members[-1], (key, members, delivered)


@given(sizes, seeds)
def test_plans_are_frozen_values_of_their_seed(n: int, seed: int) -> None:
    assert duplicated(n, seed) == duplicated(n, seed)
    assert reordered(n, seed) == reordered(n, seed)
    assert forged(n, seed) == forged(n, seed)


def test_different_seeds_give_different_plans() -> None:
    assert len({duplicated(12, seed).deliveries for seed in range(10)}) > 1
    assert len({reordered(12, seed).deliveries for seed in range(10)}) > 1


def test_a_clean_plan_is_the_stream_in_order() -> None:
    assert clean(3).order() == [0, 1, 2]
    assert clean(3).describe() == "clean (seed 0): #0, #1, #2"


def test_a_forged_stream_forges_every_event_every_way() -> None:
    plan = forged(4, seed=2)
    assert Counter(d.forge for d in plan.deliveries) == dict.fromkeys(FORGERIES, 4)
    for d in plan.deliveries:
        if d.forge == "stale":
            assert d.skew < -300
        elif d.forge == "future":
            assert d.skew > 300
        else:
            assert d.skew == 0


def test_an_honest_duplicate_verifies_with_a_fresh_signature() -> None:
    rng = random.Random(0)
    first, body = forge(None, secret=SECRET, body=BODY, at=NOW, rng=rng)
    again, same = forge(None, secret=SECRET, body=BODY, at=NOW + 61, rng=rng)
    assert same == body == BODY
    assert dict(first) != dict(again)
    assert verify(SECRET, first, body, NOW) is None
    assert verify(SECRET, again, body, NOW + 61) is None


def test_every_forgery_fails_verification_for_its_own_reason() -> None:
    rng = random.Random(0)
    reasons = {}
    for kind in FORGERIES:
        headers, body = forge(kind, secret=SECRET, body=BODY, at=NOW, rng=rng)
        reasons[kind] = verify(SECRET, headers, body, NOW)
    assert "missing" in reasons["unsigned"]
    assert "does not match" in reasons["wrong_secret"]
    assert "from now" in reasons["stale"]
    assert "from now" in reasons["future"]
    assert "does not match" in reasons["tampered"]
    headers, body = forge("tampered", secret=SECRET, body=BODY, at=NOW, rng=rng)
    assert body != BODY
    assert b"meeting.completed" in body
    assert dict(headers)["Authorization"] == f"Bearer {SECRET}"
    unsigned, _ = forge("unsigned", secret=SECRET, body=BODY, at=NOW, rng=rng)
    assert unsigned == (("Content-Type", "application/json"),)


def test_verify_takes_the_300_second_window_both_ways() -> None:
    for offset in (-300, 0, 300):
        assert verify(SECRET, delivery_headers(SECRET, BODY, NOW + offset), BODY, NOW) is None
    for offset in (-301, 301):
        assert verify(SECRET, delivery_headers(SECRET, BODY, NOW + offset), BODY, NOW) is not None
