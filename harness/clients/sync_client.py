"""A well-behaved synchronous Vexa client on httpx.

    with VexaClient("https://api.vexa.ai", api_key) as vexa:
        vexa.perform("start_bot", {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"})

Every request has a timeout; 429/5xx and transport errors are retried with full-jitter
exponential backoff and ``Retry-After``; 400/401/403/404/409/422 end the operation at once;
attempts and time are bounded; and a ``POST /bots`` whose outcome is unknown is followed by a
read of ``GET /meetings`` — another POST only if that read shows no running bot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harness.clients.operations import HttpCall, build
from harness.clients.policy import (
    AMBIGUOUS_STATUSES,
    LIVE_STATUSES,
    GaveUp,
    RetryPolicy,
    describe,
    parse_retry_after,
)

__all__ = ["HttpxAdapter", "VexaClient"]


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def live_row(meetings: Any, platform: str, native: str) -> dict[str, Any] | None:
    """The newest meeting row for the meeting, if its bot is running."""
    rows = meetings.get("meetings", []) if isinstance(meetings, dict) else []
    for row in rows:  # newest first, as Vexa sorts them
        if row.get("platform") == platform and row.get("native_meeting_id") == native:
            return row if row.get("status") in LIVE_STATUSES else None
    return None


class VexaClient:
    """One API key against one Vexa deployment; close it (or use ``with``) when done."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.policy = policy or RetryPolicy()
        self._http = httpx.Client(
            base_url=base_url,
            headers={"X-API-Key": api_key},
            timeout=httpx.Timeout(self.policy.timeout),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VexaClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ operations

    def perform(self, operation: str, args: Mapping[str, Any]) -> Any:
        """Run one command-protocol operation; returns the answer's JSON or raises GaveUp."""
        call = build(operation, args)
        if operation == "start_bot":
            return self._start_bot(call, str(args["platform"]), str(args["native_meeting_id"]))
        return _body(self._send_with_retries(call))

    def _send_with_retries(
        self, call: HttpCall, *, budget_attempts: int | None = None
    ) -> httpx.Response:
        """A request that is safe to repeat, retried while the failures are transient."""
        policy = self.policy
        budget = policy.budget()
        while True:
            budget.attempt()
            retry_after = None
            try:
                response = self._http.request(call.method, call.path, json=call.json)
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
                retry_after = parse_retry_after(response.headers)
            if budget_attempts is not None and budget.attempts >= budget_attempts:
                raise GaveUp(why)
            time.sleep(budget.next_wait(why, retry_after))

    def _running(self, platform: str, native: str) -> dict[str, Any] | None:
        """Reconcile: the live meeting row for the meeting, or None if no bot runs."""
        listing = self._send_with_retries(
            HttpCall("GET", "/meetings"), budget_attempts=self.policy.reconcile_reads
        )
        return live_row(_body(listing), platform, native)

    def _start_bot(self, call: HttpCall, platform: str, native: str) -> Any:
        policy = self.policy
        budget = policy.budget()
        unsure = False  # a POST whose outcome we could not know: read before sending another
        while True:
            if unsure and policy.reconcile:
                try:
                    running = self._running(platform, native)
                except GaveUp as exc:
                    raise GaveUp(
                        f"could not confirm whether the bot started, so not re-sending: {exc}"
                    ) from None
                if running is not None:
                    return running
            budget.attempt()
            retry_after = None
            try:
                response = self._http.request(call.method, call.path, json=call.json)
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
                retry_after = parse_retry_after(response.headers)
            time.sleep(budget.next_wait(why, retry_after))


def _operation(name: str) -> Callable[..., Any]:
    def method(
        self: HttpxAdapter,
        base_url: str,
        api_key: str,
        args: Mapping[str, Any],
        *,
        transport: httpx.BaseTransport | None = None,
    ) -> Any:
        with VexaClient(base_url, api_key, policy=self.policy, transport=transport) as client:
            return client.perform(name, args)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``{name}`` (command protocol) with the reference retry policy."
    return method


class HttpxAdapter:
    """The sync client as a conformance adapter (``vexa-harness conform --client-py``)."""

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
