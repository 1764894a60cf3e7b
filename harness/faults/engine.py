"""The fault engine: a pure ``decide(request facts, attempt, now) → Decision``.

It keeps only counters and seeded streams. Each rule counts the requests its ``match``
selects and draws from its *own* stream (named after the rule), on every matching request,
whether or not an earlier rule fired — so a decision depends on the plan, the seed and the
request sequence alone, and adding a rule never shifts another rule's draws.
"""

from __future__ import annotations

import random
import re
from collections import deque
from dataclasses import dataclass, field, fields

from harness._random import Streams
from harness.faults.facts import RequestFacts
from harness.faults.kinds import Delay, Fault, Status
from harness.faults.plan import FaultPlan, Rule, path_regex

__all__ = ["Decision", "FaultEngine", "fault_as_json"]

#: Paths Vexa's limiter never counts (v0.10), plus the harness's own control API.
_UNLIMITED = ("/", "/docs", "/openapi.json", "/redoc")


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do with one request: a fault in a phase (or none), and extra answer headers."""

    fault: Fault | None = None
    phase: str = "before_commit"
    rule: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0

    @property
    def before(self) -> Fault | None:
        return self.fault if self.phase == "before_commit" else None

    @property
    def after(self) -> Fault | None:
        return self.fault if self.phase == "after_commit" else None


@dataclass(slots=True)
class _RuleState:
    rule: Rule
    name: str
    stream: random.Random
    regex: re.Pattern[str] | None
    seen: int = 0


@dataclass(slots=True)
class _Limiter:
    hits: dict[str, deque[float]] = field(default_factory=dict)


class FaultEngine:
    """Decides faults for a plan. Installing a plan restarts every counter and stream."""

    def __init__(self, plan: FaultPlan | None = None, installed_at: float = 0.0) -> None:
        self.install(plan or FaultPlan(), installed_at)

    def install(self, plan: FaultPlan, installed_at: float) -> None:
        """Start ``plan`` afresh: counters, streams, the limiter and the window clock."""
        self.plan = plan
        self.installed_at = installed_at
        self._rules = self._states(plan, {})
        self._limiter = _Limiter()

    def extend(self, plan: FaultPlan) -> None:
        """Switch to ``plan`` (the old one plus rules), keeping the state of rules it kept."""
        if plan.seed != self.plan.seed:
            self.install(plan, self.installed_at)
            return
        previous = {state.name: state for state in self._rules}
        self.plan = plan
        self._rules = self._states(plan, previous)

    @staticmethod
    def _states(plan: FaultPlan, previous: dict[str, _RuleState]) -> list[_RuleState]:
        streams = Streams(plan.seed)
        states = []
        for rule, name in zip(plan.rules, plan.rule_ids(), strict=True):
            kept = previous.get(name)
            if kept is None:
                regex = path_regex(rule.match.path) if rule.match.path else None
                kept = _RuleState(rule, name, streams.derive(name), regex)
            states.append(kept)
        return states

    def decide(self, facts: RequestFacts, attempt: int, now: float) -> Decision:
        limited = self._rate_limit(facts, now)
        if limited is not None and limited.fault is not None:
            return limited
        chosen: _RuleState | None = None
        for state in self._rules:
            if not self._matches(state, facts):
                continue
            state.seen += 1
            fires = self._scheduled(state, attempt, now)  # draws even when another rule won
            if fires and chosen is None:
                chosen = state
        headers = limited.headers if limited else ()
        if chosen is None:
            return Decision(headers=headers)
        fault = chosen.rule.fault
        delay = 0.0
        if isinstance(fault, Delay):
            top = fault.max_seconds
            delay = fault.seconds if top is None else chosen.stream.uniform(fault.seconds, top)
        return Decision(fault, chosen.rule.phase or "before_commit", chosen.name, headers, delay)

    @staticmethod
    def _matches(state: _RuleState, facts: RequestFacts) -> bool:
        match = state.rule.match
        if match.method is not None and match.method != facts.method:
            return False
        if state.regex is not None and not state.regex.match(facts.path):
            return False
        if match.path_regex is not None and not re.search(match.path_regex, facts.path):
            return False
        if match.platform is not None and match.platform != facts.platform:
            return False
        if (
            match.native_meeting_id is not None
            and match.native_meeting_id != facts.native_meeting_id
        ):
            return False
        return match.api_key is None or match.api_key == facts.api_key

    def _scheduled(self, state: _RuleState, attempt: int, now: float) -> bool:
        on = state.rule.on
        draw = state.stream.random() if on.probability is not None else None
        elapsed = now - self.installed_at
        if on.after is not None and elapsed < on.after:
            return False
        if on.before is not None and elapsed >= on.before:
            return False
        if on.calls is not None:
            return state.seen in on.calls
        if on.first is not None:
            return state.seen <= on.first
        if on.every is not None:
            return state.seen % on.every == 0
        if draw is not None and on.probability is not None:
            return draw < on.probability
        if on.attempts is not None:
            return attempt in on.attempts
        return True

    def _rate_limit(self, facts: RequestFacts, now: float) -> Decision | None:
        limit = self.plan.rate_limit
        if limit is None or facts.path in _UNLIMITED or facts.path.startswith("/_harness"):
            return None
        bucket = self._limiter.hits.setdefault(facts.api_key or "-", deque())
        while bucket and bucket[0] <= now - limit.window:
            bucket.popleft()
        bucket.append(now)  # rejected requests count too, as in Vexa's limiter
        if len(bucket) > limit.limit:
            return Decision(
                Status(429, retry_after=limit.retry_after), "before_commit", "rate-limit"
            )
        remaining = limit.limit - len(bucket)
        return Decision(
            headers=(
                ("x-ratelimit-limit", str(limit.limit)),
                ("x-ratelimit-remaining", str(remaining)),
            )
        )


def fault_as_json(fault: Fault) -> dict[str, object]:
    """A fault as the journal and the control API show it.

    Fault values are flat (scalars and strings), so a field walk does what ``asdict`` does
    without its recursive deep copy — a quarter of an in-process request's cost when a
    fault fires on every request.
    """
    names = _FIELD_NAMES.get(type(fault))
    if names is None:
        names = _FIELD_NAMES[type(fault)] = tuple(f.name for f in fields(fault))
    values = ((name, getattr(fault, name)) for name in names)
    return {name: value for name, value in values if value is not None}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
