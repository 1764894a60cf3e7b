"""A well-behaved Vexa client on requests.

``requests`` (urllib3) needs a real socket, so vexa-harness serves the fake on a loopback port
for it and the run takes real time. Judged in-process::

    PYTHONPATH=examples/python vexa-harness conform --client-py requests_client:Adapter

or as a command::

    vexa-harness conform --client-cmd "python examples/python/requests_client.py"

One trap on requests: never mount an ``HTTPAdapter(max_retries=Retry(..., allowed_methods=None))``
(or any Retry that allows POST). urllib3 would re-send a POST /bots whose answer was lost
before this code sees anything — a blind re-POST the harness catches (``no-blind-post``).
The default adapter does not retry, which is what we want: the loop below decides.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import Any

import requests
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


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class VexaClient:
    def __init__(self, base_url: str, api_key: str, *, policy: Policy | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or Policy()
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = api_key

    def __enter__(self) -> VexaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.session.close()

    def _request(self, call: Call) -> requests.Response:
        return self.session.request(
            call.method, self.base_url + call.path, json=call.json, timeout=self.policy.timeout
        )

    def perform(self, operation: str, args: Mapping[str, Any]) -> Any:
        call = request_for(operation, args)
        if operation == "start_bot":
            return self.start_bot(call, str(args["platform"]), str(args["native_meeting_id"]))
        return _json(self.send(call))

    def send(self, call: Call, attempts: int | None = None) -> requests.Response:
        budget = Attempts(self.policy, attempts)
        while True:
            budget.count += 1
            wait_at_least = None
            try:
                response = self._request(call)
            except requests.RequestException as exc:  # timeouts, resets, closed connections
                why = f"{call.method} {call.path}: {type(exc).__name__}"
            else:
                if response.ok:
                    return response
                why = f"{call.method} {call.path}: HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise GiveUp(why)
                wait_at_least = retry_after(response.headers)
            time.sleep(budget.next_wait(why, wait_at_least))

    def start_bot(self, call: Call, platform: str, native: str) -> Any:
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
                    return running
            budget.count += 1
            wait_at_least = None
            try:
                response = self._request(call)
            except requests.RequestException as exc:
                unsure = True
                why = f"POST /bots: {type(exc).__name__}"
            else:
                if response.ok:
                    return _json(response)
                why = f"POST /bots: HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    raise GiveUp(why)
                unsure = unsure or response.status_code in AMBIGUOUS_STATUSES
                wait_at_least = retry_after(response.headers)
            time.sleep(budget.next_wait(why, wait_at_least))


class Adapter:
    """``--client-py requests_client:Adapter``; urllib3 needs a real socket."""

    needs_socket = True


def _method(operation: str) -> Any:
    def run(self: Adapter, base_url: str, api_key: str, args: Mapping[str, Any], **_: Any) -> Any:
        with VexaClient(base_url, api_key) as client:
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
