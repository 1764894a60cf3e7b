"""The four webhook-receiver rules of RULES.md, judged by delivering streams to fresh receivers.

One judgement is four sessions, each on a fresh receiver made by a
:data:`~harness.webhooks.receivers.ReceiverFactory` for the same secret:

=============  ======================================================================
``clean``      the stream once, in order: the reference effects
``duplicated`` every event twice (right after, concurrently, after a lost answer, late)
``reordered``  the stream in another order (within a meeting, the last event not last)
``forged``     every event forged every way (unsigned, wrong secret, stale, future,
               tampered), effects read before and after each way
=============  ======================================================================

- ``webhook-fast-ack``: every honest delivery of the first three sessions answered 2xx within
  ``Budgets.webhook_ack_budget`` seconds of the harness clock.
- ``webhook-idempotent``: duplicates answered 2xx, and ``duplicated`` effects == ``clean``.
- ``webhook-order-tolerant``: ``reordered`` effects == ``clean`` effects.
- ``webhook-signature``: every forgery answered 4xx and no effect changed (without a secret:
  ``skip``; without effects, only the 4xx half is judged, and the reason says so).

A receiver without effects (no ``GET /effects``) cannot be judged on the two rules that compare
them: they ``skip``. A receiver that cannot be started makes every rule ``skip``, with the reason.
Effects must be a function of the events received (not of arrival times), or a correct receiver
looks non-idempotent.

The stream is :func:`~harness.webhooks.events.sample_stream`: what the fake's own model emits
for two overlapping meetings with every event switched on.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from harness._clock import Clock, SystemClock, VirtualClock
from harness._random import Streams
from harness.conformance.verdicts import WEBHOOK_RULES, Budgets, Evidence, Verdict, VerdictKind
from harness.journal import WebhookEvent
from harness.vexa.profiles import Profile
from harness.webhooks.adversary import (
    FORGERIES,
    Delivery,
    StreamPlan,
    clean,
    duplicated,
    forge,
    forged,
    reordered,
)
from harness.webhooks.events import Emission, sample_stream
from harness.webhooks.profiles import webhook_profile
from harness.webhooks.receivers import (
    DeliveryError,
    NoEffects,
    Receiver,
    ReceiverFactory,
    ReceiverUnavailable,
)

__all__ = [
    "DEFAULT_SECRET",
    "Sent",
    "describe_webhook_event",
    "effects_diff",
    "judge_webhooks",
]

T = TypeVar("T")


class _Derived:
    def __repr__(self) -> str:
        return "DEFAULT_SECRET"


#: ``secret=DEFAULT_SECRET``: sign with a secret derived from the seed (the usual case).
DEFAULT_SECRET: Any = _Derived()
#: Lines of evidence per verdict (the rest are counted, not listed).
_EVIDENCE_LINES = 12


@dataclass(frozen=True, slots=True)
class Sent:
    """One delivery the judge made, and how the receiver answered it."""

    plan: str
    delivery: Delivery
    event_id: str
    event_type: str
    meeting_id: int
    sent_at: float
    answered_at: float
    status: int | None
    error: str | None
    receiver: str

    @property
    def elapsed(self) -> float:
        return self.answered_at - self.sent_at

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def event(self) -> WebhookEvent:
        d = self.delivery
        return WebhookEvent(
            exchange=0,
            at=self.sent_at,
            event_id=self.event_id,
            event_type=self.event_type,
            attempt=d.copy + 1,
            url=self.receiver,
            status=self.status,
            error=self.error,
            answered_at=self.answered_at,
            adversary=d.forge or (d.why if d.copy or d.why == "reordered" else None),
        )

    def describe(self) -> str:
        d = self.delivery
        what = f"{self.plan} #{d.event} {self.event_type} {self.event_id}"
        if d.copy:
            what += f" (copy {d.copy}: {d.why})"
        elif d.forge:
            what += f" ({d.forge})"
        answer = f"answered {self.status}" if self.status is not None else self.error
        return f"{what}: {answer} after {self.elapsed:.3g} s"


@dataclass(slots=True)
class _Session:
    plan: StreamPlan
    sent: list[Sent] = field(default_factory=list)
    effects: Any = None
    #: Why there are no effects (None: ``effects`` holds them).
    no_effects: str | None = None
    #: ``forged`` only: effects before anything, then after each forgery kind.
    snapshots: list[tuple[str, Any]] = field(default_factory=list)


def describe_webhook_event(event: WebhookEvent) -> str:
    """One webhook attempt as a line, for evidence renderers."""
    answer = f"answered {event.status}" if event.status is not None else f"{event.error}"
    took = ""
    if event.answered_at is not None:
        took = f" after {event.answered_at - event.at:.3g} s"
    note = f" [{event.adversary}]" if event.adversary else ""
    return (
        f"webhook {event.event_type} {event.event_id} attempt {event.attempt} to {event.url}"
        f"{note}: {answer}{took}"
    )


def effects_diff(expected: Any, actual: Any, path: str = "$", limit: int = 8) -> list[str]:
    """Where two effects snapshots differ, as ``path: expected X, got Y`` lines."""
    out: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                if key not in b:
                    out.append(f"{where}.{key}: expected {_short(a[key])}, missing")
                elif key not in a:
                    out.append(f"{where}.{key}: unexpected {_short(b[key])}")
                else:
                    walk(a[key], b[key], f"{where}.{key}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{i}]")
        elif _canonical(a) != _canonical(b):
            out.append(f"{where}: expected {_short(a)}, got {_short(b)}")

    walk(expected, actual, path)
    return out


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _short(value: Any, width: int = 80) -> str:
    text = _canonical(value)
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------------------- delivering


async def _deliver(
    receiver: Receiver,
    plan: StreamPlan,
    delivery: Delivery,
    stream: Sequence[Emission],
    secret: str | None,
    clock: Clock,
    timeout: float,
    rng: random.Random,
    at: float,
) -> Sent:
    emission = stream[delivery.event]
    headers, body = forge(
        delivery.forge, secret=secret, body=emission.body, at=at, skew=delivery.skew, rng=rng
    )
    status: int | None = None
    error: str | None = None
    try:
        status = await receiver.post(headers, body, timeout)
    except DeliveryError as exc:
        error = f"{exc.kind}: {exc.detail}"
    except Exception as exc:  # a receiver in this process broke: that is its answer
        error = f"error: {type(exc).__name__}: {exc}"
    return Sent(
        plan=plan.name,
        delivery=delivery,
        event_id=emission.event_id,
        event_type=emission.event_type,
        meeting_id=emission.meeting_id,
        sent_at=at,
        answered_at=clock.now(),
        status=status,
        error=error,
        receiver=receiver.label,
    )


async def _effects(receiver: Receiver) -> tuple[Any, str | None]:
    try:
        return await receiver.effects(), None
    except NoEffects as exc:
        return None, str(exc)
    except Exception as exc:
        return None, f"reading effects failed: {type(exc).__name__}: {exc}"


async def _session(
    factory: ReceiverFactory,
    plan: StreamPlan,
    stream: Sequence[Emission],
    secret: str | None,
    clock: Clock,
    timeout: float,
    rng: random.Random,
) -> _Session:
    session = _Session(plan)
    with factory(secret) as receiver:
        if plan.name == "forged":
            before, why = await _effects(receiver)
            if why is None:
                session.snapshots.append(("before", before))
        for batch in plan.groups():
            at = clock.now()  # a batch goes out at one moment
            sent = await asyncio.gather(
                *(
                    _deliver(receiver, plan, d, stream, secret, clock, timeout, rng, at)
                    for d in batch
                )
            )
            session.sent.extend(sent)
            if session.snapshots and _last_of_kind(plan, batch[-1]):
                after, _ = await _effects(receiver)
                session.snapshots.append((batch[-1].forge or "?", after))
        session.effects, session.no_effects = await _effects(receiver)
    return session


def _last_of_kind(plan: StreamPlan, delivery: Delivery) -> bool:
    later = [d for d in plan.deliveries if d.group > delivery.group]
    return not later or later[0].forge != delivery.forge


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a fresh event loop, in a thread if this one already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: list[T] = []
    failure: list[BaseException] = []

    def work() -> None:
        try:
            box.append(asyncio.run(coroutine))
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=work, name="vexa-harness-webhook-judge")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return box[0]


# ---------------------------------------------------------------------------- judging


def judge_webhooks(
    receiver: ReceiverFactory,
    *,
    budgets: Budgets | None = None,
    profile: str | Profile = "v0.10",
    seed: int = 0,
    secret: str | None = DEFAULT_SECRET,
    clock: Clock | None = None,
    stream: Sequence[Emission] | None = None,
) -> list[Verdict]:
    """Verdicts on the four webhook rules, in :data:`WEBHOOK_RULES` order.

    ``receiver`` makes a fresh receiver per session (e.g.
    :func:`~harness.webhooks.receivers.command_receiver`); ``secret`` is what deliveries are
    signed with (default: derived from ``seed``; None: unsigned, and ``webhook-signature``
    skips); ``clock`` times the answers and stamps the signatures (default: real time, which
    is what a receiver in another process checks timestamps against; in-process receivers on
    a :class:`~harness._clock.VirtualClock` pass it here and read it as their now).
    """
    budgets = budgets or Budgets()
    events = tuple(stream) if stream is not None else sample_stream(profile, seed)
    if secret is DEFAULT_SECRET:
        secret = f"whsec_{Streams(seed).derive('webhooks:judge-secret').getrandbits(96):024x}"
    judge = _Judge(receiver, budgets, profile, seed, secret, clock or SystemClock(), events)
    return _run(judge.run())


class _Judge:
    def __init__(
        self,
        factory: ReceiverFactory,
        budgets: Budgets,
        profile: str | Profile,
        seed: int,
        secret: str | None,
        clock: Clock,
        stream: tuple[Emission, ...],
    ) -> None:
        self.factory = factory
        self.budget = budgets.webhook_ack_budget
        self.wp = webhook_profile(profile)
        self.seed = seed
        self.secret = secret
        self.clock = clock
        self.stream = stream
        #: How long one delivery may take: Vexa's timeout, but never much past the budget.
        self.timeout = min(self.wp.timeout, max(2 * self.budget, self.budget + 1.0))
        self.rng = Streams(seed).derive("webhooks:judge-forgeries")
        self.sessions: dict[str, _Session] = {}
        self.unavailable: str | None = None

    async def run(self) -> list[Verdict]:
        n = len(self.stream)
        keys = [e.meeting_id for e in self.stream]
        plans = [clean(n), duplicated(n, self.seed), reordered(n, self.seed, keys)]
        if self.secret is not None:
            plans.append(forged(n, self.seed))
        for plan in plans:
            try:
                self.sessions[plan.name] = await _session(
                    self.factory, plan, self.stream, self.secret, self.clock, self.timeout, self.rng
                )
            except ReceiverUnavailable as exc:
                self.unavailable = str(exc)
                break
        return [self.fast_ack(), self.idempotent(), self.order_tolerant(), self.signature()]

    # ------------------------------------------------------------------ helpers

    def _verdict(
        self,
        rule: str,
        kind: VerdictKind,
        reason: str,
        sent: Sequence[Sent] = (),
        notes: Sequence[str] = (),
    ) -> Verdict:
        assert rule in WEBHOOK_RULES
        if kind != "fail":
            return Verdict(rule, kind, reason)
        lines = [s.describe() for s in sent[:_EVIDENCE_LINES]]
        if len(sent) > _EVIDENCE_LINES:
            lines.append(f"… and {len(sent) - _EVIDENCE_LINES} more")
        summary = "\n".join([reason, *("  " + line for line in [*notes, *lines])])
        plans = sorted({s.plan for s in sent}) or ["webhooks"]
        evidence = Evidence(
            scenario="webhooks:" + "+".join(plans),
            seed=self.seed,
            summary=summary,
            events=tuple(s.event() for s in sent),
        )
        return Verdict(rule, "fail", reason, (evidence,))

    def _missing(self, rule: str, *names: str) -> Verdict | None:
        absent = [name for name in names if name not in self.sessions]
        if not absent:
            return None
        why = self.unavailable or f"the {', '.join(absent)} session did not run"
        return self._verdict(rule, "skip", f"receiver unavailable: {why}")

    def _effects_of(self, rule: str, *names: str) -> Verdict | None:
        for name in names:
            session = self.sessions[name]
            if session.no_effects is not None:
                return self._verdict(
                    rule,
                    "skip",
                    f"cannot compare effects: {session.no_effects} "
                    "(serve GET /effects with a JSON snapshot of your durable effects)",
                )
        return None

    # ------------------------------------------------------------------ the rules

    def fast_ack(self) -> Verdict:
        """2xx within the budget; on real time a single late answer is noise, two are not.

        On a virtual clock the bound is exact. On real time an answer later than the budget
        by more than max(0.25 s, 5 %) is *suspect*; RULES.md makes one noisy upper-bound
        observation never a failure, so it takes two to fail. A non-2xx never is noise.
        """
        rule = "webhook-fast-ack"
        honest = [
            s
            for name in ("clean", "duplicated", "reordered")
            for s in self.sessions.get(name, _Session(clean(0))).sent
        ]
        if not honest:
            why = self.unavailable or "no delivery was made"
            return self._verdict(rule, "skip", f"receiver unavailable: {why}")
        virtual = isinstance(self.clock, VirtualClock)
        tolerance = 1e-6 if virtual else max(0.25, 0.05 * self.budget)
        refused = [s for s in honest if not s.ok]
        late = [s for s in honest if s.ok and s.elapsed > self.budget + tolerance]
        slowest = max(s.elapsed for s in honest)
        if refused or len(late) > (0 if virtual else 1):
            bad = refused + late
            return self._verdict(
                rule,
                "fail",
                f"{len(bad)} of {len(honest)} deliveries were not answered 2xx within "
                f"{self.budget:g} s (slowest answer after {slowest:.3g} s)",
                bad,
            )
        noise = f"; one answer after {late[0].elapsed:.3g} s counted as noise" if late else ""
        return self._verdict(
            rule,
            "pass",
            f"all {len(honest)} deliveries answered 2xx within {self.budget:g} s "
            f"(slowest {slowest:.3g} s{noise})",
        )

    def idempotent(self) -> Verdict:
        rule = "webhook-idempotent"
        skip = self._missing(rule, "clean", "duplicated") or self._effects_of(
            rule, "clean", "duplicated"
        )
        if skip is not None:
            return skip
        reference, noisy = self.sessions["clean"], self.sessions["duplicated"]
        refused = [s for s in noisy.sent if s.delivery.copy and not s.ok]
        diff = effects_diff(reference.effects, noisy.effects)
        copies = sum(1 for s in noisy.sent if s.delivery.copy)
        if diff or refused:
            parts = []
            if diff:
                parts.append("effects after a stream with duplicates differ from the clean run")
            if refused:
                parts.append(f"{len(refused)} duplicate deliveries were not answered 2xx")
            return self._verdict(
                rule,
                "fail",
                "; ".join(parts),
                refused or [s for s in noisy.sent if s.delivery.copy],
                [f"plan: {noisy.plan.describe()}", *(f"effects {line}" for line in diff)],
            )
        return self._verdict(
            rule, "pass", f"{copies} duplicate deliveries answered 2xx and changed nothing"
        )

    def order_tolerant(self) -> Verdict:
        rule = "webhook-order-tolerant"
        skip = self._missing(rule, "clean", "reordered") or self._effects_of(
            rule, "clean", "reordered"
        )
        if skip is not None:
            return skip
        reference, noisy = self.sessions["clean"], self.sessions["reordered"]
        diff = effects_diff(reference.effects, noisy.effects)
        if diff:
            return self._verdict(
                rule,
                "fail",
                "effects after an out-of-order delivery differ from the in-order run",
                noisy.sent,
                [f"plan: {noisy.plan.describe()}", *(f"effects {line}" for line in diff)],
            )
        return self._verdict(
            rule, "pass", f"the stream in another order left the same effects ({noisy.plan.name})"
        )

    def signature(self) -> Verdict:
        rule = "webhook-signature"
        if self.secret is None:
            return self._verdict(rule, "skip", "deliveries are unsigned (no secret configured)")
        skip = self._missing(rule, "forged")
        if skip is not None:
            return skip
        session = self.sessions["forged"]
        accepted = [s for s in session.sent if s.status is None or not 400 <= s.status < 500]
        changed: list[str] = []
        for (_, earlier), (kind, later) in zip(
            session.snapshots, session.snapshots[1:], strict=False
        ):
            changed += [f"effects after {kind}: {line}" for line in effects_diff(earlier, later)]
        judged_effects = session.no_effects is None and len(session.snapshots) > 1
        kinds = ", ".join(FORGERIES)
        if accepted or changed:
            parts = []
            if accepted:
                by_kind = sorted({s.delivery.forge or "?" for s in accepted})
                parts.append(
                    f"{len(accepted)} of {len(session.sent)} forged deliveries were not "
                    f"refused with a 4xx ({', '.join(by_kind)})"
                )
            if changed:
                parts.append("forged deliveries changed the receiver's effects")
            culprits = accepted or session.sent
            return self._verdict(rule, "fail", "; ".join(parts), culprits, changed)
        tail = (
            " and changed nothing"
            if judged_effects
            else f" (effects not judged: {session.no_effects or 'no snapshot'})"
        )
        return self._verdict(
            rule, "pass", f"all {len(session.sent)} forged deliveries ({kinds}) got a 4xx{tail}"
        )
