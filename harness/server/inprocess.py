"""In-process transports: an httpx client talks to the fake with no socket at all.

The same :class:`~harness.web.messages.Request` reaches the same application as over the
loopback server, so answers are byte-identical in both modes. The async transport calls the
application inline (it never blocks: the model is pure and fast), so it runs inside any event
loop, including a virtual-time one, without racing it.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from harness.web.messages import Request, Response

__all__ = ["AsyncInProcessTransport", "InProcessTransport"]

Handler = Callable[[Request], Response]


def _to_request(request: httpx.Request, body: bytes) -> Request:
    target = request.url.raw_path.decode("ascii")
    return Request.build(request.method, target, request.headers.multi_items(), body)


def _to_httpx(response: Response, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        status_code=response.status,
        headers=[*response.headers, ("content-length", str(len(response.body)))],
        content=response.body,
        request=request,
    )


class InProcessTransport(httpx.BaseTransport):
    """``httpx.Client(transport=InProcessTransport(app))``: the fake, no socket."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return _to_httpx(self.handler(_to_request(request, body)), request)


class AsyncInProcessTransport(httpx.AsyncBaseTransport):
    """``httpx.AsyncClient(transport=AsyncInProcessTransport(app))``."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        return _to_httpx(self.handler(_to_request(request, body)), request)
