"""The rule registry and the bookkeeping every rule shares (findings → verdict).

A rule is a pure function ``(runs, budgets) → Verdict``; it is registered under its RULES.md
id. :func:`judge` (in ``__init__``) hands each rule only the runs that feed it and that the
client could attempt; a rule that finds nothing it can judge says ``skip`` and why — never a
hollow ``pass``.

The webhook rules plug in here later: ``@register("webhook-fast-ack")`` in their own module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from harness.conformance.evidence import headline
from harness.conformance.verdicts import RULE_IDS, Budgets, Evidence, Run, Verdict

__all__ = [
    "EPS_REAL",
    "EPS_VIRTUAL",
    "REGISTRY",
    "Findings",
    "RuleFunction",
    "eps_low",
    "eps_up",
    "register",
]

RuleFunction = Callable[[Sequence[Run], Budgets], Verdict]

#: rule id → the function that judges it. Ids without an entry say ``skip``.
REGISTRY: dict[str, RuleFunction] = {}

#: Lower-bound tolerance on a virtual clock: float noise only (harness stamps ~1e9 s).
EPS_VIRTUAL = 1e-6
#: Lower-bound tolerance on real time (RULES.md: 2 ms; retry.md §3.1 measured ≥ +0.94 ms).
EPS_REAL = 0.002
#: Most evidence items one verdict carries; the reason says how many more there were.
MAX_EVIDENCE = 10


def register(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register the function that judges ``rule_id`` (one of ``RULE_IDS``; once only)."""
    if rule_id not in RULE_IDS:
        raise ValueError(f"unknown rule id {rule_id!r}; the ids are those of RULES.md: {RULE_IDS}")

    def add(function: RuleFunction) -> RuleFunction:
        if rule_id in REGISTRY:
            raise ValueError(f"rule {rule_id!r} is already registered ({REGISTRY[rule_id]!r})")
        REGISTRY[rule_id] = function
        return function

    return add


def eps_low(run: Run) -> float:
    """Tolerance of a lower bound (a gap that must be at least ...)."""
    return EPS_VIRTUAL if run.virtual_time else EPS_REAL


def eps_up(run: Run, budget: float) -> float:
    """Tolerance of an upper bound: exact on virtual time; on real time max(0.25 s, 5 %).

    A real-time excess beyond it is still only *suspect* (see :class:`Findings`).
    """
    return EPS_VIRTUAL if run.virtual_time else max(0.25, 0.05 * budget)


@dataclass(slots=True)
class Findings:
    """What one rule saw across its runs, turned into a verdict by :meth:`verdict`.

    ``checked`` counts observations that could have failed (e.g. retries after an ambiguous
    POST). ``suspects`` are real-time upper-bound excesses: one is never a failure (timing
    noise); two or more are (the excess repeated), as ``reference/retry.md`` §7 says.
    """

    rule: str
    checked: int = 0
    runs_checked: int = 0
    violations: list[Evidence] = field(default_factory=list)
    suspects: list[Evidence] = field(default_factory=list)
    #: Why some runs could not be judged (shown when the verdict is skip).
    notes: list[str] = field(default_factory=list)

    def fail(self, evidence: Evidence) -> None:
        self.violations.append(evidence)

    def verdict(self, nothing: str, unit: str = "observation(s)") -> Verdict:
        """``nothing``: why the rule could not be judged, when no observation was made."""
        if len(self.suspects) >= 2:
            self.violations.extend(self.suspects)
        if self.violations:
            n = len(self.violations)
            more = f" (showing {MAX_EVIDENCE})" if n > MAX_EVIDENCE else ""
            runs = len({(e.scenario, e.seed) for e in self.violations})
            reason = f"violated {n} time(s) in {runs} run(s){more}: {headline(self.violations[0])}"
            return Verdict(self.rule, "fail", reason, tuple(self.violations[:MAX_EVIDENCE]))
        if self.suspects:
            reason = (
                "suspect, not judged: a real-time upper bound was exceeded once "
                f"({headline(self.suspects[0])}); one real-time excess is timing noise until "
                "it repeats — run the scenario again"
            )
            return Verdict(self.rule, "skip", reason, tuple(self.suspects))
        if self.checked == 0:
            why = nothing + (f" ({'; '.join(dict.fromkeys(self.notes))})" if self.notes else "")
            return Verdict(self.rule, "skip", why)
        reason = f"held in {self.checked} {unit} over {self.runs_checked} run(s)"
        return Verdict(self.rule, "pass", reason)
