"""Webhook receivers the harness can deliver to: a URL, a command, or Python in this process.

Every kind is a :class:`Receiver`: ``await receiver.post(headers, body, timeout)`` delivers one
POST exactly as Vexa sends it and returns the status, or raises :class:`DeliveryError` with
what went wrong (``timeout``, ``connect``, ``protocol``); ``await receiver.effects()`` returns
the receiver's JSON snapshot of its durable effects, or raises :class:`NoEffects`.

- :class:`HttpReceiver`: any process at a URL. Effects come from ``GET <effects_url>``.
- :class:`CommandReceiver`: the command-receiver protocol of DESIGN.md, exactly. The harness
  starts the command with ``PORT`` (listen on ``127.0.0.1:$PORT``) and, when signing is on,
  ``VEXA_WEBHOOK_SECRET``; waits until the port accepts connections; POSTs to it; reads
  ``GET /effects`` if the receiver serves it. A command that exits or never listens raises
  :class:`ReceiverUnavailable` with its exit code and the tail of its output.
- :class:`AsgiReceiver`, :class:`WsgiReceiver`: an app in this process (effects from an
  ``effects`` callable, else the app's own ``GET /effects``).
- :class:`CallableReceiver`: ``handler(headers, body) -> status``, plus an ``effects`` callable.

A :data:`ReceiverFactory` makes a fresh receiver for a secret (None: unsigned); the verdicts
need fresh ones, to compare a clean stream with a noisy one. Receivers are context managers:
``with factory(secret) as receiver: ...`` starts and stops a command.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shlex
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from harness.errors import HarnessError
from harness.webhooks.schedule import ErrorKind

__all__ = [
    "AsgiReceiver",
    "CallableReceiver",
    "CommandReceiver",
    "DeliveryError",
    "HttpReceiver",
    "NoEffects",
    "Receiver",
    "ReceiverFactory",
    "ReceiverUnavailable",
    "WsgiReceiver",
    "command_receiver",
    "free_port",
    "run_blocking",
]

HeaderPairs = Sequence[tuple[str, str]]


class DeliveryError(HarnessError):
    """A delivery that got no HTTP answer: ``kind`` is timeout, connect, protocol or error."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class ReceiverUnavailable(HarnessError):
    """A receiver that could not be started or reached at all (its rules cannot be judged)."""


class NoEffects(HarnessError):
    """The receiver offers no effects snapshot (or it could not be read)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def run_blocking(function: Callable[[], Any], timeout: float | None) -> Any:
    """Run blocking code in a daemon thread; a hang costs the thread, never the loop.

    (An executor's worker would be joined at interpreter exit; a hanging receiver must not be.)
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if not future.done():
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def work() -> None:
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting task, whatever it is
            outcome: tuple[bool, Any] = (False, exc)
        else:
            outcome = (True, result)
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=work, name="vexa-harness-receiver", daemon=True).start()
    if timeout is None:
        return await future
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        raise DeliveryError("timeout", f"no answer within {timeout:g} s") from None


# ---------------------------------------------------------------------------- the interface


class Receiver(ABC):
    """Something that answers webhook deliveries."""

    #: How reports name this receiver (a URL, a command, a Python object).
    label: str = "receiver"

    @abstractmethod
    async def post(
        self, headers: HeaderPairs, body: bytes, timeout: float | None, path: str | None = None
    ) -> int:
        """Deliver one POST; ``path`` overrides the receiver's own (for mounted receivers)."""

    async def effects(self) -> Any:
        """The receiver's effects snapshot (JSON), or :class:`NoEffects`."""
        raise NoEffects(f"{self.label} offers no effects snapshot")

    def start(self) -> None:  # noqa: B027 - most receivers need no starting
        """Get ready to receive (a command starts here)."""

    def close(self) -> None:  # noqa: B027
        """Release what :meth:`start` took (idempotent)."""

    def __enter__(self) -> Receiver:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: A fresh receiver for a secret (None when deliveries are unsigned).
ReceiverFactory = Callable[[str | None], Receiver]


def _http_error(exc: httpx.HTTPError) -> DeliveryError:
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryError("timeout", detail)
    if isinstance(exc, httpx.ConnectError):
        return DeliveryError("connect", detail)
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return DeliveryError("protocol", detail)
    return DeliveryError("error", detail)


@functools.cache
def _tls() -> ssl.SSLContext:
    """httpx's default verifying context, built once (building one costs ~40 ms per client)."""
    return httpx.create_ssl_context()


async def _http_post(
    client_kwargs: dict[str, Any],
    url: str,
    headers: HeaderPairs,
    body: bytes,
    timeout: float | None,
) -> int:
    """One POST on a fresh client (Vexa opens a new ``httpx.AsyncClient`` per attempt)."""
    try:
        async with httpx.AsyncClient(timeout=timeout, verify=_tls(), **client_kwargs) as client:
            answer = await client.post(url, content=body, headers=list(headers))
            return answer.status_code
    except httpx.HTTPError as exc:
        raise _http_error(exc) from None


async def _http_effects(client_kwargs: dict[str, Any], url: str, label: str) -> Any:
    try:
        async with httpx.AsyncClient(timeout=10.0, verify=_tls(), **client_kwargs) as client:
            answer = await client.get(url)
    except httpx.HTTPError as exc:
        raise NoEffects(f"GET {url} failed: {_http_error(exc)}") from None
    if answer.status_code != 200:
        raise NoEffects(f"{label} answers GET /effects with {answer.status_code}")
    try:
        return answer.json()
    except ValueError:
        raise NoEffects(f"{label}'s GET /effects is not JSON: {answer.text[:80]!r}") from None


def _with_path(url: str, path: str | None) -> str:
    if path is None:
        return url
    parts = urlsplit(url)
    target, _, query = path.partition("?")
    return urlunsplit((parts.scheme, parts.netloc, target or "/", query, ""))


# ---------------------------------------------------------------------------- over the network


class HttpReceiver(Receiver):
    """A receiver at a URL, in any process."""

    def __init__(
        self, url: str, *, effects_url: str | None = None, follow_redirects: bool = True
    ) -> None:
        self.url = url
        self.effects_url = effects_url
        self.label = url
        self._client = {"follow_redirects": follow_redirects}

    async def post(
        self, headers: HeaderPairs, body: bytes, timeout: float | None, path: str | None = None
    ) -> int:
        return await _http_post(self._client, _with_path(self.url, path), headers, body, timeout)

    async def effects(self) -> Any:
        if self.effects_url is None:
            raise NoEffects(f"{self.label}: no effects URL was given")
        return await _http_effects(self._client, self.effects_url, self.label)


class CommandReceiver(HttpReceiver):
    """DESIGN.md's command-receiver protocol: start a command, deliver to ``127.0.0.1:$PORT``."""

    def __init__(
        self,
        command: str | Sequence[str],
        secret: str | None = None,
        *,
        path: str = "/",
        startup_timeout: float = 10.0,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ReceiverUnavailable("the receiver command is empty")
        self.secret = secret
        self.path = path
        self.startup_timeout = startup_timeout
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None
        super().__init__("http://127.0.0.1:0/")
        self.label = shlex.join(self.argv)

    def start(self) -> None:
        if self._process is not None:
            return
        self.port = free_port()
        env = {**(self.env if self.env is not None else os.environ), "PORT": str(self.port)}
        env.pop("VEXA_WEBHOOK_SECRET", None)
        if self.secret is not None:
            env["VEXA_WEBHOOK_SECRET"] = self.secret
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        try:
            self._process = subprocess.Popen(
                self.argv,
                env=env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            self.close()
            raise ReceiverUnavailable(
                f"cannot start the receiver command {self.label!r}: {exc}"
            ) from None
        base = f"http://127.0.0.1:{self.port}"
        self.url = base + self.path
        self.effects_url = base + "/effects"
        self._wait_listening()

    def _wait_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                tail = self.output_tail()
                self.close()
                raise ReceiverUnavailable(
                    f"the receiver command {self.label!r} exited with code {code} before "
                    f"listening on 127.0.0.1:{self.port}"
                    + (f"; its output ends: {tail}" if tail else "")
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                tail = self.output_tail()
                self.close()
                raise ReceiverUnavailable(
                    f"the receiver command {self.label!r} did not listen on "
                    f"127.0.0.1:{self.port} (its $PORT) within {self.startup_timeout:g} s"
                    + (f"; its output ends: {tail}" if tail else "; it printed nothing")
                )
            time.sleep(0.02)

    def output_tail(self, limit: int = 400) -> str:
        """The last ``limit`` characters the command printed (stdout and stderr)."""
        if self._output is None:
            return ""
        self._output.seek(0, os.SEEK_END)
        size = self._output.tell()
        self._output.seek(max(0, size - limit))
        return self._output.read().decode(errors="replace").strip()

    def close(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(2.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(2.0)
        output, self._output = self._output, None
        if output is not None:
            output.close()


def command_receiver(
    command: str | Sequence[str], *, path: str = "/", startup_timeout: float = 10.0
) -> ReceiverFactory:
    """A factory of fresh :class:`CommandReceiver` processes for ``conform --receiver-cmd``."""

    def make(secret: str | None) -> Receiver:
        return CommandReceiver(command, secret, path=path, startup_timeout=startup_timeout)

    return make


# ---------------------------------------------------------------------------- in this process


class AsgiReceiver(Receiver):
    """An ASGI app in this process (exceptions in the app answer 500, as a server would)."""

    def __init__(
        self, app: Any, *, effects: Callable[[], Any] | None = None, path: str = "/"
    ) -> None:
        self.app = app
        self._effects = effects
        self.path = path
        self.label = f"ASGI app {getattr(app, '__name__', type(app).__name__)}"

    def _client(self, timeout: float | None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://receiver", timeout=timeout)

    async def post(
        self, headers: HeaderPairs, body: bytes, timeout: float | None, path: str | None = None
    ) -> int:
        async with self._client(timeout) as client:
            request = client.post(path or self.path, content=body, headers=list(headers))
            try:
                answer = await (asyncio.wait_for(request, timeout) if timeout else request)
            except TimeoutError:
                raise DeliveryError("timeout", f"no answer within {timeout:g} s") from None
            return answer.status_code

    async def effects(self) -> Any:
        if self._effects is not None:
            return self._effects()
        async with self._client(10.0) as client:
            answer = await client.get("/effects")
        if answer.status_code != 200:
            raise NoEffects(f"{self.label} answers GET /effects with {answer.status_code}")
        return answer.json()


class WsgiReceiver(Receiver):
    """A WSGI app in this process, called from a daemon thread (it may block)."""

    def __init__(
        self, app: Any, *, effects: Callable[[], Any] | None = None, path: str = "/"
    ) -> None:
        self.app = app
        self._effects = effects
        self.path = path
        self.label = f"WSGI app {getattr(app, '__name__', type(app).__name__)}"

    def _call(self, method: str, path: str, headers: HeaderPairs, body: bytes) -> httpx.Response:
        transport = httpx.WSGITransport(app=self.app, raise_app_exceptions=False)
        with httpx.Client(transport=transport, base_url="http://receiver") as client:
            return client.request(method, path, content=body, headers=list(headers))

    async def post(
        self, headers: HeaderPairs, body: bytes, timeout: float | None, path: str | None = None
    ) -> int:
        answer = await run_blocking(
            lambda: self._call("POST", path or self.path, headers, body), timeout
        )
        return int(answer.status_code)

    async def effects(self) -> Any:
        if self._effects is not None:
            return self._effects()
        answer = await run_blocking(lambda: self._call("GET", "/effects", (), b""), 10.0)
        if answer.status_code != 200:
            raise NoEffects(f"{self.label} answers GET /effects with {answer.status_code}")
        return answer.json()


class CallableReceiver(Receiver):
    """``handler(headers, body) -> status`` in this process (a crash answers 500).

    ``headers`` is an :class:`httpx.Headers` (case-insensitive), ``body`` the raw bytes.
    """

    def __init__(
        self,
        handler: Callable[[httpx.Headers, bytes], int],
        *,
        effects: Callable[[], Any] | None = None,
        label: str | None = None,
    ) -> None:
        self.handler = handler
        self._effects = effects
        self.label = label or f"callable {getattr(handler, '__qualname__', repr(handler))}"
        #: Exceptions the handler raised (each was answered 500).
        self.crashes: list[BaseException] = []

    def _call(self, headers: HeaderPairs, body: bytes) -> int:
        try:
            return int(self.handler(httpx.Headers(list(headers)), body))
        except Exception as exc:
            self.crashes.append(exc)
            return 500

    async def post(
        self, headers: HeaderPairs, body: bytes, timeout: float | None, path: str | None = None
    ) -> int:
        status: int = await run_blocking(lambda: self._call(headers, body), timeout)
        return status

    async def effects(self) -> Any:
        if self._effects is None:
            raise NoEffects(f"{self.label} has no effects callable")
        return self._effects()
