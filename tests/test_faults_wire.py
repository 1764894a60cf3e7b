"""Every fault kind, seen by real clients: over a real socket and in-process, the same face.

Each fault is installed on a fresh fake; a real client (httpx sync, httpx async, requests)
makes one call; we compare what the client experienced. In-process and over the socket, an
httpx client must see the same outcome class for the same fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable

import httpx
import pytest
import requests

from harness import FakeVexa, SystemClock
from harness.exchange import drive
from harness.faults import Close, Delay, Fault, Garbage, Hang, Reset, SlowBody, Status, Truncate
from harness.faults.plan import FaultPlan, Rule
from harness.journal import AnswerEvent
from harness.server.wire import deliver
from harness.web.messages import Request

MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}

FAULTS: dict[str, Fault] = {
    "status-503": Status(503),
    "status-429": Status(429, retry_after=2),
    "status-502-html": Status(502, html=True),
    "delay": Delay(0.2),
    "hang": Hang(),
    "hang-then-close": Hang(0.2),
    "reset": Reset(),
    "close": Close(),
    "truncate": Truncate(0.5),
    "garbage": Garbage(),
    "slow-body": SlowBody(0.3, chunks=3),
    "slow-body-past-timeout": SlowBody(4.0, chunks=2),
}

#: What an httpx client sees for each fault (the exception class, or the status it got).
EXPECTED_HTTPX: dict[str, str] = {
    "status-503": "503",
    "status-429": "429",
    "status-502-html": "502",
    "delay": "200",
    "hang": "ReadTimeout",
    "hang-then-close": "RemoteProtocolError",
    "reset": "ReadError",
    "close": "RemoteProtocolError",
    "truncate": "RemoteProtocolError",
    "garbage": "RemoteProtocolError",
    "slow-body": "200",
    "slow-body-past-timeout": "ReadTimeout",
}

TIMEOUT = 1.0


def faulty_fake(fault: Fault, *, phase: str | None = None) -> FakeVexa:
    fake = FakeVexa("docs", seed=1, clock=SystemClock())
    rule = Rule(fault=fault, phase=phase)  # type: ignore[arg-type]
    fake.install_faults(FaultPlan(rules=(rule,)))
    return fake


def outcome_of(call: Callable[[], httpx.Response]) -> str:
    try:
        return str(call().status_code)
    except httpx.HTTPError as exc:
        return type(exc).__name__


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_httpx_sync_over_the_socket(name: str) -> None:
    fake = faulty_fake(FAULTS[name])
    account = fake.create_user()
    with (
        fake.serve() as server,
        httpx.Client(base_url=server.url, headers=account.headers, timeout=TIMEOUT) as client,
    ):
        assert outcome_of(lambda: client.get("/bots/status")) == EXPECTED_HTTPX[name]
    assert fake.errors == []


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_httpx_in_process_sees_the_same_face(name: str) -> None:
    fake = faulty_fake(FAULTS[name])
    account = fake.create_user()
    with fake.client(account, timeout=TIMEOUT) as client:
        assert outcome_of(lambda: client.get("/bots/status")) == EXPECTED_HTTPX[name]


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_httpx_async_over_the_socket(name: str) -> None:
    fake = faulty_fake(FAULTS[name])
    account = fake.create_user()

    async def scenario() -> str:
        server = fake.server()
        await server.start()
        try:
            async with httpx.AsyncClient(
                base_url=server.url, headers=account.headers, timeout=TIMEOUT
            ) as client:
                try:
                    return str((await client.get("/bots/status")).status_code)
                except httpx.HTTPError as exc:
                    return type(exc).__name__
        finally:
            await server.stop()

    assert asyncio.run(scenario()) == EXPECTED_HTTPX[name]


EXPECTED_REQUESTS: dict[str, tuple[type[BaseException], ...] | str] = {
    "hang": (requests.ReadTimeout,),
    "hang-then-close": (requests.ConnectionError,),
    "reset": (requests.ConnectionError,),
    "close": (requests.ConnectionError,),
    "truncate": (requests.exceptions.ChunkedEncodingError,),
    "garbage": (requests.ConnectionError,),
    "slow-body-past-timeout": (requests.ConnectionError,),
}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_requests_over_the_socket(name: str) -> None:
    fake = faulty_fake(FAULTS[name])
    account = fake.create_user()
    with fake.serve() as server:
        expected = EXPECTED_REQUESTS.get(name, EXPECTED_HTTPX[name])
        if isinstance(expected, str):
            response = requests.get(
                f"{server.url}/bots/status", headers=account.headers, timeout=TIMEOUT
            )
            assert str(response.status_code) == expected
        else:
            with pytest.raises(expected):
                requests.get(f"{server.url}/bots/status", headers=account.headers, timeout=TIMEOUT)


def test_a_reset_is_a_genuine_econnreset() -> None:
    fake = faulty_fake(Reset())
    account = fake.create_user()
    with fake.serve() as server, socket.create_connection(("127.0.0.1", server.port)) as sock:
        request = f"GET /bots/status HTTP/1.1\r\nHost: x\r\nX-API-Key: {account.api_key}\r\n\r\n"
        sock.sendall(request.encode())

        def read_all() -> None:
            while sock.recv(4096):
                pass

        with pytest.raises(ConnectionResetError):
            read_all()


@pytest.mark.parametrize("transport", ["socket", "in-process"])
def test_reset_after_commit_creates_the_bot_and_loses_the_answer(transport: str) -> None:
    fake = FakeVexa("v0.10", seed=2, clock=SystemClock())
    fake.faults.on("POST", "/bots").attempt(1).after_commit().reset()
    account = fake.create_user()
    if transport == "socket":
        with (
            fake.serve() as server,
            httpx.Client(base_url=server.url, headers=account.headers) as client,
        ):
            with pytest.raises(httpx.ReadError):
                client.post("/bots", json=MEET)
            listed = client.get("/meetings").json()["meetings"]
    else:
        with fake.client(account) as client:
            with pytest.raises(httpx.ReadError):
                client.post("/bots", json=MEET)
            listed = client.get("/meetings").json()["meetings"]
    assert [(m["platform"], m["native_meeting_id"], m["status"]) for m in listed] == [
        ("google_meet", "abc-defg-hij", "requested")
    ]
    events = [(e.type, e.exchange) for e in fake.journal]
    assert events[:4] == [("request", 1), ("fault", 1), ("commit", 1), ("cut", 1)]
    [commit] = fake.journal.commits("bot_created")
    assert (commit.platform, commit.native_meeting_id, commit.meeting_id) == (
        "google_meet",
        "abc-defg-hij",
        1,
    )
    cut = [e for e in fake.journal.of_exchange(1) if e.type == "cut"]
    assert [c.how for c in cut] == ["reset"]  # type: ignore[union-attr]


def test_before_commit_faults_change_nothing() -> None:
    fake = faulty_fake(Reset(), phase="before_commit")
    account = fake.create_user()
    with (
        fake.serve() as server,
        httpx.Client(base_url=server.url, headers=account.headers) as client,
        pytest.raises(httpx.ReadError),
    ):
        client.post("/bots", json=MEET)
    assert fake.model.meetings == {}
    assert fake.journal.commits() == []


def test_the_journal_replays_byte_for_byte() -> None:
    plan = FaultPlan.from_json(
        {
            "seed": 11,
            "rules": [
                {
                    "match": {"path": "/meetings"},
                    "on": {"probability": 0.5},
                    "fault": {"kind": "status", "status": 503},
                },
                {
                    "match": {"method": "POST", "path": "/bots"},
                    "on": {"attempts": [1]},
                    "phase": "after_commit",
                    "fault": {"kind": "close"},
                },
            ],
        }
    )

    def run(seed: int) -> str:
        fake = FakeVexa("docs", seed=3, faults=FaultPlan(plan.rules, seed, None))
        account = fake.create_user("same@example.com")
        with fake.client(account) as client:
            for _ in range(3):
                with contextlib.suppress(httpx.HTTPError):
                    client.post("/bots", json=MEET)
                fake.advance(2)
            for _ in range(20):
                client.get("/meetings")
                fake.advance(0.5)
        return fake.journal.dumps()

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_two_hundred_hung_clients_do_not_stop_the_server() -> None:
    fake = FakeVexa("docs", clock=SystemClock())
    fake.faults.on("GET", "/bots/status").hang()
    account = fake.create_user()

    async def scenario(url: str) -> tuple[list[str], int]:
        async with httpx.AsyncClient(
            base_url=url,
            headers=account.headers,
            timeout=httpx.Timeout(5.0),
            limits=httpx.Limits(max_connections=300),
        ) as client:
            hung = [asyncio.create_task(client.get("/bots/status")) for _ in range(200)]
            await asyncio.sleep(0.3)
            answers = [(await client.get("/meetings")).status_code for _ in range(5)]
            done = sum(task.done() for task in hung)
            for task in hung:
                task.cancel()
            await asyncio.gather(*hung, return_exceptions=True)
            return [str(a) for a in answers], done

    with fake.serve() as server:
        answers, finished = asyncio.run(scenario(server.url))
    assert answers == ["200"] * 5
    assert finished == 0  # still hung while the server kept answering others


def test_in_process_hangs_and_delays_run_on_virtual_time() -> None:
    fake = FakeVexa("docs")  # a virtual clock
    fake.faults.on("GET", "/bots/status").call(1).hang()
    fake.faults.on("GET", "/bots/status").call(2).delay(45)
    account = fake.create_user()
    start = fake.clock.now()
    with fake.client(account, timeout=30) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.get("/bots/status")
        assert fake.clock.now() - start == 30  # exactly the client's own read timeout
        assert client.get("/bots/status").status_code == 200
        assert fake.clock.now() - start == 75
    cuts = [e for e in fake.journal if e.type == "cut"]
    assert [(c.how, c.at - start) for c in cuts] == [("client_timeout", 30.0)]  # type: ignore[union-attr]


def test_a_client_without_a_timeout_is_told_it_would_hang_forever() -> None:
    from harness.server.inprocess import ClientWouldHang

    fake = FakeVexa("docs")
    fake.faults.on("GET", "/meetings").hang()
    account = fake.create_user()
    with (
        fake.client(account, timeout=None) as client,
        pytest.raises(ClientWouldHang, match="no read timeout"),
    ):
        client.get("/meetings")


def test_the_control_api_programs_faults_and_refuses_bad_plans() -> None:
    fake = FakeVexa("docs", clock=SystemClock())
    account = fake.create_user()
    rule = {
        "match": {"method": "GET", "path": "/meetings"},
        "on": {"first": 1},
        "fault": {"kind": "status", "status": 503},
    }
    with (
        fake.serve() as server,
        httpx.Client(base_url=server.url, headers=account.headers) as client,
    ):
        assert client.post("/_harness/faults/rules", json=rule).status_code == 201
        bad = client.post(
            "/_harness/faults/rules", json={"fault": {"kind": "delay", "seconds": -1}}
        )
        assert bad.status_code == 422
        assert bad.json()["detail"] == [
            {
                "field": "rules[1].fault.seconds",
                "problem": "Input should be greater than or equal to 0 (got -1)",
            }
        ]
        assert len(client.get("/_harness/faults").json()["rules"]) == 1  # unchanged
        assert client.get("/meetings").status_code == 503
        assert client.get("/meetings").status_code == 200
        journal = client.get("/_harness/journal").json()
        assert [e["type"] for e in journal["events"] if e["exchange"] == 4] == [
            "request",
            "fault",
            "answer",
        ]
        assert client.put("/_harness/faults", content=b"{").status_code == 422
        assert client.delete("/_harness/faults").status_code == 204
        assert client.get("/_harness/faults").json()["rules"] == []


def test_serve_loads_a_plan_file(tmp_path: object) -> None:
    import subprocess
    import sys
    from pathlib import Path

    plan = Path(str(tmp_path)) / "plan.json"
    rule = {"match": {"path": "/bots/status"}, "fault": {"kind": "status", "status": 504}}
    plan.write_text(json.dumps({"rules": [rule]}))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "serve",
            "--port",
            "0",
            "--api-key",
            "key-for-plan",
            "--faults",
            str(plan),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        answer = httpx.get(f"{url}/bots/status", headers={"X-API-Key": "key-for-plan"})
        assert answer.status_code == 504
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()

    bad = Path(str(tmp_path)) / "bad.json"
    bad.write_text('{"rules": [{"fault": {"kind": "explode"}}]}')
    result = subprocess.run(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--faults", str(bad)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "rules[0].fault: fault.kind must be one of" in result.stderr


class _SlowWriter:
    """A socket writer whose ``drain`` takes a second of harness time: a server thread that
    was descheduled after handing the answer to the kernel, while the client already read it."""

    def __init__(self, fake: FakeVexa) -> None:
        self.fake = fake
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    async def drain(self) -> None:
        self.fake.advance(1.0)


@pytest.mark.parametrize(
    "fault", [Status(503, retry_after=2), SlowBody(0.5, chunks=2)], ids=["status", "slow-body"]
)
def test_an_answer_is_stamped_when_its_last_bytes_go_out_not_when_the_write_returns(
    fault: Fault,
) -> None:
    """A late stamp would shorten the gap the client really slept and fail
    ``honor-retry-after`` on a busy machine."""
    fake = FakeVexa("docs", seed=1)  # virtual time: the slow drain is an exact second
    fake.install_faults(FaultPlan(rules=(Rule(fault=fault),)))
    exchange = fake.exchange(Request.build("GET", "/bots/status", fake.create_user().headers))
    outcome = drive(exchange.walk(), fake.advance)
    writer = _SlowWriter(fake)
    stamps: list[float] = []
    last_bytes = exchange.last_bytes

    def spy() -> None:
        stamps.append(fake.clock.now())
        last_bytes()

    async def pause(seconds: float) -> None:
        fake.advance(seconds)

    exchange.last_bytes = spy  # type: ignore[method-assign]
    kept = asyncio.run(
        deliver(outcome, exchange, None, writer, lambda r: b"HTTP" + r.body, pause)  # type: ignore[arg-type]
    )
    assert kept
    assert outcome.response is not None
    assert writer.written.endswith(outcome.response.body)
    (answer,) = [e for e in fake.journal if isinstance(e, AnswerEvent)]
    assert stamps == [answer.at]
    assert fake.clock.now() == answer.at + 1.0  # the slow drain came after the stamp
