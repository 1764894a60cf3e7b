"""One client call on a long-lived fake, as the runs the conformance rules judge.

The conformance runner gives every scenario a fresh fake; a state machine keeps one fake for a
whole sequence of calls, so each call here is run through the same machinery (the runner's
:class:`~harness.conformance.clients.PythonClient`: virtual time in-process, guarded
transports, the ``random`` module reseeded) and then cut out of the journal as its own
:class:`~harness.conformance.verdicts.Run`, with facts read off what it met
(:mod:`harness._strategies.facts`).

A client that needs a real socket (``needs_socket``: ``requests``, urllib3) is served the
same fake once, on a loopback port, and still runs on virtual time: it is called in this
thread with the clock functions patched (:class:`OverSocket`), so its sleeps jump the fake's
clock while its bytes cross a real socket. What a real socket times out by itself (a hang, a
delay, a dribbled body) would cost real seconds; the state machine does not inject those there.

An outage call that changed nothing is replayed with fresh seeds (4 more times by default):
``backoff-growth`` and ``backoff-jitter`` are judged on the envelope of independent runs,
never on one run (RULES.md). Once per sequence and outage: a later call of the same operation
through the same fault rules (a persistent outage stays until it is cleared) is judged by
every other rule, but not replayed — its envelope would be the one already judged, and the
replays were most of a fuzzing run's requests.
"""

from __future__ import annotations

import hashlib
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from harness._strategies.facts import Situation, pure_outage, situation
from harness.conformance.catalogue import Stage
from harness.conformance.clients import Ending, Limits, PythonClient
from harness.conformance.runner import limits_for
from harness.conformance.verdicts import Budgets, ClientEnd, Run
from harness.fake import Account, FakeVexa
from harness.journal import AnswerEvent, CutEvent, Event, FaultEvent, RequestEvent
from harness.vexa.lifecycle import LIVE_STATUSES

__all__ = ["Call", "CallResult", "Caller", "OverSocket", "call_seed"]

#: Independent runs of an outage call: ``MIN_RUNS`` of the backoff rules.
REPLAYS = 5


@dataclass(frozen=True, slots=True)
class Call:
    """One operation of the command protocol, with its arguments."""

    operation: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CallResult:
    """How a call ended and what the rules will judge of it."""

    call: Call
    #: The call's number in its sequence (1-based).
    index: int
    end: ClientEnd
    detail: str
    #: The journal events of the call's first run.
    events: tuple[Event, ...]
    #: The runs the rules judge: the call, a ``hang`` view of it, replays of an outage.
    runs: tuple[Run, ...]
    situation: Situation

    @property
    def succeeded(self) -> bool:
        return self.end == "succeeded"


def call_seed(seed: int, index: int, replay: int = 0) -> int:
    """The ``random`` seed of one run of one call: fixed by the sequence, independent per run."""
    digest = hashlib.sha256(f"{seed}:call:{index}:{replay}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _fired(events: tuple[Event, ...]) -> tuple[str, ...]:
    """The ids of the fault rules that fired during a call."""
    return tuple(sorted({e.rule for e in events if isinstance(e, FaultEvent)}))


def _ungrouped(run: Run) -> Run:
    """A run that the backoff rules do not compare with its replays."""
    feeds = tuple(f for f in run.feeds if f not in ("backoff-growth", "backoff-jitter"))
    facts = {k: v for k, v in run.facts.items() if k != "group"}
    return replace(run, feeds=feeds, facts=facts)


@contextmanager
def _seeded(fake: FakeVexa, seed: int) -> Iterator[None]:
    """``PythonClient.run`` reseeds ``random`` from ``fake.seed``: lend it the run's seed."""
    saved = fake.seed
    fake.seed = seed
    try:
        yield
    finally:
        fake.seed = saved


class OverSocket:
    """A ``needs_socket`` adapter as an in-process one: each operation is called with the
    served fake's URL, in the calling thread (so on its virtual time), then waits for the
    server to journal how every exchange ended."""

    def __init__(self, adapter: object, url: str, fake: FakeVexa) -> None:
        self.adapter = adapter
        self.url = url
        self.fake = fake

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.adapter, name)
        if not callable(method):
            raise AttributeError(name)
        if inspect.iscoroutinefunction(method):

            async def run_async(base_url: str, api_key: str, args: Any, **_: Any) -> Any:
                try:
                    return await method(self.url, api_key, args)
                finally:
                    self.settle()

            return run_async

        def run(base_url: str, api_key: str, args: Any, **_: Any) -> Any:
            try:
                return method(self.url, api_key, args)
            finally:
                self.settle()

        return run

    def settle(self, seconds: float = 1.0) -> None:
        """Wait (real time) until the server has recorded the end of every exchange.

        Counted in polls, not read off a clock: this thread's clock is virtual.
        """
        poll = 0.002
        for _ in range(int(seconds / poll)):
            events = list(self.fake.journal)
            ended = {e.exchange for e in events if isinstance(e, AnswerEvent | CutEvent)}
            if all(e.exchange in ended for e in events if isinstance(e, RequestEvent)):
                return
            threading.Event().wait(poll)


class Caller:
    """Runs a client's operations against one fake, one call at a time."""

    def __init__(
        self,
        client: PythonClient,
        fake: FakeVexa,
        account: Account,
        *,
        seed: int = 0,
        budgets: Budgets | None = None,
        limits: Limits | None = None,
        replays: int = REPLAYS,
    ) -> None:
        self.client = client
        self.fake = fake
        self.account = account
        self.seed = seed
        self.budgets = budgets or Budgets()
        self.limits = limits or limits_for(self.budgets, virtual_time=client.virtual_time)
        self.replays = replays
        self.count = 0
        #: Outages already replayed: (operation, the fault rules that fired).
        self._replayed: set[tuple[str, tuple[str, ...]]] = set()

    def supports(self, operation: str) -> bool:
        return self.client.supports(operation)

    def _fresh(self, call: Call) -> bool:
        """Nothing in the fake stands in the operation's way (start_bot: no live bot there)."""
        if call.operation != "start_bot":
            return True
        platform, native = call.args.get("platform"), call.args.get("native_meeting_id")
        model = self.fake.model
        with self.fake.app.lock:
            model.now()
            rows = model.rows_for(self.account.user_id, str(platform), str(native))
            return not any(m.status in LIVE_STATUSES for m in rows)

    def _once(self, call: Call, seed: int) -> tuple[Ending, tuple[Event, ...]]:
        self.fake.journal.clear()
        stage = Stage(
            self.fake,
            self.account,
            seed,
            call.operation,
            dict(call.args),
            self.fake.fault_engine.plan,
            {},
        )
        with _seeded(self.fake, seed):
            ending = self.client.run(stage, self.limits)
        return ending, tuple(self.fake.journal)

    def _run(
        self, call: Call, index: int, replay: int, seed: int, ending: Ending,
        events: tuple[Event, ...], feeds: tuple[str, ...], facts: dict[str, Any],
    ) -> Run:  # fmt: skip
        suffix = f"/replay-{replay}" if replay else ""
        return Run(
            scenario=f"call-{index}/{call.operation}{suffix}",
            operation=call.operation,
            profile=self.fake.profile.name,
            seed=seed,
            feeds=feeds,
            plan=self.fake.fault_engine.plan.to_json(),
            events=events,
            end=ending.end,
            detail=ending.detail,
            facts=dict(facts),
            virtual_time=self.client.virtual_time,
        )

    def call(self, call: Call) -> CallResult:
        """Run ``call`` (and, after an outage that changed nothing, its replays)."""
        self.count += 1
        index = self.count
        fresh = self._fresh(call)
        seed = call_seed(self.seed, index)
        ending, events = self._once(call, seed)
        met = situation(events, self.fake.fault_engine.plan, call.operation, fresh=fresh)
        outage = (call.operation, _fired(events))
        replaying = (
            met.replayable
            and ending.end != "hung"
            and self.replays > 1
            and outage not in self._replayed
        )
        facts = dict(met.facts)
        feeds = met.feeds
        if replaying:
            facts["group"] = f"call-{index}"
            feeds = (*feeds, "backoff-growth", "backoff-jitter")
        runs = [self._run(call, index, 0, seed, ending, events, feeds, facts)]
        if met.hang:
            runs.append(
                replace(runs[0], feeds=("client-timeout",), facts={**facts, "kind": "hang"})
            )
        if replaying:
            plan = self.fake.fault_engine.plan
            for replay in range(1, self.replays):
                again = call_seed(self.seed, index, replay)
                end, replayed = self._once(call, again)
                runs.append(self._run(call, index, replay, again, end, replayed, feeds, facts))
                if end.end == "hung" or not pure_outage(replayed, plan):
                    runs = [_ungrouped(run) for run in runs]  # unlike runs: no envelope
                    break
            else:
                self._replayed.add(outage)
        return CallResult(call, index, ending.end, ending.detail, events, tuple(runs), met)
