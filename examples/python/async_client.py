"""A well-behaved Vexa client on httpx's AsyncClient (asyncio).

Judged in-process on a virtual-time event loop (``asyncio.sleep`` jumps the harness clock)::

    PYTHONPATH=examples/python vexa-harness conform --client-py async_client:Adapter

or as a command::

    vexa-harness conform --client-cmd "python examples/python/async_client.py"
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from typing import Any

import httpx
from vexa_common import (
    AMBIGUOUS_STATUSES,
    OPERATIONS,
    RETRY_STATUSES,
    Attempts,
    Call,
    GiveUp,
    Policy,
    live_bot,
    request_for,
    retry_after,
    run_command,
)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class AsyncVexaClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: Policy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.http = httpx.AsyncClient(
            base_url=base_url,
            headers={"X-API-Key": api_key},
            timeout=self.policy.timeout,
            transport=transport,
        )

    async def __aenter__(self) -> AsyncVexaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def perform(self, operation: str, args: Mapping[str, Any]) -> Any:
        call = request_for(operation, args)
        if operation == "start_bot":
            platform, native = str(args["platform"]), str(args["native_meeting_id"])
            return await self.start_bot(call, platform, native)
        return _json(await self.send(call))

    async def send(self, call: Call, attempts: int | None = None) -> httpx.Response:
        budget = Attempts(self.policy, attempts)
        while True:
            budget.count += 1
            wait_at_least = None
            try:
                response = await self.http.request(call.method, call.path, json=call.json)
            except httpx.TransportError as exc:
                why = f"{call.method} {call.path}: {type(exc).__name__}"
            else:
                if response.is_success:
                    return response
                why = f"{call.method} {call.path}: HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise GiveUp(why)
                wait_at_least = retry_after(response.headers)
            await asyncio.sleep(budget.next_wait(why, wait_at_least))

    async def start_bot(self, call: Call, platform: str, native: str) -> Any:
        budget = Attempts(self.policy)
        unsure = False
        while True:
            if unsure and self.policy.reconcile:
                try:
                    listing = await self.send(Call("GET", "/meetings"), attempts=3)
                except GiveUp as exc:
                    why = f"cannot tell whether the bot started, not re-sending: {exc}"
                    raise GiveUp(why) from None
                running = live_bot(_json(listing), platform, native)
                if running is not None:
                    return running
            budget.count += 1
            wait_at_least = None
            try:
                response = await self.http.post(call.path, json=call.json)
            except httpx.TransportError as exc:
                unsure = True
                why = f"POST /bots: {type(exc).__name__}"
            else:
                if response.is_success:
                    return _json(response)
                why = f"POST /bots: HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise GiveUp(why)
                unsure = unsure or response.status_code in AMBIGUOUS_STATUSES
                wait_at_least = retry_after(response.headers)
            await asyncio.sleep(budget.next_wait(why, wait_at_least))


class Adapter:
    """``--client-py async_client:Adapter``: ``async`` methods, run on a virtual-time loop."""


def _method(operation: str) -> Any:
    async def run(
        self: Adapter,
        base_url: str,
        api_key: str,
        args: Mapping[str, Any],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> Any:
        async with AsyncVexaClient(base_url, api_key, transport=transport) as client:
            return await client.perform(operation, args)

    run.__name__ = operation
    return run


for _operation in OPERATIONS:
    setattr(Adapter, _operation, _method(_operation))


def _perform(base_url: str, api_key: str, operation: str, args: dict[str, Any]) -> Any:
    async def go() -> Any:
        async with AsyncVexaClient(base_url, api_key) as client:
            return await client.perform(operation, args)

    return asyncio.run(go())


if __name__ == "__main__":
    sys.exit(run_command(_perform))
