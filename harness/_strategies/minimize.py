"""The last shrinking pass: leave out steps and faults while the same rule still fails.

Hypothesis's shrinker is good but not exhaustive about deleting a step between two it keeps
(a ``bot_status()`` before the call that matters can survive it). Replaying the printed
program with one step, or one injected fault, left out settles it: what remains is
1-minimal — no single step or fault of it can go.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, TypeVar

from harness._strategies.program import Step

__all__ = ["Found", "fewer", "minimal"]


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


_F = TypeVar("_F", bound=Found)


def minimal(replay: Callable[[Sequence[Step]], _F | None], found: _F) -> _F:
    """The smallest failure of the same rule reachable by leaving things out, one at a time."""
    best = found
    improved = True
    while improved:
        improved = False
        for candidate in fewer(best.steps):
            again = replay(candidate)
            if again is not None and again.rule == best.rule:
                best, improved = again, True
                break
    return best
