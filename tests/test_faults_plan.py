"""Fault plans: the JSON format, validation that names the field, and deterministic decisions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.faults import Close, Delay, FaultEngine, FaultPlan, InvalidPlan, Reset, Status
from harness.faults.facts import facts_of
from harness.faults.plan import PlanBuilder
from harness.web.messages import Request

DESIGN_EXAMPLE = {
    "seed": 7,
    "rules": [
        {
            "match": {"method": "POST", "path": "/bots"},
            "on": {"calls": [1]},
            "phase": "after_commit",
            "fault": {"kind": "reset"},
        },
        {
            "match": {"method": "GET", "path": "/bots/status"},
            "on": {"first": 2},
            "fault": {"kind": "status", "status": 503},
        },
        {
            "match": {"path": "/meetings"},
            "on": {"probability": 0.3},
            "fault": {"kind": "status", "status": 429, "retry_after": 2},
        },
    ],
}


def request(method: str, path: str, body: Any = None, key: str = "k1") -> Request:
    raw = b"" if body is None else json.dumps(body).encode()
    return Request.build(method, path, {"x-api-key": key}, raw)


def decisions(plan: FaultPlan, requests: list[Request]) -> list[tuple[str | None, str | None]]:
    engine = FaultEngine(plan)
    attempts: dict[str, int] = {}
    out = []
    for i, req in enumerate(requests):
        facts = facts_of(req)
        attempts[facts.operation] = attempts.get(facts.operation, 0) + 1
        decision = engine.decide(facts, attempts[facts.operation], float(i))
        out.append((decision.rule, None if decision.fault is None else repr(decision.fault)))
    return out


def test_the_design_example_is_accepted_exactly_and_round_trips() -> None:
    plan = FaultPlan.from_json(DESIGN_EXAMPLE)
    assert plan.seed == 7
    assert plan.rules[0].fault == Reset()
    assert plan.rules[0].phase == "after_commit"
    assert plan.rules[1].fault == Status(503)
    assert plan.rules[2].fault == Status(429, retry_after=2)
    again = FaultPlan.from_json(plan.dumps())
    assert again == plan
    assert again.dumps() == plan.dumps()


MEETS = [request("GET", "/meetings") for _ in range(200)]


def test_same_plan_same_seed_same_decisions() -> None:
    plan = FaultPlan.from_json(DESIGN_EXAMPLE)
    first = decisions(plan, MEETS)
    assert first == decisions(plan, MEETS)
    hits = sum(1 for _, fault in first if fault)
    assert 30 < hits < 90  # p = 0.3 over 200 draws


def test_another_seed_draws_differently() -> None:
    plan = FaultPlan.from_json(DESIGN_EXAMPLE)
    other = FaultPlan.from_json({**DESIGN_EXAMPLE, "seed": 8})
    assert decisions(plan, MEETS) != decisions(other, MEETS)


def test_adding_an_unrelated_rule_keeps_every_draw() -> None:
    plan = FaultPlan.from_json(DESIGN_EXAMPLE)
    extra_rule = {
        "match": {"path": "/meetings"},
        "on": {"probability": 0.5},
        "fault": {"kind": "close"},
    }
    # The new rule goes first and matches the same requests, so it steals some of them; where
    # it does not fire, the old rule must fire exactly as before.
    bigger = FaultPlan.from_json(
        {**DESIGN_EXAMPLE, "rules": [extra_rule, *DESIGN_EXAMPLE["rules"]]}
    )
    old_rule = plan.rule_ids()[2]
    before = [fault for rule, fault in decisions(plan, MEETS)]
    after = decisions(bigger, MEETS)
    for old, (rule, fault) in zip(before, after, strict=True):
        if rule != bigger.rule_ids()[0]:
            assert fault == old
            assert rule in (None, old_rule)


def test_schedules() -> None:
    builder = PlanBuilder(seed=1)
    builder.on("GET", "/bots/status").call(2, 4).status(500)
    builder.on("GET", "/bots").first(2).status(502)
    builder.on("GET", "/meetings").every(3).close()
    plan = builder.build()
    reqs = [request("GET", p) for p in ["/bots/status"] * 5 + ["/bots"] * 3 + ["/meetings"] * 6]
    faults = [fault for _, fault in decisions(plan, reqs)]
    assert faults[:5] == [None, repr(Status(500)), None, repr(Status(500)), None]
    assert faults[5:8] == [repr(Status(502)), repr(Status(502)), None]
    assert faults[8:] == [None, None, repr(Close()), None, None, repr(Close())]


def test_attempts_count_per_meeting_and_key() -> None:
    builder = PlanBuilder()
    builder.on("POST", "/bots").attempt(1).after_commit().reset()
    plan = builder.build()
    meet = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
    other = {"platform": "google_meet", "native_meeting_id": "xyz-abcd-efg"}
    reqs = [
        request("POST", "/bots", meet),
        request("POST", "/bots", meet),
        request("POST", "/bots", other),
        request("POST", "/bots", meet, key="k2"),
        request("POST", "/bots", {"meeting_url": "https://meet.google.com/abc-defg-hij"}),
    ]
    assert [fault for _, fault in decisions(plan, reqs)] == [
        repr(Reset()),
        None,
        repr(Reset()),
        repr(Reset()),
        None,  # the same meeting as the first, by URL: its second attempt
    ]


def test_matching_on_template_meeting_key_and_regex() -> None:
    builder = PlanBuilder()
    builder.on("DELETE", "/bots/{platform}/{native_meeting_id}").for_meeting(
        "teams", "1234567890"
    ).close()
    builder.on(None, None).for_key("k2").status(503)
    plan = builder.build()
    reqs = [
        request("DELETE", "/bots/teams/1234567890"),
        request("DELETE", "/bots/teams/999999999999"),
        request("GET", "/meetings", key="k2"),
        request("GET", "/meetings"),
    ]
    assert [fault for _, fault in decisions(plan, reqs)] == [
        repr(Close()),
        None,
        repr(Status(503)),
        None,
    ]
    regex = FaultPlan.from_json(
        {"rules": [{"match": {"path_regex": "^/transcripts/"}, "fault": {"kind": "close"}}]}
    )
    assert decisions(regex, [request("GET", "/transcripts/zoom/123456789")])[0][1] == repr(Close())


def test_time_window_on_the_harness_clock() -> None:
    plan = FaultPlan.from_json(
        {"rules": [{"on": {"after": 2, "before": 4}, "fault": {"kind": "close"}}]}
    )
    faults = [fault for _, fault in decisions(plan, [request("GET", "/") for _ in range(6)])]
    assert faults == [None, None, repr(Close()), repr(Close()), None, None]


def test_delay_drawn_from_a_range_is_reproducible() -> None:
    plan = FaultPlan.from_json(
        {"seed": 3, "rules": [{"fault": {"kind": "delay", "seconds": 1, "max_seconds": 5}}]}
    )
    draws = []
    for _ in range(2):
        engine = FaultEngine(plan)
        draws.append([engine.decide(facts_of(request("GET", "/")), 1, 0.0).delay for _ in range(5)])
    assert draws[0] == draws[1]
    assert all(1 <= d <= 5 for d in draws[0])
    assert len(set(draws[0])) == 5


def test_rate_limiter_sliding_window() -> None:
    plan = FaultPlan.from_json({"rate_limit": {"limit": 3, "window": 60}})
    engine = FaultEngine(plan)
    answers = [engine.decide(facts_of(request("GET", "/meetings")), 1, float(t)) for t in range(5)]
    assert [d.headers for d in answers[:3]] == [
        (("x-ratelimit-limit", "3"), ("x-ratelimit-remaining", str(n))) for n in (2, 1, 0)
    ]
    assert answers[3].fault == Status(429, retry_after=1)
    # Another key has its own window; the docs and root are never limited.
    assert engine.decide(facts_of(request("GET", "/meetings", key="k2")), 1, 5.0).fault is None
    assert engine.decide(facts_of(request("GET", "/openapi.json")), 1, 5.0).fault is None
    # Rejected requests count too: the window frees up 60 s after the oldest hits.
    assert engine.decide(facts_of(request("GET", "/meetings")), 1, 61.5).fault == Status(
        429, retry_after=1
    )
    assert engine.decide(facts_of(request("GET", "/meetings")), 1, 64.5).fault is None


@pytest.mark.parametrize(
    ("plan", "where", "says"),
    [
        (
            {"rules": [{"fault": {"kind": "explode"}}]},
            "rules[0].fault",
            "fault.kind must be one of",
        ),
        (
            {"rules": [{"fault": {"kind": "delay", "seconds": -1}}]},
            "rules[0].fault.seconds",
            "greater than or equal to 0",
        ),
        (
            {"rules": [{"on": {"probability": 1.5}, "fault": {"kind": "reset"}}]},
            "rules[0].on.probability",
            "less than or equal to 1",
        ),
        (
            {"rules": [{"match": {"path_regex": "(["}, "fault": {"kind": "reset"}}]},
            "rules[0].match.path_regex",
            "not a valid regular expression",
        ),
        (
            {"rules": [{"fault": {"kind": "status", "status": "abc"}}]},
            "rules[0].fault.status",
            "valid integer",
        ),
        ({"rules": "all of them"}, "rules", "list"),
        (
            {"rules": [{"on": {"first": 1, "every": 2}, "fault": {"kind": "reset"}}]},
            "rules[0].on",
            "write two rules instead",
        ),
        (
            {"rules": [{"fault": {"kind": "reset"}, "colour": "red"}]},
            "rules[0].colour",
            "unknown field",
        ),
        (
            {"rules": [{"match": {"path": "bots"}, "fault": {"kind": "reset"}}]},
            "rules[0].match.path",
            "must start with '/'",
        ),
        (
            {"rules": [{"phase": "during", "fault": {"kind": "reset"}}]},
            "rules[0].phase",
            "before_commit",
        ),
        ({"rules": [{}]}, "rules[0].fault", "required"),
        (
            {"rules": [{"phase": "before_commit", "fault": {"kind": "truncate"}}]},
            "rules[0]",
            "only after commit",
        ),
        ("[1, 2", "(document)", "not JSON"),
        ([], "(document)", "a JSON object"),
    ],
)
def test_malformed_plans_name_the_field_and_the_fix(plan: Any, where: str, says: str) -> None:
    with pytest.raises(InvalidPlan) as caught:
        FaultPlan.from_json(plan if isinstance(plan, str) else json.dumps(plan))
    assert caught.value.problems[0][0] == where
    assert says in caught.value.problems[0][1]
    assert "nothing was changed" in str(caught.value)


def test_builder_refuses_bad_rules_with_the_same_words() -> None:
    builder = PlanBuilder()
    with pytest.raises(InvalidPlan, match="write two rules instead"):
        builder.on("GET", "/").first(1).every(2).close()
    with pytest.raises(InvalidPlan, match="greater than or equal to 0"):
        builder.on("GET", "/").delay(-3)
    assert builder.rules == []
    rule = builder.on("GET", "/").delay(1.5)
    assert rule.fault == Delay(1.5)
