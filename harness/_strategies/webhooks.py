"""Webhook delivery streams with duplicates and reorderings, as the adversary's ``StreamPlan``.

:mod:`harness.webhooks.adversary` draws each kind of noise from a seed; this draws arbitrary
mixtures of them, so Hypothesis can search for the stream that breaks a receiver and shrink it:
towards the clean stream (every event once, in order), then towards fewer duplicates.
"""

from __future__ import annotations

from hypothesis import strategies as st

from harness.webhooks.adversary import Delivery, StreamPlan

__all__ = ["webhook_streams"]

#: Where a second copy of an event goes, shrinking towards the most common.
_SHAPES = ("duplicate", "concurrent duplicate", "lost answer", "late redelivery")


@st.composite
def _stream(
    draw: st.DrawFn,
    events: st.SearchStrategy[int],
    duplicates: bool,
    reorder: bool,
) -> StreamPlan:
    n = draw(events)
    order = list(draw(st.permutations(range(n)))) if reorder else list(range(n))
    moved = order != list(range(n))
    batches: list[list[Delivery]] = []
    later: dict[int, list[Delivery]] = {}
    late: list[Delivery] = []
    for position, event in enumerate(order):
        first = Delivery(event, 0, why="reordered" if moved else "")
        batch = [first]
        shape = draw(st.none() | st.sampled_from(_SHAPES)) if duplicates else None
        copy = Delivery(event, 0, copy=1, why=shape or "")
        if shape == "concurrent duplicate":
            batch.append(copy)
        batches.append(batch)
        if shape == "duplicate":
            batches.append([copy])
        elif shape == "lost answer":
            gap = draw(st.integers(1, 3))
            later.setdefault(min(n - 1, position + gap), []).append(copy)
        elif shape == "late redelivery":
            late.append(copy)
        batches.extend([pending] for pending in later.pop(position, []))
    batches.extend([pending] for pending in late)
    deliveries = tuple(
        Delivery(d.event, group, d.copy, d.forge, d.skew, d.why)
        for group, batch in enumerate(batches)
        for d in batch
    )
    return StreamPlan("generated", 0, deliveries)


_EVENTS = st.integers(1, 6)


def webhook_streams(
    events: int | st.SearchStrategy[int] = _EVENTS,
    *,
    duplicates: bool = True,
    reorder: bool = True,
) -> st.SearchStrategy[StreamPlan]:
    """Streams of ``events`` events (a count, or a strategy of counts), each delivered at least
    once: in any order (``reorder``), with any event sent again (``duplicates``) right after
    itself, at the same moment, a few events later (a lost answer) or at the very end.

    The plan is what :func:`harness.webhooks.adversary.duplicated` and ``reordered`` make,
    drawn instead of seeded: ``plan.order()`` gives the event indices in sending order,
    ``plan.groups()`` the batches sent at one moment.
    """
    counts = st.just(events) if isinstance(events, int) else events
    return _stream(counts, duplicates, reorder)
