"""Faults: values, plans of match → schedule → fault, and the engine that decides them.

from harness.faults import FaultPlan, Reset, Status
plan = FaultPlan.from_json(open("plan.json").read())
"""

from __future__ import annotations

from harness.faults.engine import Decision, FaultEngine
from harness.faults.kinds import (
    Close,
    Delay,
    Fault,
    Garbage,
    Hang,
    Reset,
    SlowBody,
    Status,
    Truncate,
    gateway_error,
    rate_limited,
)
from harness.faults.plan import (
    FaultPlan,
    InvalidPlan,
    Match,
    PlanBuilder,
    RateLimit,
    Rule,
    RuleBuilder,
    Schedule,
)

__all__ = [
    "Close",
    "Decision",
    "Delay",
    "Fault",
    "FaultEngine",
    "FaultPlan",
    "Garbage",
    "Hang",
    "InvalidPlan",
    "Match",
    "PlanBuilder",
    "RateLimit",
    "Reset",
    "Rule",
    "RuleBuilder",
    "Schedule",
    "SlowBody",
    "Status",
    "Truncate",
    "gateway_error",
    "rate_limited",
]
