"""The asyncio twin of :mod:`harness.clients.sync_client`: same policy, ``await`` instead of block.

    async with AsyncVexaClient("https://api.vexa.ai", api_key) as vexa:
        await vexa.perform("bot_status", {})

It sleeps with ``asyncio.sleep``, so on a virtual-time event loop its backoff costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import httpx

from harness.clients.operations import HttpCall, build
from harness.clients.policy import AMBIGUOUS_STATUSES, GaveUp, RetryPolicy, describe
from harness.clients.policy import parse_retry_after as _retry_after
from harness.clients.sync_client import live_row

__all__ = ["AsyncHttpxAdapter", "AsyncVexaClient"]


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class AsyncVexaClient:
    """One API key against one Vexa deployment; ``await aclose()`` (or ``async with``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-API-Key": api_key},
            timeout=httpx.Timeout(self.policy.timeout),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncVexaClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def perform(self, operation: str, args: Mapping[str, Any]) -> Any:
        call = build(operation, args)
        if operation == "start_bot":
            platform, native = str(args["platform"]), str(args["native_meeting_id"])
            return await self._start_bot(call, platform, native)
        return _body(await self._send_with_retries(call))

    async def _send_with_retries(
        self, call: HttpCall, *, budget_attempts: int | None = None
    ) -> httpx.Response:
        policy = self.policy
        budget = policy.budget()
        while True:
            budget.attempt()
            retry_after = None
            try:
                response = await self._http.request(call.method, call.path, json=call.json)
            except httpx.TransportError as exc:
                why = f"{call.method} {call.path}: {type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return response
                why = (
                    f"{call.method} {call.path}: {describe(response.status_code, _body(response))}"
                )
                if response.status_code not in policy.retry_statuses:
                    raise GaveUp(why)
                retry_after = _retry_after(response.headers)
            if budget_attempts is not None and budget.attempts >= budget_attempts:
                raise GaveUp(why)
            await asyncio.sleep(budget.next_wait(why, retry_after))

    async def _running(self, platform: str, native: str) -> dict[str, Any] | None:
        listing = await self._send_with_retries(
            HttpCall("GET", "/meetings"), budget_attempts=self.policy.reconcile_reads
        )
        return live_row(_body(listing), platform, native)

    async def _start_bot(self, call: HttpCall, platform: str, native: str) -> Any:
        policy = self.policy
        budget = policy.budget()
        unsure = False
        while True:
            if unsure and policy.reconcile:
                try:
                    running = await self._running(platform, native)
                except GaveUp as exc:
                    raise GaveUp(
                        f"could not confirm whether the bot started, so not re-sending: {exc}"
                    ) from None
                if running is not None:
                    return running
            budget.attempt()
            retry_after = None
            try:
                response = await self._http.request(call.method, call.path, json=call.json)
            except httpx.TransportError as exc:
                unsure = True
                why = f"POST /bots: {type(exc).__name__}: {exc}"
            else:
                if response.is_success:
                    return _body(response)
                status = response.status_code
                why = f"POST /bots: {describe(status, _body(response))}"
                if status not in policy.retry_statuses:
                    raise GaveUp(why)
                unsure = unsure or status in AMBIGUOUS_STATUSES
                retry_after = _retry_after(response.headers)
            await asyncio.sleep(budget.next_wait(why, retry_after))


def _operation(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    async def method(
        self: AsyncHttpxAdapter,
        base_url: str,
        api_key: str,
        args: Mapping[str, Any],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Any:
        async with AsyncVexaClient(
            base_url, api_key, policy=self.policy, transport=transport
        ) as client:
            return await client.perform(name, args)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{name}`` (command protocol) with the reference retry policy, async."
    return method


class AsyncHttpxAdapter:
    """The asyncio client as a conformance adapter (run on a virtual-time event loop)."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy

    start_bot = _operation("start_bot")
    stop_bot = _operation("stop_bot")
    bot_status = _operation("bot_status")
    get_transcript = _operation("get_transcript")
    list_meetings = _operation("list_meetings")
    update_meeting = _operation("update_meeting")
    delete_meeting = _operation("delete_meeting")
    update_bot_config = _operation("update_bot_config")
    set_webhook = _operation("set_webhook")
    delete_recording = _operation("delete_recording")
