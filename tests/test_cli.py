"""``vexa-harness serve`` as a user runs it: a real process, a real port, real signals."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)$")


@contextmanager
def serve(*args: str) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().rstrip("\n")
        match = LISTENING.match(first)
        assert match, (
            f"first line was {first!r}; stderr: {process.stderr.read() if process.stderr else ''}"
        )
        rest: list[str] = []
        while not rest or not rest[-1].startswith("profile: "):
            rest.append(process.stdout.readline().rstrip("\n"))
        yield process, f"http://127.0.0.1:{match.group(1)}", rest
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_serve_prints_the_url_first_and_answers_as_vexa() -> None:
    with serve("--api-key", "key-alice-1", "--api-key", "key-bob-22", "--profile", "v0.10") as (
        process,
        url,
        _,
    ):
        alice = {"X-API-Key": "key-alice-1"}
        created = httpx.post(
            f"{url}/bots",
            headers=alice,
            json={"platform": "google_meet", "native_meeting_id": "abc-defg-hij"},
        )
        assert created.status_code == 201
        assert httpx.get(f"{url}/bots/status", headers={"X-API-Key": "key-bob-22"}).json() == {
            "running_bots": []
        }
        assert httpx.get(f"{url}/meetings").json() == {"detail": "Missing API key"}
        assert httpx.get(f"{url}/_harness/health").json()["profile"] == "v0.10"
    assert process.returncode == 0


def test_serve_without_keys_generates_and_prints_one() -> None:
    with serve() as (_, url, rest):
        line = next(line for line in rest if line.startswith("api key: "))
        key = line.split()[2]
        assert key.startswith("vxa_bot_")
        me = httpx.get(f"{url}/auth/me", headers={"X-API-Key": key}).json()
        assert me["scopes"] == ["bot", "tx", "browser"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *args], capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--profile", "v9"], "invalid choice: 'v9'"),
        (["serve", "--port", "http"], "invalid int value: 'http'"),
        (["serve", "--port", "70000"], "--port 70000 is not a port"),
        (["serve", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_bad_flags_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "--port 0 picks a free one" in result.stderr
