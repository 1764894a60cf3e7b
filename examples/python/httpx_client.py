"""A well-behaved Vexa client on httpx (synchronous).

As a library::

    with VexaClient("https://api.vexa.ai", api_key) as vexa:
        vexa.perform("start_bot", {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"})

Judged by vexa-harness, in-process on virtual time (about a second for the whole catalogue)::

    PYTHONPATH=examples/python vexa-harness conform --client-py httpx_client:Adapter

or as a command, on real time, like a client in any language::

    vexa-harness conform --client-cmd "python examples/python/httpx_client.py"
"""

from __future__ import annotations

import sys
import time
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


class VexaClient:
    """One API key against one Vexa; ``transport`` lets a test harness stand in for the network."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: Policy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy or Policy()
        self.http = httpx.Client(
            base_url=base_url,
            headers={"X-API-Key": api_key},
            timeout=self.policy.timeout,
            transport=transport,
        )

    def __enter__(self) -> VexaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def perform(self, operation: str, args: Mapping[str, Any]) -> Any:
        call = request_for(operation, args)
        if operation == "start_bot":
            return self.start_bot(call, str(args["platform"]), str(args["native_meeting_id"]))
        return _json(self.send(call))

    def send(self, call: Call, attempts: int | None = None) -> httpx.Response:
        """A request that is safe to repeat, retried while the failures are transient."""
        budget = Attempts(self.policy, attempts)
        while True:
            budget.count += 1
            wait_at_least = None
            try:
                response = self.http.request(call.method, call.path, json=call.json)
            except httpx.TransportError as exc:  # timeouts, resets, closed connections
                why = f"{call.method} {call.path}: {type(exc).__name__}"
            else:
                if response.is_success:
                    return response
                why = f"{call.method} {call.path}: HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise GiveUp(why)
                wait_at_least = retry_after(response.headers)
            time.sleep(budget.next_wait(why, wait_at_least))

    def start_bot(self, call: Call, platform: str, native: str) -> Any:
        """POST /bots, never blindly twice: after an unknown outcome, look before re-sending."""
        budget = Attempts(self.policy)
        unsure = False
        while True:
            if unsure and self.policy.reconcile:
                try:
                    listing = self.send(Call("GET", "/meetings"), attempts=3)
                except GiveUp as exc:
                    why = f"cannot tell whether the bot started, not re-sending: {exc}"
                    raise GiveUp(why) from None
                running = live_bot(_json(listing), platform, native)
                if running is not None:
                    return running  # the lost POST did start it
            budget.count += 1
            wait_at_least = None
            try:
                response = self.http.post(call.path, json=call.json)
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
            time.sleep(budget.next_wait(why, wait_at_least))


class Adapter:
    """``vexa-harness conform --client-py httpx_client:Adapter``: one method per operation."""


def _method(operation: str) -> Any:
    def run(
        self: Adapter,
        base_url: str,
        api_key: str,
        args: Mapping[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> Any:
        with VexaClient(base_url, api_key, transport=transport) as client:
            return client.perform(operation, args)

    run.__name__ = operation
    return run


for _operation in OPERATIONS:
    setattr(Adapter, _operation, _method(_operation))


def _perform(base_url: str, api_key: str, operation: str, args: dict[str, Any]) -> Any:
    with VexaClient(base_url, api_key) as client:
        return client.perform(operation, args)


if __name__ == "__main__":
    sys.exit(run_command(_perform))
