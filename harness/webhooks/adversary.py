"""Webhook fault plans: the at-least-once, unordered, hostile deliveries a receiver must survive.

Pure and seeded. A :class:`StreamPlan` says how a stream of ``n`` events is delivered: in which
order, which events go out twice (same ``event_id`` and body, a fresh timestamp and signature),
which go out together, and which are forged. The same seed gives the same plan.

Noise an honest Vexa produces (RULES.md ``webhook-idempotent``, ``webhook-order-tolerant``):

- ``duplicate``: the event again, right after itself;
- ``late redelivery``: again at the very end, after everything else (a durable retry);
- ``concurrent duplicate``: two copies at the same moment (two workers, or a retry racing a
  slow first attempt);
- ``lost answer``: again a few events later (a dropped attempt: the receiver's 2xx never
  reached the sender, which tries again);
- ``reordered``: the stream in another order (Vexa promises none).

Forgeries an attacker produces (``webhook-signature``): ``unsigned`` (no auth headers at all),
``wrong_secret``, ``stale`` and ``future`` (a right signature over a timestamp more than 300 s
away), ``tampered`` (a right signature over other bytes).
"""

from __future__ import annotations

import json
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Literal

from harness._random import Streams
from harness.webhooks.signing import TOLERANCE, Headers, delivery_headers

__all__ = [
    "FORGERIES",
    "Delivery",
    "Forgery",
    "StreamPlan",
    "clean",
    "duplicated",
    "forge",
    "forged",
    "reordered",
    "tamper",
]

Forgery = Literal["unsigned", "wrong_secret", "stale", "future", "tampered"]
FORGERIES: tuple[Forgery, ...] = ("unsigned", "wrong_secret", "stale", "future", "tampered")
_REDELIVERIES = ("duplicate", "concurrent duplicate", "lost answer", "late redelivery")


@dataclass(frozen=True, slots=True)
class Delivery:
    """One planned POST of event ``event`` (an index into the stream)."""

    event: int
    #: Deliveries with the same group go out at the same moment; groups go out in order.
    group: int
    #: 0 for the event's first delivery, ``k`` for its ``k``-th redelivery.
    copy: int = 0
    forge: Forgery | None = None
    #: Seconds added to the timestamp (``stale`` < -300, ``future`` > 300).
    skew: float = 0.0
    #: Why this delivery is there, in words (``duplicate``, ``reordered``...).
    why: str = ""

    @property
    def label(self) -> str:
        return self.forge or self.why or "delivery"


@dataclass(frozen=True, slots=True)
class StreamPlan:
    name: str
    seed: int
    deliveries: tuple[Delivery, ...]

    def groups(self) -> list[tuple[Delivery, ...]]:
        """The deliveries in sending order, batched by group."""
        out: list[list[Delivery]] = []
        for delivery in self.deliveries:
            if out and out[-1][0].group == delivery.group:
                out[-1].append(delivery)
            else:
                out.append([delivery])
        return [tuple(batch) for batch in out]

    def order(self) -> list[int]:
        """Event indices in sending order (redeliveries included)."""
        return [d.event for d in self.deliveries]

    def describe(self) -> str:
        parts = []
        for batch in self.groups():
            text = " + ".join(
                f"#{d.event}" + (f" ({d.label})" if d.copy or d.forge else "") for d in batch
            )
            parts.append(f"[{text}]" if len(batch) > 1 else text)
        return f"{self.name} (seed {self.seed}): " + ", ".join(parts)


def _rng(seed: int, name: str) -> random.Random:
    return Streams(seed).derive(f"webhooks:adversary:{name}")


def _numbered(batches: list[list[Delivery]]) -> tuple[Delivery, ...]:
    return tuple(
        Delivery(d.event, group, d.copy, d.forge, d.skew, d.why)
        for group, batch in enumerate(batches)
        for d in batch
    )


def clean(n: int) -> StreamPlan:
    """Every event once, in order: the reference run."""
    return StreamPlan("clean", 0, tuple(Delivery(i, i) for i in range(n)))


def duplicated(n: int, seed: int) -> StreamPlan:
    """Every event delivered twice, each in one of the four redelivery shapes.

    With four or more events each shape is used at least once; which event gets which is
    drawn from ``seed``.
    """
    rng = _rng(seed, "duplicated")
    shapes = [_REDELIVERIES[i % len(_REDELIVERIES)] for i in range(n)]
    rng.shuffle(shapes)
    batches: list[list[Delivery]] = []
    later: dict[int, list[Delivery]] = {}
    late: list[Delivery] = []
    for i, shape in enumerate(shapes):
        again = Delivery(i, 0, copy=1, why=shape)
        first = [Delivery(i, 0)]
        if shape == "concurrent duplicate":
            first.append(again)
        batches.append(first)
        if shape == "duplicate":
            batches.append([again])
        elif shape == "lost answer":
            later.setdefault(min(n - 1, i + rng.randint(1, 3)), []).append(again)
        elif shape == "late redelivery":
            late.append(again)
        for pending in later.pop(i, []):
            batches.append([pending])
    for pending in [*(d for ds in later.values() for d in ds), *late]:
        batches.append([pending])
    return StreamPlan("duplicated", seed, _numbered(batches))


def reordered(n: int, seed: int, keys: Sequence[Hashable] | None = None) -> StreamPlan:
    """Every event once, in a seeded order that is never the original.

    ``keys`` groups events that describe one thing (a meeting): within each group of two or
    more, the event that comes last in the stream is never delivered last, so a receiver that
    lets the last delivery win ends in a different state than the clean run shows.
    """
    rng = _rng(seed, "reordered")
    order = list(range(n))
    rng.shuffle(order)
    groups: dict[Hashable, list[int]] = {}
    for event in range(n):
        groups.setdefault(keys[event] if keys is not None else 0, []).append(event)
    for members in groups.values():
        if len(members) < 2:
            continue
        position = {event: order.index(event) for event in members}
        last_event = members[-1]
        if position[last_event] == max(position.values()):
            first = min(members, key=position.__getitem__)
            a, b = position[last_event], position[first]
            order[a], order[b] = order[b], order[a]
    if n > 1 and order == sorted(order):
        order.reverse()
    batches = [[Delivery(event, 0, why="reordered")] for event in order]
    return StreamPlan("reordered", seed, _numbered(batches))


def forged(n: int, seed: int, kinds: Sequence[Forgery] = FORGERIES) -> StreamPlan:
    """Every event forged every way (kind by kind); none of these may change anything."""
    rng = _rng(seed, "forged")
    batches: list[list[Delivery]] = []
    for kind in kinds:
        for event in range(n):
            skew = 0.0
            if kind in ("stale", "future"):
                skew = TOLERANCE + 1 + rng.randrange(0, 3600)
                skew = -skew if kind == "stale" else skew
            batches.append([Delivery(event, 0, forge=kind, skew=skew, why=kind)])
    return StreamPlan("forged", seed, _numbered(batches))


# ---------------------------------------------------------------------------- forging


def tamper(body: bytes, rng: random.Random) -> bytes:
    """Other bytes that still read as an envelope: a new ``event_id`` (so nothing dedupes it)."""
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict):
        payload["event_id"] = f"evt_{rng.getrandbits(128):032x}"
        return json.dumps(payload).encode()
    return body[:-1] + bytes([(body[-1] ^ 1) if body else 0])


def forge(
    kind: Forgery | None,
    *,
    secret: str | None,
    body: bytes,
    at: float,
    skew: float = 0.0,
    rng: random.Random,
) -> tuple[Headers, bytes]:
    """The headers and body of one attempt at ``at``, forged as ``kind`` says (None: honest)."""
    if kind is None:
        return delivery_headers(secret, body, at), body
    if kind == "unsigned":
        return (("Content-Type", "application/json"),), body
    if kind == "wrong_secret":
        wrong = f"whsec_forged_{rng.getrandbits(64):016x}"
        return delivery_headers(wrong, body, at), body
    if kind in ("stale", "future"):
        default = TOLERANCE + 1 if kind == "future" else -(TOLERANCE + 1)
        return delivery_headers(secret, body, at + (skew or default)), body
    return delivery_headers(secret, body, at), tamper(body, rng)
