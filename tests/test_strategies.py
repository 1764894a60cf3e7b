"""The public strategies: every value they draw is valid where it is used, and they reach
everything they promise (both Retry-After forms, every fault kind, nulls, long lists...)."""

from __future__ import annotations

import email.utils
import json
import math
from collections import Counter
from typing import Any

import pytest
from contract_schemas import validator
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

import harness.strategies as vs
from harness import FakeVexa
from harness._clock import DEFAULT_EPOCH
from harness._strategies.responses import components
from harness.faults import FaultPlan, Rule, SlowBody, Status, Truncate
from harness.pytest_plugin import hypothesis_settings
from harness.webhooks.adversary import Delivery, StreamPlan

CI = hypothesis_settings("ci")
#: For checks whose one example costs a fresh fake or a schema validation.
FEW = settings(CI, max_examples=40, suppress_health_check=list(HealthCheck))


def reached(
    strategy: st.SearchStrategy[Any], wanted: dict[str, Any], examples: int = 300
) -> set[str]:
    """The names of ``wanted`` whose predicate some drawn value satisfied (no shrinking)."""
    seen: set[str] = set()

    @given(value=strategy)
    @settings(CI, max_examples=examples, phases=[Phase.generate])
    def draw(value: Any) -> None:
        seen.update(name for name, holds in wanted.items() if holds(value))

    draw()
    return seen


# ---------------------------------------------------------------------- the public surface


def test_all_lists_exactly_the_public_names() -> None:
    public = {n for n in dir(vs) if n[0] not in "_@"} - {"annotations"}
    assert set(vs.__all__) == public


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: vs.faults(["reset", "teleport"]), "unknown fault kind(s) ['teleport']"),
        (lambda: vs.matches(["start_bot", "fly"]), "unknown operation 'fly'"),
        (lambda: vs.vexa_responses("Nope"), "api.v1 has no component 'Nope'"),
        (lambda: vs.native_meeting_ids("skype"), "unknown platform 'skype'"),
        (lambda: vs.unusual_answers("stop_bot"), "no api.v1 answer body is known"),
        (lambda: vs.fault_plans(max_attempts=0), "max_attempts must be at least 1"),
    ],
)
def test_misuse_says_what_to_do(make: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        make()
    assert message in str(raised.value)


# ---------------------------------------------------------------------- faults and plans


@given(value=vs.retry_afters(now=DEFAULT_EPOCH + 0.4, max_seconds=30))
@CI
def test_retry_after_values_are_seconds_or_an_http_date(value: int | str) -> None:
    if isinstance(value, int):
        assert 0 <= value <= 30
    else:
        when = email.utils.parsedate_to_datetime(value).timestamp()
        assert 0 <= when - math.ceil(DEFAULT_EPOCH + 0.4) <= 30
        assert value.endswith(" GMT")


def test_retry_after_comes_in_both_forms() -> None:
    forms = {
        "seconds": lambda v: isinstance(v, int) and v > 0,
        "date": lambda v: isinstance(v, str),
    }
    assert reached(vs.retry_afters(), forms) == set(forms)


def test_every_fault_kind_is_drawn() -> None:
    kinds = {kind: (lambda f, k=kind: f.kind == k) for kind in vs.FAULT_KINDS}
    assert reached(vs.faults(), kinds) == set(kinds)


def test_faults_shrink_to_a_reset_and_rules_to_the_first_request_after_commit() -> None:
    assert find(vs.faults(), lambda f: True).kind == "reset"
    simplest = find(vs.fault_rules(["start_bot"]), lambda r: True)
    assert simplest.match.path == "/bots"
    assert simplest.on.calls == (1,)
    assert simplest.phase == "after_commit"


@given(rule=vs.fault_rules())
@CI
def test_rules_are_valid_and_round_trip_through_json(rule: Rule) -> None:
    plan = FaultPlan((rule,), seed=3)
    assert FaultPlan.from_json(plan.dumps()) == plan
    if isinstance(rule.fault, Truncate | SlowBody):
        assert rule.phase == "after_commit"


def test_rules_reach_outages_both_phases_and_any_request() -> None:
    wanted = {
        "outage": lambda r: r.on.calls is None and r.on.first is None,
        "later call": lambda r: r.on.calls not in (None, (1,)),
        "burst": lambda r: r.on.first is not None,
        "before commit": lambda r: r.phase == "before_commit",
        "after commit": lambda r: r.phase == "after_commit",
        "any request": lambda r: r.match.method is None and r.match.path is None,
    }
    assert reached(vs.fault_rules(), wanted) == set(wanted)
    assert "outage" not in reached(vs.fault_rules(persistent=False), wanted)


@given(plan=vs.fault_plans(["bot_status"], kinds=["status"], statuses=[503]))
@FEW
def test_a_plan_fires_on_exactly_the_attempts_it_names(plan: FaultPlan) -> None:
    fake = FakeVexa()
    account = fake.create_user()
    fake.install_faults(plan)
    faulted = {rule.on.attempts[0] for rule in plan.rules if rule.on.attempts}
    with fake.client(account) as http:
        statuses = [http.get("/bots/status").status_code for _ in range(4)]
    assert [n for n, status in enumerate(statuses, 1) if status == 503] == sorted(faulted)
    assert FaultPlan.from_json(plan.dumps()) == plan


def test_plans_shrink_to_the_empty_plan() -> None:
    assert find(vs.fault_plans(), lambda p: True).rules == ()


# ---------------------------------------------------------------------- requests


@given(body=vs.bot_requests(), profile=st.sampled_from(["docs", "v0.10"]))
@FEW
def test_valid_bot_requests_start_a_bot(body: dict[str, Any], profile: str) -> None:
    fake = FakeVexa(profile)
    with fake.client(fake.create_user()) as http:
        answer = http.post("/bots", json=body)
    assert answer.status_code in (201, 202), (body, answer.text)


@given(body=vs.invalid_bot_requests(), profile=st.sampled_from(["docs", "v0.10"]))
@FEW
def test_invalid_bot_requests_are_rejected(body: dict[str, Any], profile: str) -> None:
    fake = FakeVexa(profile)
    with fake.client(fake.create_user()) as http:
        answer = http.post("/bots", json=body)
    assert answer.status_code in (400, 422), (body, answer.text)
    assert not fake.journal.commits()


@given(meeting=vs.meetings())
@FEW
def test_meetings_are_what_the_protocol_can_start(meeting: vs.MeetingRef) -> None:
    from harness.clients.operations import build

    fake = FakeVexa()
    call = build("start_bot", meeting.args())
    with fake.client(fake.create_user()) as http:
        assert http.post(call.path, json=call.json).status_code == 202
    assert meeting.key == f"{meeting.platform}/{meeting.native_meeting_id}"


@given(url=vs.meeting_urls())
@CI
def test_meeting_urls_parse_to_their_platform(url: str) -> None:
    from harness.vexa.platforms import parse_meeting_url

    parsed = parse_meeting_url(url)
    assert parsed.platform in ("google_meet", "teams", "zoom")


def test_passcodes_follow_each_platform() -> None:
    assert find(vs.passcodes("teams"), lambda p: True) is not None
    assert find(vs.passcodes("google_meet"), lambda p: True) is None
    find(vs.passcodes("zoom"), lambda p: p is not None)


# ---------------------------------------------------------------------- answers


def _distinct(value: Any) -> Any:
    """The value with each list cut to its distinct items: api.v1 sets no size or uniqueness
    limits, so this validates exactly when the value does — at a fraction of the cost of
    validating a 1000-segment transcript item by item."""
    if isinstance(value, list):
        seen: dict[str, Any] = {}
        for item in value:
            seen.setdefault(json.dumps(item, sort_keys=True), _distinct(item))
        return list(seen.values())
    if isinstance(value, dict):
        return {k: _distinct(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("component", sorted({c for _, c in vs.ANSWERS.values()}))
def test_unusual_answers_validate_against_api_v1(component: str) -> None:
    check = validator(component, zoned=True)

    @given(body=vs.vexa_responses(component))
    @FEW
    def valid(body: Any) -> None:
        wire = json.loads(json.dumps(body))
        errors = [e.message for e in check.iter_errors(_distinct(wire))]
        assert not errors, errors[:3]

    valid()


def _walk(value: Any) -> Any:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item)


def test_unusual_answers_reach_the_odd_corners() -> None:
    properties = components()["TranscriptionResponse"]
    wanted = {
        "a null speaker": lambda b: any(
            isinstance(v, dict) and "speaker" in v and v["speaker"] is None for v in _walk(b)
        ),
        "no segments": lambda b: b["segments"] == [],
        "a long transcript": lambda b: len(b["segments"]) >= 1000,
        "an unknown field": lambda b: bool(set(b) - set(properties["properties"])),
        "text beyond ASCII": lambda b: any(
            isinstance(v, str) and not v.isascii() for v in _walk(b)
        ),
        "a non-UTC offset": lambda b: any(
            isinstance(v, str) and v.endswith(("+05:30", "-08:00")) for v in _walk(b)
        ),
        "a huge integer": lambda b: any(
            isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 for v in _walk(b)
        ),
    }
    assert reached(vs.vexa_responses("TranscriptionResponse"), wanted, 200) == set(wanted)


# ---------------------------------------------------------------------- webhooks


@given(plan=vs.webhook_streams())
@CI
def test_every_event_is_delivered_at_least_once(plan: StreamPlan) -> None:
    events = {d.event for d in plan.deliveries}
    assert events == set(range(len(events)))
    firsts = Counter(d.event for d in plan.deliveries if d.copy == 0)
    assert set(firsts.values()) == {1}
    groups = [d.group for d in plan.deliveries]
    assert groups == sorted(groups)
    assert plan.describe()


def test_streams_shrink_to_the_clean_stream_and_reach_the_noise() -> None:
    assert find(vs.webhook_streams(4), lambda p: True).order() == [0, 1, 2, 3]
    shapes = ("duplicate", "concurrent duplicate", "lost answer", "late redelivery")
    wanted = {s: (lambda p, s=s: any(d.why == s for d in p.deliveries)) for s in shapes}
    wanted["reordered"] = lambda p: [d.event for d in p.deliveries if not d.copy] != [0, 1, 2, 3]
    assert reached(vs.webhook_streams(4), wanted) == set(wanted)
    assert find(vs.webhook_streams(3, duplicates=False, reorder=False), lambda p: True).order() == [
        0, 1, 2,
    ]  # fmt: skip


def _counter(plan: StreamPlan) -> dict[int, int]:
    """A receiver that counts every delivery: not idempotent."""
    return dict(Counter(plan.order()))


def _deduped_last_wins(plan: StreamPlan) -> dict[str, int]:
    """A receiver that dedupes by event and keeps the highest event per meeting."""
    seen: set[int] = set()
    state: dict[str, int] = {}
    for event in plan.order():
        if event in seen:
            continue
        seen.add(event)
        state["meeting"] = max(state.get("meeting", -1), event)
    return state


@given(plan=vs.webhook_streams(st.integers(1, 5)))
@CI
def test_streams_tell_careful_receivers_from_careless_ones(plan: StreamPlan) -> None:
    events = sorted({d.event for d in plan.deliveries})
    clean = StreamPlan("clean", 0, tuple(Delivery(event, event) for event in events))
    assert _deduped_last_wins(plan) == _deduped_last_wins(clean)
    duplicated = any(d.copy for d in plan.deliveries)
    assert (_counter(plan) != _counter(clean)) == duplicated


@given(rule=vs.unusual_answers("start_bot"))
@settings(CI, max_examples=20)
def test_the_status_fault_of_an_unusual_answer_is_a_success(rule: Rule) -> None:
    assert isinstance(rule.fault, Status)
    assert rule.fault.status == 202
    assert json.loads(str(rule.fault.body))["status"] in (
        "requested", "joining", "awaiting_admission", "active",
        "needs_human_help", "stopping", "completed", "failed",
    )  # fmt: skip
