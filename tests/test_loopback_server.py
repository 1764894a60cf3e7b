"""The loopback server over real sockets, driven by real clients (httpx, requests, raw TCP)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import h11
import httpx
import pytest
import requests

from harness.server.loopback import LoopbackServer
from harness.server.wire import abort_with_reset
from harness.web.messages import Request, Response, json_response

BIG = 2 * 1024 * 1024
HANG_GUARD = 5.0  # seconds; only there so a bug fails the test instead of hanging it
ROOT = Path(__file__).resolve().parents[1]


def echo(request: Request) -> Response:
    if request.path == "/boom":
        raise RuntimeError("boom")
    if request.path == "/empty":
        return Response(204, (("x-trace", "t1"), ("content-length", "99")))
    if request.path == "/bad-header":
        return Response(200, (("x-evil", "a\r\nb"),), b"never sent")
    if request.path == "/big":
        return Response(200, (("content-type", "application/octet-stream"),), b"x" * BIG)
    return json_response(
        200,
        {
            "method": request.method,
            "path": request.path,
            "query": [list(pair) for pair in request.query],
            "body": request.body.decode("latin-1"),
            "transfer_encoding": request.headers.get("transfer-encoding"),
        },
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(echo) as srv:
        yield srv
    if srv.errors:  # surface anything the server swallowed in the test that caused it
        raise srv.errors[0]


def raw_exchange(srv: LoopbackServer, data: bytes) -> bytes:
    """Send raw bytes, then read until the server closes."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=HANG_GUARD) as sock:
        sock.sendall(data)
        return read_until_eof(sock)


def read_until_eof(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def parse_responses(data: bytes, methods: list[bytes] | None = None) -> list[tuple[int, bytes]]:
    """Split a byte stream of responses with a client-side h11 (a strict second opinion)."""
    client = h11.Connection(h11.CLIENT)
    client.receive_data(data)
    client.receive_data(b"")
    answers = []
    for method in methods or [b"GET"]:
        client.send(h11.Request(method=method, target="/", headers=[("host", "x")]))
        client.send(h11.EndOfMessage())
        status, body = 0, b""
        while not isinstance(event := client.next_event(), h11.EndOfMessage):
            if isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
        answers.append((status, body))
        if client.our_state is h11.DONE and client.their_state is h11.DONE:
            client.start_next_cycle()
    return answers


def test_httpx_sync_status_headers_json_query_and_decoded_path(server: LoopbackServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    r = httpx.get(f"{server.url}/meetings/google_meet/abc%20def?limit=5&q=a%26b")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.headers["server"] == "vexa-harness"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.json() == {
        "method": "GET",
        "path": "/meetings/google_meet/abc def",
        "query": [["limit", "5"], ["q", "a&b"]],
        "body": "",
        "transfer_encoding": None,
    }


def test_keep_alive_reuses_one_connection(server: LoopbackServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        for i in range(5):
            assert client.post("/bots", content=f"n={i}").json()["body"] == f"n={i}"
    assert server.connections_accepted == 1


def test_requests_session(server: LoopbackServer) -> None:
    with requests.Session() as session:
        r = session.post(f"{server.url}/bots?x=1", json={"platform": "teams"}, timeout=5)
        assert r.status_code == 200
        assert json.loads(r.json()["body"]) == {"platform": "teams"}
        assert session.delete(f"{server.url}/bots/a", timeout=5).json()["method"] == "DELETE"
    assert server.connections_accepted == 1


@pytest.mark.asyncio
async def test_httpx_async_in_the_same_loop() -> None:
    srv = LoopbackServer(echo)
    await srv.start()
    try:
        async with httpx.AsyncClient(base_url=srv.url) as client:
            answers = await asyncio.gather(*(client.get(f"/m/{i}") for i in range(10)))
            assert [a.json()["path"] for a in answers] == [f"/m/{i}" for i in range(10)]
            r = await client.put("/x", content=b"payload")
            assert r.json()["body"] == "payload"
    finally:
        await srv.stop()
    assert srv.errors == []


def test_chunked_request_body_arrives_whole(server: LoopbackServer) -> None:
    def parts() -> Iterator[bytes]:
        for i in range(50):
            yield f"{i:04d}".encode() * 100

    r = httpx.post(f"{server.url}/upload", content=parts())
    assert r.json()["transfer_encoding"] == "chunked"
    assert r.json()["body"] == "".join(f"{i:04d}" * 100 for i in range(50))


def test_large_response_and_head(server: LoopbackServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert len(client.get("/big").content) == BIG
        head = client.head("/big")
        assert head.status_code == 200
        assert head.headers["content-length"] == str(BIG)
        assert head.content == b""
        assert client.get("/after").json()["path"] == "/after"  # framing survived HEAD
    assert server.connections_accepted == 1


def test_many_threads_concurrently(server: LoopbackServer) -> None:
    def worker(n: int) -> list[int]:
        with httpx.Client(base_url=server.url) as client:
            return [client.get(f"/t/{n}/{i}").status_code for i in range(20)]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(worker, range(16)))
    assert results == [[200] * 20] * 16


def test_oversized_body_gets_413(server: LoopbackServer) -> None:
    r = httpx.post(f"{server.url}/bots", content=b"x" * BIG)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "Request body too large"}


def test_oversized_chunked_body_gets_413(server: LoopbackServer) -> None:
    r = httpx.post(f"{server.url}/bots", content=iter([b"x" * 65536] * 40))
    assert r.status_code == 413
    assert r.json() == {"detail": "Request body too large"}


def test_expect_100_continue(server: LoopbackServer) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=HANG_GUARD) as sock:
        sock.sendall(
            b"POST /e HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n"
            b"expect: 100-continue\r\nconnection: close\r\n\r\n"
        )
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"hello")
        data = read_until_eof(sock)
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["body"] == "hello"


def test_expect_100_continue_too_large_is_refused_before_the_body(
    server: LoopbackServer,
) -> None:
    data = raw_exchange(
        server,
        f"POST /e HTTP/1.1\r\nhost: x\r\ncontent-length: {BIG}\r\n"
        "expect: 100-continue\r\n\r\n".encode(),
    )
    assert data.startswith(b"HTTP/1.1 413 ")
    assert parse_responses(data) == [(413, b'{"detail":"Request body too large"}')]


def test_garbage_gets_400_then_close(server: LoopbackServer) -> None:
    data = raw_exchange(server, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in data
    assert parse_responses(data) == [(400, b'{"detail":"Invalid HTTP request"}')]
    assert httpx.get(f"{server.url}/still-up").status_code == 200


def test_handler_exception_gives_500_and_is_recorded(server: LoopbackServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        r = client.get("/boom")
        assert r.status_code == 500
        assert r.json() == {"detail": "Internal Server Error"}
        assert client.get("/fine").status_code == 200
    assert len(server.errors) == 1
    assert isinstance(server.errors[0], RuntimeError)
    server.errors.clear()


def test_no_content_and_handler_headers(server: LoopbackServer) -> None:
    r = httpx.get(f"{server.url}/empty")
    assert r.status_code == 204
    assert r.headers["x-trace"] == "t1"
    assert "content-length" not in r.headers  # the handler's bogus value is dropped too
    assert r.content == b""


def test_invalid_response_from_handler_becomes_500(server: LoopbackServer) -> None:
    r = httpx.get(f"{server.url}/bad-header")
    assert r.status_code == 500
    assert r.json() == {"detail": "Internal Server Error"}
    assert [type(e) for e in server.errors] == [h11.LocalProtocolError]
    server.errors.clear()


def test_pipelined_requests_are_answered_in_order(server: LoopbackServer) -> None:
    data = raw_exchange(
        server,
        b"GET /one HTTP/1.1\r\nhost: x\r\n\r\n"
        b"POST /two HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc"
        b"HEAD /big HTTP/1.1\r\nhost: x\r\n\r\n"
        b"GET /four HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    answers = parse_responses(data, [b"GET", b"POST", b"HEAD", b"GET"])
    assert [json.loads(body)["path"] for _, body in answers if body] == ["/one", "/two", "/four"]
    assert answers[2] == (200, b"")


def test_connection_close_is_honoured(server: LoopbackServer) -> None:
    data = raw_exchange(server, b"GET /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert parse_responses(data)[0][0] == 200  # and raw_exchange saw EOF, or it would hang


def test_silent_connection_blocks_neither_clients_nor_stop() -> None:
    srv = LoopbackServer(echo)
    srv.start_in_thread()
    silent = socket.create_connection(("127.0.0.1", srv.port), timeout=HANG_GUARD)
    try:
        assert httpx.get(f"{srv.url}/other").status_code == 200
        srv.stop_thread()
        assert srv._thread is None
        assert silent.recv(1) == b""  # the server closed it
    finally:
        silent.close()
        srv.stop_thread()


def test_stop_thread_with_idle_keep_alive_clients_and_port_is_released() -> None:
    srv = LoopbackServer(echo)
    srv.start_in_thread()
    port = srv.port
    clients = [httpx.Client(base_url=srv.url) for _ in range(3)]
    try:
        for client in clients:
            assert client.get("/idle").status_code == 200
        srv.stop_thread()  # the hang guard is inside: join() is bounded
        with pytest.raises(httpx.TransportError):
            clients[0].get("/gone")
    finally:
        for client in clients:
            client.close()
    with LoopbackServer(echo, port=port) as again:
        assert httpx.get(f"{again.url}/back").status_code == 200


def test_bind_failure_is_raised_by_start_in_thread(server: LoopbackServer) -> None:
    with pytest.raises(OSError):
        LoopbackServer(echo, port=server.port).start_in_thread()


def test_reset_seam_sends_rst() -> None:
    class Resetting(LoopbackServer):
        async def _take_over(
            self,
            request: Request,
            conn: h11.Connection,
            reader: asyncio.StreamReader,
            writer: asyncio.StreamWriter,
        ) -> bool:
            if request.path != "/reset":
                return False
            abort_with_reset(writer)
            return True

    with Resetting(echo) as srv:
        with pytest.raises(ConnectionResetError):
            raw_exchange(srv, b"GET /reset HTTP/1.1\r\nhost: x\r\n\r\n")
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.get(f"{srv.url}/reset")
        assert httpx.get(f"{srv.url}/ok").status_code == 200


def test_serve_forever_prints_url_and_exits_cleanly_on_sigterm() -> None:
    script = textwrap.dedent(
        """
        from harness.server.loopback import LoopbackServer
        from harness.web.messages import json_response
        server = LoopbackServer(lambda request: json_response(200, {"ok": True}))
        server.serve_forever(lambda url: print(f"listening on {url}", flush=True))
        print("stopped", flush=True)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        first = proc.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:")
        assert httpx.get(first.removeprefix("listening on ") + "/x").json() == {"ok": True}
        proc.terminate()
        rest, _ = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 0
    assert rest.strip() == "stopped"
