"""Racing clients over the real loopback socket: one bot per meeting, no lost state, isolation."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import requests

from harness import FakeVexa, SystemClock

MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}


@pytest.mark.parametrize("profile", ["docs", "v0.10"])
def test_sixteen_threads_racing_post_bots_create_exactly_one(profile: str) -> None:
    fake = FakeVexa(profile, clock=SystemClock())
    alice = fake.create_user(max_concurrent_bots=100)
    barrier = threading.Barrier(16)

    def race(_: int) -> int:
        with httpx.Client(base_url=server.url, headers=alice.headers, timeout=10) as client:
            barrier.wait(timeout=10)
            return client.post("/bots", json=MEET).status_code

    with fake.serve() as server, ThreadPoolExecutor(16) as pool:
        statuses = Counter(pool.map(race, range(16)))
        listed = requests.get(f"{server.url}/meetings", headers=alice.headers, timeout=10).json()

    created = fake.profile.create_bot_status
    assert statuses == Counter({created: 1, 409: 15})
    assert len(listed["meetings"]) == 1
    assert fake.errors == []


def test_concurrent_users_never_see_each_other() -> None:
    fake = FakeVexa("v0.10", clock=SystemClock())
    users = [fake.create_user(f"user{i}@example.com") for i in range(8)]

    def session(index: int) -> tuple[int, list[int], set[int]]:
        account = users[index]
        with httpx.Client(base_url=server.url, headers=account.headers, timeout=10) as client:
            mine = []
            for n in range(5):
                body = {
                    "platform": "teams",
                    "native_meeting_id": f"{index:05d}{n:05d}",
                    "passcode": "abcd1234",
                }
                response = client.post("/bots", json=body)
                assert response.status_code == 201, response.text
                mine.append(response.json()["id"])
            # Everyone also sends a bot to the same shared meeting: per-user dedupe allows it.
            shared = client.post("/bots", json=MEET)
            assert shared.status_code == 201, shared.text
            mine.append(shared.json()["id"])
            listed = {m["id"] for m in client.get("/meetings").json()["meetings"]}
            owners = {m["user_id"] for m in client.get("/meetings").json()["meetings"]}
            return account.user_id, mine, listed | {-o for o in owners}

    with fake.serve() as server, ThreadPoolExecutor(8) as pool:
        results = list(pool.map(session, range(8)))

    all_ids: list[int] = []
    for user_id, mine, seen in results:
        assert seen == set(mine) | {-user_id}
        all_ids += mine
    assert len(set(all_ids)) == len(all_ids) == 8 * 6
    assert fake.errors == []
