"""The state machine's mechanics: calls, faults, hooks, invariants, replays, and its programs."""

from __future__ import annotations

import email.utils
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import settings

import harness.stateful as stateful
from harness._strategies.calls import Call, CallResult
from harness._strategies.facts import situation
from harness._strategies.minimize import minimal
from harness._strategies.program import Step, program, source
from harness.clients.command_client import POLICY
from harness.clients.policy import RetryPolicy
from harness.clients.sync_client import HttpxAdapter
from harness.errors import ConfigurationError
from harness.faults import FaultPlan, Hang, Match, Reset, Rule, Schedule, Status
from harness.pytest_plugin import hypothesis_settings
from harness.stateful import RuleViolation, VexaStateMachine, find_failure
from harness.strategies import MEETINGS, MeetingRef
from harness.vexa.profiles import get_profile

MEET, TEAMS, ZOOM = MEETINGS
RESET_FIRST_POST = Rule(
    Reset(), Match(method="POST", path="/bots"), Schedule(calls=(1,)), "after_commit"
)
OUTAGE = Rule(Status(503), Match(method="GET", path="/bots/status"), Schedule(), "before_commit")


class GoodMachine(VexaStateMachine):
    client = HttpxAdapter(POLICY)


class BlindMachine(VexaStateMachine):
    client = HttpxAdapter(RetryPolicy(reconcile=False))


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(stateful) if n[0] not in "_@"} - {"annotations"}
    assert set(stateful.__all__) <= public
    classes_and_functions = {
        n for n in public if getattr(getattr(stateful, n), "__module__", "") == stateful.__name__
    }
    assert classes_and_functions <= set(stateful.__all__)


# ---------------------------------------------------------------------- calls and faults


def test_a_call_is_judged_at_once_and_a_good_client_passes() -> None:
    state = GoodMachine()
    state.start_bot(meeting=MEET, faults=[RESET_FIRST_POST])
    state.wait(seconds=60.0)
    state.get_transcript(meeting=MEET)
    state.stop_bot(meeting=MEET)
    state.teardown()
    first = state.results[0]
    assert first.succeeded
    assert first.situation.kind == "ambiguous_post"
    assert "retries-transient" in first.runs[0].feeds
    assert [c.effect for c in state.fake.journal.commits()] == ["bot_stop_requested"]
    assert [s.name for s in state.steps] == ["start_bot", "wait", "get_transcript", "stop_bot"]


def test_a_blind_re_post_fails_with_evidence_and_a_program() -> None:
    state = BlindMachine()
    with pytest.raises(RuleViolation) as raised:
        state.start_bot(meeting=MEET, faults=[RESET_FIRST_POST])
    state.teardown()
    violation = raised.value
    assert violation.rule == "no-blind-post"
    assert set(violation.failed) == {"no-blind-post", "retries-transient"}
    assert violation.plan.rules == (RESET_FIRST_POST,)
    text = str(violation)
    assert "FAIL no-blind-post" in text
    assert "cut: reset" in text  # the evidence, from the journal
    assert "answer 409" in text
    assert "seed 0, profile docs" in text
    assert "    state.start_bot(meeting=MeetingRef(platform='google_meet'" in text


def test_the_program_runs_as_it_is_printed() -> None:
    state = BlindMachine()
    with pytest.raises(RuleViolation) as raised:
        state.start_bot(meeting=MEET, faults=[RESET_FIRST_POST])
    state.teardown()
    printed = raised.value.program
    assert printed.splitlines()[:2] == [
        "from harness.faults import Match, Reset, Rule, Schedule",
        "from harness.strategies import MeetingRef",
    ]
    with pytest.raises(RuleViolation) as again:
        exec(printed, {"BlindMachine": BlindMachine})
    assert again.value.rule == "no-blind-post"
    assert again.value.program == printed


def test_the_last_pass_leaves_out_what_is_not_needed_and_folds_an_inject_into_its_call() -> None:
    state = BlindMachine()
    state.bot_status()
    state.inject(rule=RESET_FIRST_POST)
    state.wait(seconds=5.0)
    with pytest.raises(RuleViolation) as raised:
        state.start_bot(meeting=MEET)
    state.teardown()
    assert [step.name for step in raised.value.steps] == [
        "bot_status", "inject", "wait", "start_bot",
    ]  # fmt: skip
    best = minimal(lambda steps: stateful._replay(BlindMachine, steps), raised.value)
    assert best.rule == "no-blind-post"
    assert best.steps == (Step("start_bot", (("meeting", MEET), ("faults", [RESET_FIRST_POST]))),)


def test_the_last_pass_moves_a_late_fault_to_the_next_request() -> None:
    """A reset on the 2nd POST needs a POST before it; on the next POST it needs nothing."""
    second_post = replace(RESET_FIRST_POST, on=Schedule(calls=(2,)))
    state = BlindMachine()
    state.inject(rule=second_post)
    state.start_bot(meeting=MEET)
    with pytest.raises(RuleViolation) as raised:
        state.start_bot(meeting=TEAMS)
    state.teardown()
    best = minimal(lambda steps: stateful._replay(BlindMachine, steps), raised.value)
    assert best.steps == (Step("start_bot", (("meeting", MEET), ("faults", [RESET_FIRST_POST]))),)


def test_hypothesis_prints_the_same_program_and_it_runs_too() -> None:
    failure = find_failure(
        HttpxAdapter(replace(POLICY, retry_statuses=POLICY.retry_statuses | {404})),
        settings=hypothesis_settings("ci"),
    )
    assert failure is not None
    assert failure.rule == "no-retry-non-retryable"
    assert failure.hypothesis_program.startswith(f"state = {failure.machine.__name__}()")
    namespace = {failure.machine.__name__: failure.machine, "MeetingRef": MeetingRef}
    with pytest.raises(RuleViolation):
        exec(failure.hypothesis_program, namespace)
    with pytest.raises(RuleViolation):
        exec(failure.program, namespace)


def test_an_outage_call_is_replayed_with_independent_seeds_for_the_backoff_rules() -> None:
    state = GoodMachine()
    state.bot_status(faults=[OUTAGE])
    state.teardown()
    (result,) = state.results
    assert result.situation.kind == "persistent_outage"
    assert len(result.runs) == 5
    assert len({run.seed for run in result.runs}) == 5
    assert {run.facts["group"] for run in result.runs} == {"call-1"}
    assert len({str(run.plan) for run in result.runs}) == 1
    assert all({"backoff-growth", "backoff-jitter"} <= set(run.feeds) for run in result.runs)


def test_an_outage_already_replayed_is_judged_but_not_replayed_again() -> None:
    """The same operation through the same fault rules (rules are named by their content, so
    also once they were cleared and injected again) has its envelope judged already; another
    operation has its own."""
    everywhere = Rule(Status(503), Match(), Schedule(), "before_commit")
    state = GoodMachine()
    state.inject(rule=everywhere)
    state.bot_status()
    state.bot_status()
    state.list_meetings()
    state.clear_faults()
    state.inject(rule=everywhere)
    state.bot_status()
    state.teardown()
    first, again, other, cleared = state.results
    assert [len(r.runs) for r in (first, again, other)] == [5, 1, 5]
    assert again.situation.kind == "persistent_outage"
    assert "backoff-growth" not in again.runs[0].feeds
    assert "bounded-retries" in again.runs[0].feeds  # still judged by the other rules
    assert len(cleared.runs) == 1  # the same rule's content: the same outage


def test_a_hang_also_feeds_client_timeout() -> None:
    state = GoodMachine()
    hang = Rule(Hang(), Match(method="GET", path="/bots/status"), Schedule(calls=(1,)))
    state.bot_status(faults=[hang])
    state.teardown()
    (result,) = state.results
    assert result.succeeded
    assert [run.feeds for run in result.runs][1] == ("client-timeout",)


def test_inject_clear_and_wait_change_the_fake() -> None:
    state = GoodMachine()
    state.inject(rule=OUTAGE)
    assert state.fake.fault_engine.plan.rules == (OUTAGE,)
    state.clear_faults()
    assert state.fake.fault_engine.plan.rules == ()
    before = state.fake.clock.now()
    state.wait(seconds=600.0)
    assert state.fake.clock.now() == before + 600
    assert [s.name for s in state.steps] == ["inject", "clear_faults", "wait"]
    state.teardown()


def test_an_http_date_retry_after_counts_from_when_it_is_injected() -> None:
    state = GoodMachine()
    state.wait(seconds=600.0)
    date = email.utils.formatdate(math.ceil(state.fake.clock.now()) - 600 + 3, usegmt=True)
    state.inject(rule=replace(OUTAGE, fault=Status(429, retry_after=date)))
    injected = state.fake.fault_engine.plan.rules[0].fault
    assert isinstance(injected, Status)
    when = email.utils.parsedate_to_datetime(str(injected.retry_after)).timestamp()
    assert when == math.ceil(state.fake.clock.now()) + 3
    state.teardown()


# ---------------------------------------------------------------------- hooks


class Hooked(GoodMachine):
    def setup(self) -> None:
        self.log = ["setup"]

    def before_call(self, call: Call) -> Call | None:
        self.log.append(f"before {call.operation}")
        if call.operation == "stop_bot":
            return Call("stop_bot", ZOOM.args())  # send this instead
        return None

    def after_call(self, call: Call, result: CallResult) -> None:
        self.log.append(f"after {call.operation} {result.end}")

    def teardown(self) -> None:
        self.log.append("teardown")
        super().teardown()


def test_hooks_run_around_every_call_and_may_change_it() -> None:
    state = Hooked()
    state.start_bot(meeting=ZOOM)
    state.stop_bot(meeting=MEET)
    state.teardown()
    assert state.log == [
        "setup",
        "before start_bot",
        "after start_bot succeeded",
        "before stop_bot",
        "after stop_bot succeeded",
        "teardown",
    ]
    assert state.results[1].call.args["platform"] == "zoom"


def test_a_machine_without_a_client_says_how_to_give_it_one() -> None:
    with pytest.raises(ConfigurationError, match="set the class attribute"):
        VexaStateMachine()


def test_the_machine_runs_as_a_test_case() -> None:
    class Small(GoodMachine):
        pass

    Small.TestCase.settings = settings(hypothesis_settings("dev"), max_examples=3)
    Small.TestCase().runTest()


# ---------------------------------------------------------------------- the model's invariants


class _Liar:
    """Says it started a bot without sending anything."""

    def start_bot(self, base_url: str, api_key: str, args: Mapping[str, Any], **_: Any) -> Any:
        return {"id": 1, "status": "requested"}


class _Crasher:
    def bot_status(self, base_url: str, api_key: str, args: Mapping[str, Any], **_: Any) -> Any:
        return None + 1  # type: ignore[operator]


def test_a_client_that_claims_a_bot_it_never_asked_for_loses_a_meeting() -> None:
    class Liar(VexaStateMachine):
        client = _Liar()

    with pytest.raises(RuleViolation) as raised:
        Liar().start_bot(meeting=MEET)
    assert raised.value.rule == "no-lost-meetings"


def test_a_crashing_client_fails_no_crash() -> None:
    class Crasher(VexaStateMachine):
        client = _Crasher()

    with pytest.raises(RuleViolation) as raised:
        Crasher().bot_status()
    assert raised.value.rule == "no-crash"
    assert "TypeError" in str(raised.value)


def test_two_live_bots_in_one_meeting_fail_one_live_bot() -> None:
    class NoDedupe(VexaStateMachine):
        client = HttpxAdapter(POLICY)
        profile = replace(get_profile("docs"), dedupe_statuses=frozenset())

    state = NoDedupe()
    state.start_bot(meeting=MEET)
    with pytest.raises(RuleViolation) as raised:
        state.start_bot(meeting=MEET)
    assert raised.value.rule == "one-live-bot"


def test_judged_narrows_the_rules_of_rules_md() -> None:
    class Lenient(BlindMachine):
        judged = ("backoff-growth",)

    state = Lenient()
    state.start_bot(meeting=MEET, faults=[RESET_FIRST_POST])  # blind, but not judged
    state.teardown()


# ---------------------------------------------------------------------- a real socket


def test_a_socket_client_runs_on_virtual_time_over_a_real_socket() -> None:
    import broken_clients.urllib3_hidden_retry as urllib3_client

    class OverTheWire(VexaStateMachine):
        client = urllib3_client.ADAPTER
        judged = ("no-blind-post",)

    state = OverTheWire()
    assert state._server is not None
    url = state._server.url
    state.bot_status(faults=[OUTAGE])
    with pytest.raises(RuleViolation) as raised:
        state.start_bot(meeting=MEET, faults=[RESET_FIRST_POST])
    state.teardown()
    assert raised.value.rule == "no-blind-post"
    outage = state.results[0]
    assert outage.runs[0].virtual_time
    assert outage.runs[0].events[-1].at - outage.runs[0].events[0].at > 1.0  # virtual seconds
    assert url.startswith("http://127.0.0.1:")
    assert state._server is None


# ---------------------------------------------------------------------- pieces


def test_situations_tell_bursts_outages_and_natural_errors_apart() -> None:
    state = GoodMachine()
    state.stop_bot(meeting=MEET)  # a 404 of the fake's own, under no fault
    state.bot_status(faults=[Rule(Status(503), Match(), Schedule(first=2))])
    state.teardown()
    natural, burst = state.results
    assert natural.situation.kind == "fuzz"
    assert burst.situation.kind == "transient_burst"
    assert burst.situation.facts["burst"] == 2
    plan = FaultPlan((OUTAGE,))
    assert situation(burst.events, plan, "bot_status", fresh=True).kind == "transient_burst"
    assert situation(burst.events, plan, "bot_status", fresh=False).kind == "fuzz"


def test_source_writes_values_as_the_calls_that_build_them() -> None:
    imports: dict[str, set[str]] = {}
    assert source(RESET_FIRST_POST, imports) == (
        "Rule(fault=Reset(), match=Match(method='POST', path='/bots'), "
        "on=Schedule(calls=(1,)), phase='after_commit')"
    )
    assert imports == {"harness.faults": {"Match", "Reset", "Rule", "Schedule"}}
    assert source({"a": [1, (2,)]}, imports) == "{'a': [1, (2,)]}"
    text = program(GoodMachine, [Step("bot_status")])
    assert text.splitlines() == [
        f"from {GoodMachine.__module__} import GoodMachine",
        "state = GoodMachine()",
        "state.bot_status()",
        "state.teardown()",
    ]
