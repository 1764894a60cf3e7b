"""Fault plans: ordered rules of *match → schedule → fault*, and their JSON form.

A plan is data. Users write it three ways — a Python builder that reads like the plan
(``plan.on("POST", "/bots").attempt(1).after_commit().reset()``), a JSON file for
``vexa-harness serve --faults``, or a POST to ``/_harness/faults`` — and all three become the
same frozen :class:`FaultPlan`. Parsing validates everything up front and names the field and
the fix, so a malformed plan never half-applies.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, field_validator, with_config

from harness.errors import ConfigurationError
from harness.faults.kinds import (
    AnyFault,
    Close,
    Delay,
    Fault,
    Garbage,
    Hang,
    Reset,
    SlowBody,
    Status,
    Truncate,
)

__all__ = [
    "FaultPlan",
    "InvalidPlan",
    "Match",
    "PlanBuilder",
    "RateLimit",
    "Rule",
    "RuleBuilder",
    "Schedule",
    "path_regex",
]

Phase = Literal["before_commit", "after_commit"]
_TEMPLATE_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


class InvalidPlan(ConfigurationError):
    """A fault plan that cannot run. ``problems`` lists ``(field, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {where}: {message}" for where, message in problems)
        super().__init__(
            f"invalid fault plan ({len(problems)} problem(s)); nothing was changed:\n{lines}"
        )


def path_regex(path: str) -> re.Pattern[str]:
    """A literal path or a template (``/bots/{platform}/{native_meeting_id}``) as a regex."""
    parts = _TEMPLATE_PARAM.split(path)
    pattern = "".join(
        re.escape(p) if i % 2 == 0 else f"(?P<{p}>[^/]+)" for i, p in enumerate(parts)
    )
    return re.compile(f"^{pattern}$")


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Match:
    """Which requests a rule looks at. Every given field must match; omitted means any."""

    method: str | None = None
    path: str | None = None
    path_regex: str | None = None
    platform: str | None = None
    native_meeting_id: str | None = None
    api_key: str | None = None

    @field_validator("method")
    @classmethod
    def _upper(cls, value: str | None) -> str | None:
        return value.upper() if value else value

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("/"):
            raise ValueError(f"path must start with '/', e.g. '/bots' (got {value!r})")
        return value

    @field_validator("path_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(
                    f"not a valid regular expression ({exc}); escape special characters"
                ) from None
        return value


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Schedule:
    """When a matching request is hit. At most one counting mode; a window narrows any of them.

    ``calls``: 1-based numbers among this rule's matching requests. ``first``: the first N.
    ``every``: every k-th. ``probability``: a draw from the rule's own seeded stream.
    ``attempts``: the n-th attempt of one logical operation (e.g. the 2nd POST /bots for one
    meeting). ``after``/``before``: harness-clock seconds since the plan was installed.
    """

    calls: tuple[Annotated[int, Field(ge=1)], ...] | None = None
    first: Annotated[int, Field(ge=1)] | None = None
    every: Annotated[int, Field(ge=1)] | None = None
    probability: Annotated[float, Field(ge=0, le=1)] | None = None
    attempts: tuple[Annotated[int, Field(ge=1)], ...] | None = None
    after: Annotated[float, Field(ge=0)] | None = None
    before: Annotated[float, Field(gt=0)] | None = None

    def __post_init__(self) -> None:
        modes = [
            n
            for n in ("calls", "first", "every", "probability", "attempts")
            if getattr(self, n) is not None
        ]
        if len(modes) > 1:
            raise ValueError(
                "use one of calls/first/every/probability/attempts, not "
                f"{' and '.join(modes)}; write two rules instead"
            )
        if self.after is not None and self.before is not None and self.before <= self.after:
            raise ValueError(
                f"the window is empty: before={self.before} must be greater than after={self.after}"
            )


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class Rule:
    """Match → schedule → fault, before or after the Vexa model commits.

    ``phase`` defaults to ``before_commit`` (nothing happened), except for ``truncate`` and
    ``slow_body``: they act on the real answer, which exists only once the model has run.
    """

    fault: AnyFault
    match: Match = field(default_factory=Match)
    on: Schedule = field(default_factory=Schedule)
    phase: Phase | None = None
    id: str | None = None

    def __post_init__(self) -> None:
        answer_fault = isinstance(self.fault, Truncate | SlowBody)
        if self.phase is None:
            object.__setattr__(self, "phase", "after_commit" if answer_fault else "before_commit")
        elif answer_fault and self.phase == "before_commit":
            raise ValueError(
                f"{self.fault.kind} acts on the real answer, which exists only after commit; "
                "set phase to after_commit or leave it out"
            )
        if (
            isinstance(self.fault, Delay)
            and self.fault.max_seconds is not None
            and self.fault.max_seconds < self.fault.seconds
        ):
            raise ValueError(
                "fault.max_seconds must be >= fault.seconds "
                "(the delay is drawn from [seconds, max_seconds])"
            )


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class RateLimit:
    """Vexa's limiter: per key, a sliding window; rejected requests count too (v0.10)."""

    limit: Annotated[int, Field(ge=1)] = 120
    window: Annotated[float, Field(gt=0)] = 60.0
    retry_after: Annotated[int, Field(ge=0)] = 1


@with_config(ConfigDict(extra="forbid"))
@dataclass(frozen=True, slots=True)
class FaultPlan:
    """An ordered list of rules (the first that fires wins), a seed, an optional rate limit."""

    rules: tuple[Rule, ...] = ()
    seed: int = 0
    rate_limit: RateLimit | None = None

    # ------------------------------------------------------------------ JSON

    @classmethod
    def from_json(cls, data: str | bytes | dict[str, Any]) -> FaultPlan:
        """Parse a plan; :class:`InvalidPlan` names each bad field and how to fix it."""
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise InvalidPlan(
                    [("(document)", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
                ) from None
        if not isinstance(data, dict):
            raise InvalidPlan([("(document)", "a fault plan is a JSON object with a 'rules' list")])
        try:
            return _PLAN.validate_python(data)
        except ValidationError as exc:
            raise InvalidPlan(
                [(_where(e["loc"]), _explain(e)) for e in exc.errors(include_url=False)]
            ) from None

    def to_json(self) -> dict[str, Any]:
        payload: dict[str, Any] = _PLAN.dump_python(self, mode="json", exclude_none=True)
        return payload

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    # ------------------------------------------------------------------ building

    def with_rule(self, rule: Rule) -> FaultPlan:
        return replace(self, rules=(*self.rules, rule))

    def rule_ids(self) -> list[str]:
        """Each rule's stream name: its ``id``, or a digest of its content (stable under edits)."""
        seen: dict[str, int] = {}
        names = []
        for rule in self.rules:
            base = rule.id or _content_name(rule)
            seen[base] = seen.get(base, 0) + 1
            names.append(base if seen[base] == 1 else f"{base}#{seen[base]}")
        return names


_PLAN: TypeAdapter[FaultPlan] = TypeAdapter(FaultPlan)
_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


def _content_name(rule: Rule) -> str:
    try:
        return _digest(rule)
    except TypeError:  # built in Python with a list inside: unhashable, so not cached
        return _digest.__wrapped__(rule)


@functools.lru_cache(maxsize=4096)
def _digest(rule: Rule) -> str:
    """A rule's content name (rules are immutable: a state machine asks for the same ones
    on every request it judges)."""
    return "rule-" + hashlib.sha256(_RULE.dump_json(replace(rule, id=None))).hexdigest()[:12]


_KIND_NAMES = ("status", "delay", "hang", "reset", "close", "truncate", "garbage", "slow_body")
_KINDS = ", ".join(_KIND_NAMES)


def _where(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    previous: int | str | None = None
    for item in loc:
        if previous == "fault" and item in _KIND_NAMES:
            previous = None  # pydantic names the union member; the user wrote just "fault"
            continue
        parts.append(f"[{item}]" if isinstance(item, int) else f".{item}")
        previous = item
    return "".join(parts).lstrip(".") or "(document)"


def _explain(error: Any) -> str:
    kind, msg = error["type"], error["msg"]
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return (
            f"fault.kind must be one of: {_KINDS} (got {error['input'].get('kind')!r})"
            if isinstance(error["input"], dict)
            else msg
        )
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"unknown field {error['loc'][-1]!r}; remove it (see the plan format in DESIGN.md)"
    if kind == "missing":
        return "required; add it"
    msg = msg.removeprefix("Value error, ").replace("valid tuple", "list")
    return f"{msg} (got {error.get('input')!r})"


class RuleBuilder:
    """``plan.on("POST", "/bots").attempt(1).after_commit().reset()`` — reads like the rule."""

    def __init__(self, owner: PlanBuilder, match: Match) -> None:
        self._owner = owner
        self._match = match
        self._on: dict[str, Any] = {}
        self._phase: Phase | None = None
        self._id: str | None = None

    # matching
    def for_meeting(self, platform: str, native_meeting_id: str) -> RuleBuilder:
        self._match = replace(self._match, platform=platform, native_meeting_id=native_meeting_id)
        return self

    def for_key(self, api_key: str) -> RuleBuilder:
        self._match = replace(self._match, api_key=api_key)
        return self

    # scheduling
    def call(self, *numbers: int) -> RuleBuilder:
        self._on["calls"] = numbers
        return self

    def first(self, count: int) -> RuleBuilder:
        self._on["first"] = count
        return self

    def every(self, k: int) -> RuleBuilder:
        self._on["every"] = k
        return self

    def probability(self, p: float) -> RuleBuilder:
        self._on["probability"] = p
        return self

    def attempt(self, *numbers: int) -> RuleBuilder:
        self._on["attempts"] = numbers
        return self

    def between(self, after: float | None = None, before: float | None = None) -> RuleBuilder:
        self._on.update(after=after, before=before)
        return self

    def named(self, rule_id: str) -> RuleBuilder:
        self._id = rule_id
        return self

    # phase
    def after_commit(self) -> RuleBuilder:
        self._phase = "after_commit"
        return self

    def before_commit(self) -> RuleBuilder:
        self._phase = "before_commit"
        return self

    # the fault (terminal: adds the rule to the plan)
    def fault(self, fault: Fault) -> Rule:
        try:
            schedule = Schedule(**self._on)
            rule = Rule(fault=fault, match=self._match, on=schedule, phase=self._phase, id=self._id)
            _RULE.validate_python(_RULE.dump_python(rule))
        except (ValueError, ValidationError) as exc:
            raise InvalidPlan([("rule", str(exc))]) from None
        self._owner.add(rule)
        return rule

    def status(
        self,
        status: int,
        *,
        retry_after: int | str | None = None,
        html: bool = False,
        body: str | None = None,
    ) -> Rule:
        return self.fault(Status(status, retry_after=retry_after, html=html, body=body))

    def rate_limited(self, retry_after: int | str | None = 1) -> Rule:
        return self.fault(Status(429, retry_after=retry_after))

    def delay(self, seconds: float, max_seconds: float | None = None) -> Rule:
        return self.fault(Delay(seconds, max_seconds))

    def hang(self, seconds: float | None = None) -> Rule:
        return self.fault(Hang(seconds))

    def reset(self) -> Rule:
        return self.fault(Reset())

    def close(self) -> Rule:
        return self.fault(Close())

    def truncate(self, fraction: float = 0.5) -> Rule:
        return self.fault(Truncate(fraction))

    def garbage(self) -> Rule:
        return self.fault(Garbage())

    def slow_body(self, seconds: float, chunks: int = 8) -> Rule:
        return self.fault(SlowBody(seconds, chunks))


class PlanBuilder:
    """A mutable plan under construction; :meth:`build` freezes it."""

    def __init__(self, seed: int = 0, rate_limit: RateLimit | None = None) -> None:
        self.seed = seed
        self.rate_limit = rate_limit
        self.rules: list[Rule] = []
        self.listeners: list[Any] = []

    def on(self, method: str | None = None, path: str | None = None) -> RuleBuilder:
        return RuleBuilder(self, Match(method=method.upper() if method else None, path=path))

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)
        for listener in self.listeners:
            listener(self.build())

    def build(self) -> FaultPlan:
        return FaultPlan(tuple(self.rules), self.seed, self.rate_limit)
