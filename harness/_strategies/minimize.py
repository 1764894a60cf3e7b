"""The last shrinking pass: leave out steps and faults while the same rule still fails.

Hypothesis's shrinker is good but not exhaustive about deleting a step between two it keeps
(a ``bot_status()`` before the call that matters can survive it). Replaying the printed
program with one step, or one injected fault, left out settles it: what remains is
1-minimal — no single step or fault of it can go.

Two more moves, each kept only when the same rule still fails. A fault that fires on a later
matching request (``Schedule(calls=(3,))``) is tried on the next one: Hypothesis can stop at a
program whose earlier steps only exist to count requests up to it, and once the fault fires
at once those steps can go. And one canonical form: ``inject(rule=R)`` right before a call is
the same program as the call with ``faults=[R]`` (both install R just before the call's first
request), so it is folded in — a failure reads as the fewest steps whichever way the search
reached it. The passes repeat until none changes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Protocol, TypeVar

from harness._strategies.program import Step
from harness.faults.plan import Rule, Schedule

__all__ = ["Found", "fewer", "folded", "minimal", "sooner"]

#: Steps that are not client calls (a call's ``faults=`` can absorb an ``inject`` before it).
_NOT_CALLS = frozenset({"inject", "wait", "clear_faults"})


class Found(Protocol):
    """A failure found by running steps (``RuleViolation``)."""

    rule: str
    steps: tuple[Step, ...]


def fewer(steps: Sequence[Step]) -> Iterator[list[Step]]:
    """Candidates with one step, or one injected fault of a step, left out."""
    for i in range(len(steps)):
        yield [*steps[:i], *steps[i + 1 :]]
    for i, step in enumerate(steps):
        kwargs = dict(step.kwargs)
        faults = kwargs.get("faults")
        if not faults:
            continue
        for j in range(len(faults)):
            rest = [*faults[:j], *faults[j + 1 :]]
            shown = {k: v for k, v in kwargs.items() if k != "faults"}
            if rest:
                shown["faults"] = rest
            yield [*steps[:i], Step(step.name, tuple(shown.items())), *steps[i + 1 :]]


_NEXT = Schedule(calls=(1,))


def sooner(steps: Sequence[Step]) -> Iterator[list[Step]]:
    """Candidates with one injected fault moved to the next matching request."""
    for i, step in enumerate(steps):
        kwargs = dict(step.kwargs)
        if step.name == "inject":
            rule = kwargs["rule"]
            if isinstance(rule, Rule) and rule.on != _NEXT:
                kwargs["rule"] = replace(rule, on=_NEXT)
                yield [*steps[:i], Step(step.name, tuple(kwargs.items())), *steps[i + 1 :]]
            continue
        faults = list(kwargs.get("faults") or [])
        for j, rule in enumerate(faults):
            if isinstance(rule, Rule) and rule.on != _NEXT:
                kwargs["faults"] = [*faults[:j], replace(rule, on=_NEXT), *faults[j + 1 :]]
                yield [*steps[:i], Step(step.name, tuple(kwargs.items())), *steps[i + 1 :]]


def folded(steps: Sequence[Step]) -> Iterator[list[Step]]:
    """Candidates with one ``inject`` folded into the ``faults=`` of the call right after it."""
    for i in range(len(steps) - 1):
        inject, call = steps[i], steps[i + 1]
        if inject.name != "inject" or call.name in _NOT_CALLS:
            continue
        kwargs = dict(call.kwargs)
        kwargs["faults"] = [dict(inject.kwargs)["rule"], *kwargs.get("faults", [])]
        yield [*steps[:i], Step(call.name, tuple(kwargs.items())), *steps[i + 2 :]]


_F = TypeVar("_F", bound=Found)


def minimal(replay: Callable[[Sequence[Step]], _F | None], found: _F) -> _F:
    """The smallest failure of the same rule reachable by leaving things out, one at a time."""
    best = found
    changed = True
    while changed:
        changed = False
        for candidates in (fewer, sooner, folded):
            improved = True
            while improved:
                improved = False
                for candidate in candidates(best.steps):
                    again = replay(candidate)
                    if again is not None and again.rule == best.rule:
                        best, improved, changed = again, True, True
                        break
    return best
