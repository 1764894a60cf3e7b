"""A keep-alive HTTP/1.1 load generator on raw asyncio sockets, and the servers it loads.

Both servers run in their own process and are loaded by the same generator in this one, so
the ratio compares the servers, not the generators. Latency is measured per request from the
write of its request to the read of its complete answer (``Content-Length`` framed).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["LoadResult", "bare_uvicorn", "harness_server", "load", "run_load", "summarize"]

_BASELINE_APP = """
import json
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = json.dumps({"running_bots": []}, separators=(",", ":")).encode()

async def status(request):
    return Response(BODY, media_type="application/json")

app = Starlette(routes=[Route("/bots/status", status)])
"""


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def _wait_for_port(process: subprocess.Popen[str], pattern: str) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        found = re.search(pattern, line)
        if found:
            return int(found.group(1))
    process.kill()
    raise RuntimeError(f"server did not start (looked for {pattern!r})")


@contextmanager
def harness_server() -> Iterator[tuple[int, str]]:
    """``vexa-harness serve --port 0`` in a subprocess: yields (port, api key)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "serve", "--port", "0", "--api-key", "bench-key-0001"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        yield _wait_for_port(process, r"listening on http://127\.0\.0\.1:(\d+)"), "bench-key-0001"
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def bare_uvicorn(tmp_dir: str) -> Iterator[tuple[int, str]]:
    """uvicorn + Starlette answering the same canned JSON (h11, as pure-Python as ours)."""
    app = os.path.join(tmp_dir, "bench_baseline_app.py")
    with open(app, "w", encoding="utf-8") as out:
        out.write(_BASELINE_APP)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench_baseline_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--http",
            "h11",
            "--log-level",
            "info",
            "--no-access-log",
        ],
        cwd=tmp_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield _wait_for_port(process, r"running on http://127\.0\.0\.1:(\d+)"), ""
    finally:
        process.terminate()
        process.wait(timeout=10)


async def _worker(port: int, request: bytes, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.perf_counter() < until:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
    finally:
        writer.close()


def load(port: int, api_key: str, connections: int, seconds: float) -> tuple[float, list[float]]:
    """Keep ``connections`` keep-alive connections busy for ``seconds``: (elapsed, latencies)."""
    key = f"X-API-Key: {api_key}\r\n" if api_key else ""
    request = f"GET /bots/status HTTP/1.1\r\nHost: 127.0.0.1\r\n{key}\r\n".encode()
    latencies: list[float] = []

    async def main() -> float:
        until = time.perf_counter() + seconds
        start = time.perf_counter()
        await asyncio.gather(
            *(_worker(port, request, until, latencies) for _ in range(connections))
        )
        return time.perf_counter() - start

    return asyncio.run(main()), latencies


def summarize(elapsed: float, latencies: list[float]) -> LoadResult:
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return LoadResult(len(ordered) / elapsed, pick(0.5), pick(0.99))


def run_load(port: int, api_key: str, connections: int, seconds: float) -> LoadResult:
    """Keep ``connections`` keep-alive connections busy for ``seconds``, then stop."""
    return summarize(*load(port, api_key, connections, seconds))
