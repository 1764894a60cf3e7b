"""The conformance rules: pure functions from runs to verdicts, one per RULES.md id.

    from harness.conformance.rules import judge
    verdicts = judge(runs, Budgets(max_attempts=6))   # one Verdict per RULE_IDS, in order

Each rule sees only the runs whose ``feeds`` name it and whose client could attempt the
operation (``end != "unsupported"``). A rule with nothing to judge says ``skip`` and why.
Rule families live in their own modules and register themselves by id:

* :mod:`.posting` — ``no-blind-post``, ``no-retry-non-retryable``
* :mod:`.recovery` — ``retries-transient``, ``honor-retry-after``
* :mod:`.backoff` — ``backoff-growth``, ``backoff-jitter`` (statistical, across runs)
* :mod:`.limits` — ``bounded-retries``, ``client-timeout``
* :mod:`.webhooks` — the seam for the four webhook-receiver rules
"""

from __future__ import annotations

from collections.abc import Sequence

from harness.conformance.rules import backoff, limits, posting, recovery  # noqa: F401  (register)
from harness.conformance.rules.registry import REGISTRY, RuleFunction, register
from harness.conformance.rules.webhooks import NO_RECEIVER
from harness.conformance.verdicts import RULE_IDS, WEBHOOK_RULES, Budgets, Run, Verdict

__all__ = ["DEFAULT_BUDGETS", "REGISTRY", "RuleFunction", "judge", "judge_rule", "register"]

#: The budgets of RULES.md (10 attempts, 300 s, 60 s, 5 s).
DEFAULT_BUDGETS = Budgets()


def _not_exercised(rule_id: str, feeding: Sequence[Run]) -> str:
    if rule_id in WEBHOOK_RULES and not feeding:
        return NO_RECEIVER
    unsupported = sorted({r.operation for r in feeding if r.end == "unsupported"})
    if unsupported:
        return f"no scenario exercised it: the client does not support {', '.join(unsupported)}"
    return "no scenario exercised it"


def judge_rule(rule_id: str, runs: Sequence[Run], budgets: Budgets = DEFAULT_BUDGETS) -> Verdict:
    """The verdict of one rule on the runs that feed it."""
    feeding = [r for r in runs if rule_id in r.feeds]
    usable = [r for r in feeding if r.end != "unsupported"]
    if not usable:
        return Verdict(rule_id, "skip", _not_exercised(rule_id, feeding))
    function = REGISTRY.get(rule_id)
    if function is None:
        return Verdict(
            rule_id,
            "skip",
            f"{len(usable)} run(s) feed it but no rule implementation is registered for it",
        )
    return function(usable, budgets)


def judge(runs: Sequence[Run], budgets: Budgets = DEFAULT_BUDGETS) -> list[Verdict]:
    """One :class:`Verdict` per id of ``RULE_IDS``, in that order."""
    return [judge_rule(rule_id, runs, budgets) for rule_id in RULE_IDS]
