"""The four webhook rules: a right receiver passes them all; each mistake fails its own rule.

Receivers run in this process on a virtual clock (a slow one "works" by moving it), except the
command-receiver tests, which start a real process and judge it on real time.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import pytest
from webhook_receivers import COMMAND_RECEIVER, factory

from harness._clock import VirtualClock
from harness.conformance.verdicts import WEBHOOK_RULES, Budgets, Verdict
from harness.journal import WebhookEvent
from harness.webhooks.receivers import command_receiver
from harness.webhooks.verdicts import describe_webhook_event, effects_diff, judge_webhooks


def judged(clock: VirtualClock | None = None, **mistakes: Any) -> dict[str, Verdict]:
    clock = clock or VirtualClock()
    verdicts = judge_webhooks(factory(clock, **mistakes), clock=clock, seed=7)
    assert [v.rule for v in verdicts] == list(WEBHOOK_RULES)
    return {v.rule: v for v in verdicts}


def kinds(verdicts: dict[str, Verdict]) -> dict[str, str]:
    return {rule: v.verdict for rule, v in verdicts.items()}


def only_failure(verdicts: dict[str, Verdict], rule: str) -> Verdict:
    assert kinds(verdicts) == {r: "fail" if r == rule else "pass" for r in WEBHOOK_RULES}, {
        r: v.reason for r, v in verdicts.items()
    }
    failed = verdicts[rule]
    assert failed.evidence, "a failure carries its evidence"
    assert failed.evidence[0].events, "the evidence lists the deliveries"
    assert all(isinstance(e, WebhookEvent) for e in failed.evidence[0].events)
    return failed


def test_a_receiver_that_dedupes_verifies_and_acks_fast_passes_every_rule() -> None:
    verdicts = judged()
    assert kinds(verdicts) == dict.fromkeys(WEBHOOK_RULES, "pass"), {
        r: v.reason for r, v in verdicts.items()
    }
    assert "changed nothing" in verdicts["webhook-signature"].reason


def test_counting_duplicates_fails_only_idempotence() -> None:
    failed = only_failure(judged(dedupe=False), "webhook-idempotent")
    summary = failed.evidence[0].summary
    assert "effects $.applied" in summary, summary
    copies = [e for e in failed.evidence[0].events if e.attempt == 2]
    assert copies
    assert all(e.status == 200 for e in copies)


def test_letting_the_last_delivery_win_fails_only_order_tolerance() -> None:
    failed = only_failure(judged(last_wins=True), "webhook-order-tolerant")
    summary = failed.evidence[0].summary
    assert "effects $.status" in summary, summary
    assert "reordered" in summary, summary


def test_working_before_the_ack_fails_only_fast_ack() -> None:
    failed = only_failure(judged(work=6.0), "webhook-fast-ack")
    assert "within 5 s" in failed.reason
    slow = failed.evidence[0].events[0]
    assert slow.answered_at is not None
    assert slow.answered_at - slow.at >= 6.0


def test_the_ack_budget_is_configurable() -> None:
    clock = VirtualClock()
    verdicts = judge_webhooks(
        factory(clock, work=6.0), clock=clock, budgets=Budgets(webhook_ack_budget=7)
    )
    assert {v.rule: v.verdict for v in verdicts}["webhook-fast-ack"] == "pass"


def test_skipping_the_signature_check_fails_only_the_signature_rule() -> None:
    failed = only_failure(judged(check_signature=False), "webhook-signature")
    assert "not refused with a 4xx" in failed.reason
    assert {e.adversary for e in failed.evidence[0].events} == {
        "unsigned",
        "wrong_secret",
        "stale",
        "future",
        "tampered",
    }
    assert "effects after unsigned" in failed.evidence[0].summary


def test_without_effects_the_comparisons_skip_and_the_rest_is_judged() -> None:
    verdicts = judged(effects=False)
    assert kinds(verdicts) == {
        "webhook-fast-ack": "pass",
        "webhook-idempotent": "skip",
        "webhook-order-tolerant": "skip",
        "webhook-signature": "pass",
    }
    assert "GET /effects" in verdicts["webhook-idempotent"].reason
    assert "effects not judged" in verdicts["webhook-signature"].reason


def test_unsigned_deliveries_leave_the_signature_rule_unjudged() -> None:
    clock = VirtualClock()
    verdicts = judge_webhooks(factory(clock), clock=clock, secret=None)
    assert [v.verdict for v in verdicts] == ["pass", "pass", "pass", "skip"]


def test_evidence_renders_as_lines() -> None:
    event = judged(dedupe=False)["webhook-idempotent"].evidence[0].events[0]
    line = describe_webhook_event(event)
    assert event.event_id in line
    assert "answered 200" in line


def test_effects_diff_names_the_paths() -> None:
    assert effects_diff({"a": 1, "b": [1, 2]}, {"a": 2, "b": [1, 3], "c": 0}) == [
        "$.a: expected 1, got 2",
        "$.b[1]: expected 2, got 3",
        "$.c: unexpected 0",
    ]
    assert effects_diff({"x": [1]}, {"x": [1]}) == []


# ---------------------------------------------------------------------------- the command protocol


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "receiver.py"
    path.write_text(COMMAND_RECEIVER)
    return path


def test_a_command_receiver_is_judged_over_real_sockets(script: Path) -> None:
    verdicts = judge_webhooks(command_receiver([sys.executable, str(script)]), seed=3)
    assert [v.verdict for v in verdicts] == ["pass"] * 4, [v.reason for v in verdicts]


def test_a_command_receiver_without_effects_skips_the_comparisons(script: Path) -> None:
    verdicts = judge_webhooks(command_receiver([sys.executable, str(script), "no-effects"]))
    assert [v.verdict for v in verdicts] == ["pass", "skip", "skip", "pass"]
    assert "404" in verdicts[1].reason


def test_a_receiver_that_never_listens_is_reported_and_the_harness_goes_on() -> None:
    silent = [sys.executable, "-c", "import time; print('booting'); time.sleep(30)"]
    began = time.monotonic()
    verdicts = judge_webhooks(command_receiver(silent, startup_timeout=0.5))
    assert time.monotonic() - began < 10
    assert [v.verdict for v in verdicts] == ["skip"] * 4
    reason = verdicts[0].reason
    assert "did not listen on 127.0.0.1" in reason, reason
    assert "booting" in reason, reason


def test_a_receiver_that_exits_at_once_is_reported_with_its_output() -> None:
    crash = [sys.executable, "-c", "import sys; sys.exit('no PORT for me')"]
    verdicts = judge_webhooks(command_receiver(crash))
    assert [v.verdict for v in verdicts] == ["skip"] * 4
    assert "exited with code 1" in verdicts[0].reason
    assert "no PORT for me" in verdicts[0].reason
