"""The vocabulary shared by the scenario runner and the rules: runs, verdicts, evidence.

A :class:`Run` is one scenario executed once against one client: the fault plan and seed it
ran with, the journal events it produced, and how the client itself ended. Rules are pure
functions from runs to a :class:`Verdict`; they never run anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from harness.journal import Event

__all__ = [
    "CLIENT_RULES",
    "RULE_IDS",
    "WEBHOOK_RULES",
    "Budgets",
    "ClientEnd",
    "Evidence",
    "Run",
    "Verdict",
    "VerdictKind",
]

#: Exactly the ids of RULES.md, in its order: reports, JSON, markers and the CLI use these.
CLIENT_RULES = (
    "no-blind-post",
    "no-retry-non-retryable",
    "retries-transient",
    "honor-retry-after",
    "backoff-growth",
    "backoff-jitter",
    "bounded-retries",
    "client-timeout",
)
WEBHOOK_RULES = (
    "webhook-fast-ack",
    "webhook-idempotent",
    "webhook-order-tolerant",
    "webhook-signature",
)
RULE_IDS = CLIENT_RULES + WEBHOOK_RULES

VerdictKind = Literal["pass", "fail", "skip"]
#: How the client's own attempt at the operation ended (command protocol exit codes 0/1/2,
#: or what an in-process adapter returned/raised), as the runner saw it.
ClientEnd = Literal["succeeded", "gave_up", "unsupported", "crashed", "hung", "garbage"]


@dataclass(frozen=True, slots=True)
class Budgets:
    """The limits the rules judge against (``conform``'s four budget flags)."""

    #: ``bounded-retries``: attempts of one operation under a persistent outage.
    max_attempts: int = 10
    #: ``bounded-retries``: harness seconds from the first attempt to the last.
    max_retry_time: float = 300.0
    #: ``client-timeout``: harness seconds a client may wait on a request that never answers.
    timeout_budget: float = 60.0
    #: ``webhook-fast-ack``: seconds a receiver may take to answer a delivery.
    webhook_ack_budget: float = 5.0


@dataclass(frozen=True, slots=True)
class Run:
    """One scenario, run once, against one client."""

    scenario: str
    operation: str
    profile: str
    seed: int
    #: The rule ids this scenario exercises (a rule with no run that feeds it says ``skip``).
    feeds: tuple[str, ...]
    #: The fault plan, as JSON (``FaultPlan.to_json()``).
    plan: dict[str, Any]
    events: tuple[Event, ...]
    end: ClientEnd
    #: The client's one-line reason, stderr tail, or exception text.
    detail: str = ""
    #: Scenario facts the rules may need (e.g. ``{"burst": 2}``, ``{"retry_after": 3}``).
    facts: dict[str, Any] = field(default_factory=dict)
    #: True when the run used the virtual clock (exact tolerances) rather than real time.
    virtual_time: bool = True


@dataclass(frozen=True, slots=True)
class Evidence:
    """The minimal journal facts that show a violation, rendered for a person."""

    scenario: str
    seed: int
    summary: str
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: str
    verdict: VerdictKind
    reason: str
    evidence: tuple[Evidence, ...] = ()

    def to_json(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "id": self.rule,
            "verdict": self.verdict,
            "reason": self.reason,
            "evidence": [
                {
                    "scenario": e.scenario,
                    "seed": e.seed,
                    "summary": e.summary,
                    "events": [asdict(event) for event in e.events],
                }
                for e in self.evidence
            ],
        }
