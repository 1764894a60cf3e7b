"""A careful client on ``requests`` — over an adapter whose urllib3 ``Retry`` also retries POST.

Its own loop does everything right, reconciling before it re-sends ``POST /bots``. The
transport below it does not: ``Retry(total=3, allowed_methods=None)`` re-sends a POST whose
connection was reset or timed out before the client sees anything, so the server gets two
POSTs with no read between — and the second one meets the bot the first one created (409).
urllib3 needs a real socket, so as an adapter it asks for one (``needs_socket``).
"""

import sys
import time
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.operations import OPERATIONS, HttpCall, build
from harness.clients.policy import AMBIGUOUS_STATUSES, GaveUp, describe, parse_retry_after
from harness.clients.sync_client import live_row

BREAKS = {"no-blind-post", "retries-transient"}


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class _Client:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.policy = POLICY
        self.session = requests.Session()
        # The hidden part: urllib3 retries any method, POST included, on resets and timeouts.
        self.session.mount("http://", HTTPAdapter(max_retries=Retry(total=3, allowed_methods=None)))
        self.session.headers["X-API-Key"] = api_key

    def send(self, call: HttpCall) -> requests.Response:
        return self.session.request(
            call.method, self.base_url + call.path, json=call.json, timeout=self.policy.timeout
        )

    def with_retries(self, call: HttpCall, reads: int | None = None) -> requests.Response:
        budget = self.policy.budget()
        while True:
            budget.attempt()
            retry_after = None
            try:
                response = self.send(call)
            except requests.RequestException as exc:
                why = f"{call.method} {call.path}: {type(exc).__name__}"
            else:
                if response.ok:
                    return response
                why = (
                    f"{call.method} {call.path}: {describe(response.status_code, _body(response))}"
                )
                if response.status_code not in self.policy.retry_statuses:
                    raise GaveUp(why)
                retry_after = parse_retry_after(response.headers)
            if reads is not None and budget.attempts >= reads:
                raise GaveUp(why)
            time.sleep(budget.next_wait(why, retry_after))

    def start_bot(self, call: HttpCall, platform: str, native: str) -> Any:
        budget = self.policy.budget()
        unsure = False
        while True:
            if unsure:
                listing = self.with_retries(HttpCall("GET", "/meetings"), reads=3)
                running = live_row(_body(listing), platform, native)
                if running is not None:
                    return running
            budget.attempt()
            retry_after = None
            try:
                response = self.send(call)
            except requests.RequestException as exc:
                unsure = True
                why = f"POST /bots: {type(exc).__name__}"
            else:
                if response.ok:
                    return _body(response)
                why = f"POST /bots: {describe(response.status_code, _body(response))}"
                if response.status_code not in self.policy.retry_statuses:
                    raise GaveUp(why)
                unsure = unsure or response.status_code in AMBIGUOUS_STATUSES
                retry_after = parse_retry_after(response.headers)
            time.sleep(budget.next_wait(why, retry_after))


def _operation(name: str) -> Any:
    def method(self: Any, base_url: str, api_key: str, args: Mapping[str, Any], **_: Any) -> Any:
        client = _Client(base_url, api_key)
        try:
            call = build(name, args)
            if name == "start_bot":
                return client.start_bot(call, str(args["platform"]), str(args["native_meeting_id"]))
            return _body(client.with_retries(call))
        finally:
            client.session.close()

    method.__name__ = name
    return method


class RequestsAdapter:
    needs_socket = True


for _name in OPERATIONS:
    setattr(RequestsAdapter, _name, _operation(_name))

ADAPTER = RequestsAdapter()

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
