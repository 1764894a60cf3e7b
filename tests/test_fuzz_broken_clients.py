"""The state machine finds every broken client, untold, within the ``ci`` budget, and shrinks.

Each module of ``tests/broken_clients/`` breaks named rules (``BREAKS``). The fuzzer is given
only the client: no scenario, no fault, no rule. It must fail the client on a rule the client
really breaks, and shrink the failure to a program of at most two calls with at most one
injected fault — the smallest situation that shows the bug. The reference client, searched
with the same budget, must pass.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from types import ModuleType

import broken_clients as broken
import pytest

from harness.clients.async_client import AsyncHttpxAdapter
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter
from harness.faults import Match, Reset, Rule, Schedule
from harness.pytest_plugin import hypothesis_settings
from harness.stateful import Failure, find_failure

NAMES = sorted(m.name for m in pkgutil.iter_modules(broken.__path__))

#: Rules a client breaks beyond its ``BREAKS``, found by fuzzing and checked by hand.
#: urllib3's ``Retry(total=3)`` re-sends a request whose connection was reset at once, so
#: under an outage of resets the server sees 4 requests per attempt of the client: more than
#: the attempt budget, with no wait between them. The catalogue's outages are 503s, which
#: urllib3 does not retry, so only fuzzing shows it.
ALSO_BREAKS = {"urllib3_hidden_retry": {"bounded-retries", "backoff-growth", "backoff-jitter"}}

#: Clients whose failure shows only when their own jittered wait falls short of something (a
#: ``Retry-After`` of 1 s): the wait is drawn from the call's seed, which follows the call's
#: position in the program, so the search may keep the steps that lead up to a short draw.
#: Found and shrunk all the same, to at most three calls and two faults.
SEED_BOUND = {"ignores_retry_after"}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"broken_clients.{name}")


@functools.cache
def _search(name: str) -> Failure | None:
    """One search per client and process (two tests read the blind re-POST's)."""
    return find_failure(_module(name).ADAPTER, settings=hypothesis_settings("ci"))


def test_every_broken_client_is_fuzzed() -> None:
    assert len(NAMES) == 11, NAMES


@pytest.mark.parametrize("name", NAMES)
def test_the_fuzzer_finds_the_broken_client_untold(name: str) -> None:
    module = _module(name)
    failure = _search(name)
    assert failure is not None, f"{name}: no failure found within the ci profile's budget"
    breaks = set(module.BREAKS) | ALSO_BREAKS.get(name, set())
    assert failure.rule in breaks, failure.message
    # shrunk: at most two calls, at most one injected fault, nothing that could go
    most_calls, most_faults = (3, 2) if name in SEED_BOUND else (2, 1)
    calls = [step for step in failure.steps if step.name not in ("inject", "wait")]
    assert 1 <= len(calls) <= most_calls, failure.program
    assert len(failure.plan.rules) <= most_faults, failure.program
    print(f"\n{name}: {failure.rule}\n{failure.program}")


def test_the_blind_post_shrinks_to_one_fault_after_commit_on_the_first_post() -> None:
    failure = _search("blind_repost")
    assert failure is not None
    assert failure.rule == "no-blind-post"
    assert failure.plan.rules == (
        Rule(Reset(), Match(method="POST", path="/bots"), Schedule(calls=(1,)), "after_commit"),
    )
    assert [step.name for step in failure.steps] == ["start_bot"]


def test_the_hidden_urllib3_post_retry_is_found_over_a_real_socket() -> None:
    """Told to judge ``no-blind-post`` only, the search still finds urllib3's own re-POST."""
    failure = find_failure(
        _module("urllib3_hidden_retry").ADAPTER,
        settings=hypothesis_settings("ci"),
        judged=("no-blind-post",),
    )
    assert failure is not None
    assert failure.rule == "no-blind-post"
    (rule,) = failure.plan.rules
    assert rule.match in (Match(method="POST", path="/bots"), Match())
    calls = [step.name for step in failure.steps if step.name != "inject"]
    assert calls == ["start_bot"]


@pytest.mark.parametrize(
    "adapter",
    [HttpxAdapter(POLICY), AsyncHttpxAdapter(POLICY)],
    ids=["sync", "async"],
)
@pytest.mark.parametrize("profile", ["docs", "v0.10"])
def test_the_reference_clients_pass_the_same_search(adapter: object, profile: str) -> None:
    failure = find_failure(adapter, settings=hypothesis_settings("ci"), profile=profile)
    assert failure is None, failure.message if failure else ""
