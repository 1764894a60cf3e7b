"""Model-based fuzzing of a Vexa client: a Hypothesis state machine over calls and faults.

    from harness.stateful import VexaStateMachine

    class MyClientMachine(VexaStateMachine):
        client = MyAdapter()  # start_bot(base_url, api_key, args, *, transport)...

    TestMyClient = MyClientMachine.TestCase  # pytest collects it

Rules are the client's operations (``start_bot``, ``stop_bot``, ``bot_status``... — those the
adapter has) on a few meetings, each with the fault rules to inject right before it
(``faults=[...]``, drawn from :func:`harness.strategies.fault_rules` for that operation's
request or any request), fault injections on their own (``inject``), clearing the faults, and
time passing. Every call runs on virtual time against one :class:`~harness.FakeVexa` —
in-process, or for a ``needs_socket`` client (``requests``, urllib3) over a real loopback
socket with its sleeps still virtual — and is judged at once:

* **the rules of RULES.md** (:attr:`VexaStateMachine.judged`, all client rules by default), by
  :func:`harness.conformance.rules.judge` on the call's journal, with facts read off what it
  met (:mod:`harness._strategies.facts`); an outage that changed nothing is replayed with fresh
  seeds so the backoff rules can compare independent runs;
* **the model's own**: at most one live bot per meeting and user (``one-live-bot``); no lost
  meetings — every bot the fake created is listed, and a ``start_bot`` that succeeded left a
  meeting behind (``no-lost-meetings``); a client that crashes (``TypeError``...) fails
  ``no-crash``; with ``adversary = "answers"`` the fake answers with schema-valid but unusual
  bodies instead of faults, and a call whose answer was one of them must succeed
  (``parses-valid-answers``).

A failure raises :class:`RuleViolation`, whose message shows the rendered evidence and the
program that reproduces it (paste it back and run it), with the seed; Hypothesis shrinks it to
the minimal program first. Hooks, as Schemathesis's ``APIStateMachine`` has them:
:meth:`~VexaStateMachine.setup`, :meth:`~VexaStateMachine.before_call`,
:meth:`~VexaStateMachine.after_call` and Hypothesis's own ``teardown``.
:func:`find_failure` runs the search from Python and returns the shrunk :class:`Failure`.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, TypeVar

from hypothesis import Phase
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from harness._clock import DEFAULT_EPOCH
from harness._strategies.calls import Call, Caller, CallResult, OverSocket
from harness._strategies.faults import CHEAP_KINDS, fault_rules
from harness._strategies.invariants import (
    crashed,
    live_bot_conflict,
    lost_meetings,
    lost_start,
    unparsed,
)
from harness._strategies.minimize import minimal
from harness._strategies.operations import OPERATIONS
from harness._strategies.program import Step, program
from harness._strategies.requests import LANGUAGES, MEETINGS, MeetingRef
from harness._strategies.responses import ANSWERS, unusual_answers
from harness.conformance.clients import PythonClient
from harness.conformance.evidence import format_verdict
from harness.conformance.verdicts import CLIENT_RULES, Budgets, Run, Verdict
from harness.errors import ConfigurationError
from harness.fake import FakeVexa
from harness.faults.kinds import Status
from harness.faults.plan import FaultPlan, Rule
from harness.journal import CommitEvent
from harness.server.loopback import LoopbackServer
from harness.vexa.profiles import Profile

__all__ = [
    "MODEL_RULES",
    "Call",
    "CallResult",
    "Failure",
    "MeetingRef",
    "RuleViolation",
    "Step",
    "VexaStateMachine",
    "find_failure",
]

_Rule = TypeVar("_Rule", bound=Callable[..., None])
#: Hypothesis's runner, typed here (older Hypothesis releases leave it unannotated).
_run_machine: Callable[..., None] = run_state_machine_as_test

#: The model's own invariants, named like the rules of RULES.md.
MODEL_RULES = ("one-live-bot", "no-lost-meetings", "no-crash", "parses-valid-answers")
#: Fault kinds for clients on a real socket: none that the socket times out by itself.
SOCKET_KINDS = CHEAP_KINDS
#: Seconds the ``wait`` rule lets pass (the lifecycle moves on: joined, active, completed...).
_WAITS = (5.0, 60.0, 600.0)
_WEBHOOKS = ("https://hooks.example.com/vexa", "not a url")


class RuleViolation(AssertionError):
    """A rule of RULES.md, or one of the model's own, failed during a call.

    ``rule`` is its id; ``program`` reproduces it (run it as it is); ``plan`` is the fault plan
    the program injected; ``verdict`` the rules' verdict with its evidence (RULES.md rules).
    """

    def __init__(
        self,
        rule: str,
        message: str,
        *,
        program: str,
        seed: int,
        plan: FaultPlan,
        steps: Sequence[Step],
        verdict: Verdict | None = None,
        failed: Sequence[str] = (),
    ) -> None:
        super().__init__(message)
        self.rule = rule
        #: Every rule that failed on that call (``rule`` first).
        self.failed = tuple(failed) or (rule,)
        self.program = program
        self.seed = seed
        self.plan = plan
        self.steps = tuple(steps)
        self.verdict = verdict


def _meetings() -> st.SearchStrategy[MeetingRef]:
    return st.runner().flatmap(lambda machine: type(machine)._meeting_refs())


def _needs_socket(adapter: object) -> bool:
    return bool(getattr(adapter, "needs_socket", False))


def _client_label(adapter: object) -> str:
    return f"{type(adapter).__module__}.{type(adapter).__qualname__}"


def _faults(operation: str) -> st.SearchStrategy[list[Rule]]:
    """Rules to inject right before a call (shrinks to none)."""
    return st.runner().flatmap(lambda machine: type(machine)._faults_for(operation))


def _supports(operation: str) -> Callable[[_Rule], _Rule]:
    """Offer the operation's rule only when the client has the operation."""
    return precondition(lambda self: self.caller.supports(operation))


class VexaStateMachine(RuleBasedStateMachine):
    """Client operations and fault injections against one fake Vexa, judged after every call.

    Configure a subclass with class attributes (Hypothesis settings go on
    ``YourMachine.TestCase.settings`` or the active profile, never on the class):
    """

    #: The client under test: an adapter (:class:`~harness.conformance.clients.ClientAdapter`).
    client: ClassVar[object | None] = None
    #: The fake's Vexa profile (``docs``, ``v0.10``, or a :class:`~harness.Profile`).
    profile: ClassVar[str | Profile] = "docs"
    #: Seed of the fake and of every call's ``random`` (each call gets its own, derived).
    seed: ClassVar[int] = 0
    #: Limits of ``bounded-retries`` and ``client-timeout``.
    budgets: ClassVar[Budgets] = Budgets()
    #: The rules of RULES.md that must hold (model rules always do).
    judged: ClassVar[tuple[str, ...]] = CLIENT_RULES
    #: The meetings the client's calls name.
    meetings: ClassVar[tuple[MeetingRef, ...]] = MEETINGS
    #: What the fake does to the client: inject faults, or answer with unusual valid bodies.
    adversary: ClassVar[Literal["faults", "answers"]] = "faults"
    #: Independent runs of an outage call, for the backoff rules (fewer than 5: not judged).
    replays: ClassVar[int] = 5

    _strategies: ClassVar[dict[tuple[type, str | None], st.SearchStrategy[Rule]]] = {}
    _lists: ClassVar[dict[tuple[type, str], st.SearchStrategy[list[Rule]]]] = {}
    _pools: ClassVar[dict[type, st.SearchStrategy[MeetingRef]]] = {}

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        if cls.client is None:
            raise ConfigurationError(
                f"{cls.__name__} has no client: set the class attribute, e.g. "
                "`client = HttpxAdapter()` (any object with the protocol's operations)"
            )
        self.fake = FakeVexa(cls.profile, cls.seed)  # virtual time, whatever the client
        self._server: LoopbackServer | None = None
        adapter: object = cls.client
        if _needs_socket(adapter):
            self._server = self.fake.server()
            self._server.start_in_thread()
            adapter = OverSocket(adapter, self._server.url, self.fake)
        self.client_under_test = PythonClient(adapter, _client_label(cls.client))
        self.account = self.fake.create_user("fuzz@example.com")
        self.steps: list[Step] = []
        self.results: list[CallResult] = []
        self.injected: list[Rule] = []
        self._pending: list[Run] = []
        #: The model was checked since it last changed (the call checks at once, so that a
        #: pasted program fails on the same line; Hypothesis's check after it can skip).
        self._checked = False
        self._created: dict[int, str] = {}
        self.setup()
        self.caller = Caller(
            self.client_under_test,
            self.fake,
            self.account,
            seed=cls.seed,
            budgets=cls.budgets,
            replays=cls.replays,
        )

    # ------------------------------------------------------------------ hooks

    def setup(self) -> None:
        """Called once, before the first step: shape ``self.fake`` (more users, a lifecycle...)."""

    def before_call(self, call: Call) -> Call | None:
        """Called before each client call; return a changed :class:`Call` to send that instead."""
        return None

    def after_call(self, call: Call, result: CallResult) -> None:
        """Called after each call, before the invariants: check ``result`` your own way."""

    def teardown(self) -> None:
        """Called at the end of each example; a crash inside the fake fails it here."""
        if self._server is not None:
            self._server.stop_thread()
            self._server = None
        self.fake.check()

    # ------------------------------------------------------------------ faults

    @classmethod
    def fault_rules(cls, operations: Sequence[str]) -> st.SearchStrategy[Rule]:
        """The fault rules injected against ``operations`` (override to narrow or widen).

        Each targets one of the operations' requests or any request. Clients on a real socket
        (``needs_socket``) get no faults that a socket times out by itself (hang, delay,
        slow body): those would cost real seconds. With ``adversary = "answers"``: unusual
        valid answers instead.
        """
        if cls.adversary == "answers":
            answered = [op for op in operations if op in ANSWERS]
            if not answered:
                return st.nothing()
            return st.one_of([unusual_answers(op) for op in answered])
        if _needs_socket(cls.client):
            return fault_rules(operations, kinds=SOCKET_KINDS)
        return fault_rules(operations)

    @classmethod
    def _rules_for(cls, operation: str | None) -> st.SearchStrategy[Rule]:
        key = (cls, operation)
        cached = VexaStateMachine._strategies.get(key)
        if cached is None:
            client = PythonClient(cls.client) if cls.client is not None else None
            supported = [op for op in OPERATIONS if client is None or client.supports(op)]
            cached = cls.fault_rules(supported if operation is None else (operation,))
            VexaStateMachine._strategies[key] = cached
        return cached

    @classmethod
    def _faults_for(cls, operation: str) -> st.SearchStrategy[list[Rule]]:
        key = (cls, f"list:{operation}")
        cached = VexaStateMachine._lists.get(key)
        if cached is None:
            rules = cls._rules_for(operation)
            cached = st.just([]) if rules.is_empty else st.lists(rules, max_size=2)
            VexaStateMachine._lists[key] = cached
        return cached

    @classmethod
    def _meeting_refs(cls) -> st.SearchStrategy[MeetingRef]:
        cached = VexaStateMachine._pools.get(cls)
        if cached is None:
            cached = VexaStateMachine._pools[cls] = st.sampled_from(cls.meetings)
        return cached

    def _rebased(self, fault_rule: Rule) -> Rule:
        """An HTTP-date ``Retry-After`` counts from the virtual epoch: move it to now."""
        fault = fault_rule.fault
        if not isinstance(fault, Status) or not isinstance(fault.retry_after, str):
            return fault_rule
        try:
            when = email.utils.parsedate_to_datetime(fault.retry_after).timestamp()
        except (TypeError, ValueError, IndexError):
            return fault_rule
        moved = math.ceil(self.fake.clock.now()) + max(0.0, when - math.ceil(DEFAULT_EPOCH))
        date = email.utils.formatdate(moved, usegmt=True)
        return replace(fault_rule, fault=replace(fault, retry_after=date))

    def _add(self, fault_rule: Rule) -> None:
        self.injected.append(fault_rule)
        self.fake.faults.add(self._rebased(fault_rule))

    @rule(rule=st.runner().flatmap(lambda machine: type(machine)._rules_for(None)))
    def inject(self, rule: Rule) -> None:
        """Add one rule to the fake's fault plan (its schedule counts from now)."""
        self.steps.append(Step("inject", (("rule", rule),)))
        self._add(rule)

    @precondition(lambda self: bool(self.fake.fault_engine.plan.rules))
    @rule()
    def clear_faults(self) -> None:
        """Remove every fault rule: the service is healthy again."""
        self.steps.append(Step("clear_faults"))
        self.fake.clear_faults()

    @rule(seconds=st.sampled_from(_WAITS))
    def wait(self, seconds: float) -> None:
        """Let time pass: bots join, talk, get stopped, complete."""
        self.steps.append(Step("wait", (("seconds", seconds),)))
        self.fake.advance(seconds)

    # ------------------------------------------------------------------ operations

    @_supports("start_bot")
    @rule(meeting=_meetings(), faults=_faults("start_bot"))
    def start_bot(self, meeting: MeetingRef, faults: Sequence[Rule] = ()) -> None:
        self._call("start_bot", {"meeting": meeting}, meeting.args(), faults)

    @_supports("stop_bot")
    @rule(meeting=_meetings(), faults=_faults("stop_bot"))
    def stop_bot(self, meeting: MeetingRef, faults: Sequence[Rule] = ()) -> None:
        self._call("stop_bot", {"meeting": meeting}, meeting.args(), faults)

    @_supports("bot_status")
    @rule(faults=_faults("bot_status"))
    def bot_status(self, faults: Sequence[Rule] = ()) -> None:
        self._call("bot_status", {}, {}, faults)

    @_supports("get_transcript")
    @rule(meeting=_meetings(), faults=_faults("get_transcript"))
    def get_transcript(self, meeting: MeetingRef, faults: Sequence[Rule] = ()) -> None:
        self._call("get_transcript", {"meeting": meeting}, meeting.args(), faults)

    @_supports("list_meetings")
    @rule(faults=_faults("list_meetings"))
    def list_meetings(self, faults: Sequence[Rule] = ()) -> None:
        self._call("list_meetings", {}, {}, faults)

    @_supports("update_meeting")
    @rule(
        meeting=_meetings(),
        name=st.sampled_from(["Weekly sync", "Ретро ✨"]),
        faults=_faults("update_meeting"),
    )
    def update_meeting(self, meeting: MeetingRef, name: str, faults: Sequence[Rule] = ()) -> None:
        args = {**meeting.args(), "data": {"name": name}}
        self._call("update_meeting", {"meeting": meeting, "name": name}, args, faults)

    @_supports("delete_meeting")
    @rule(meeting=_meetings(), faults=_faults("delete_meeting"))
    def delete_meeting(self, meeting: MeetingRef, faults: Sequence[Rule] = ()) -> None:
        self._call("delete_meeting", {"meeting": meeting}, meeting.args(), faults)

    @_supports("update_bot_config")
    @rule(
        meeting=_meetings(),
        language=st.sampled_from(LANGUAGES),
        faults=_faults("update_bot_config"),
    )
    def update_bot_config(
        self, meeting: MeetingRef, language: str, faults: Sequence[Rule] = ()
    ) -> None:
        args = {**meeting.args(), "language": language}
        shown = {"meeting": meeting, "language": language}
        self._call("update_bot_config", shown, args, faults)

    @_supports("set_webhook")
    @rule(url=st.sampled_from(_WEBHOOKS), faults=_faults("set_webhook"))
    def set_webhook(self, url: str, faults: Sequence[Rule] = ()) -> None:
        self._call("set_webhook", {"url": url}, {"webhook_url": url}, faults)

    @_supports("delete_recording")
    @rule(recording_id=st.integers(1, 3), faults=_faults("delete_recording"))
    def delete_recording(self, recording_id: int, faults: Sequence[Rule] = ()) -> None:
        args = {"recording_id": recording_id}
        self._call("delete_recording", {"recording_id": recording_id}, args, faults)

    # ------------------------------------------------------------------ the call

    def _call(
        self, name: str, shown: dict[str, Any], args: dict[str, Any], faults: Sequence[Rule]
    ) -> None:
        shown = {**shown, "faults": list(faults)} if faults else shown
        self.steps.append(Step(name, tuple(shown.items())))
        for fault_rule in faults:
            self._add(fault_rule)
        call = Call(name, args)
        call = self.before_call(call) or call
        result = self.caller.call(call)
        self.fake.check()  # a crash of the fake is the harness's failure, never the client's
        self.results.append(result)
        self._pending.extend(result.runs)
        for run in {id(r.events): r for r in result.runs}.values():
            for event in run.events:
                if (
                    isinstance(event, CommitEvent)
                    and event.effect == "bot_created"
                    and event.meeting_id is not None
                ):
                    self._created[event.meeting_id] = f"{event.platform}/{event.native_meeting_id}"
        self.after_call(call, result)
        self.conforms()
        self._check_model()
        self._checked = True

    # ------------------------------------------------------------------ invariants

    def _violation(
        self,
        rule_id: str,
        text: str,
        verdict: Verdict | None = None,
        failed: Sequence[str] = (),
    ) -> RuleViolation:
        cls = type(self)
        reproduce = program(cls, self.steps)
        indented = "\n".join("    " + line for line in reproduce.splitlines())
        profile = getattr(cls.profile, "name", cls.profile)
        message = (
            f"{rule_id}: {text}\n\nReproduce it (seed {cls.seed}, profile {profile}; "
            f"the program is what Hypothesis shrank it to):\n{indented}"
        )
        plan = FaultPlan(tuple(self.injected), seed=cls.seed)
        return RuleViolation(
            rule_id,
            message,
            program=reproduce,
            seed=cls.seed,
            plan=plan,
            steps=self.steps,
            verdict=verdict,
            failed=failed,
        )

    @invariant()
    def conforms(self) -> None:
        """The rules of RULES.md hold on every call so far."""
        runs, self._pending = self._pending, []
        if not runs:
            return
        from harness.conformance.rules import judge

        judged = type(self).judged
        failing = [
            v for v in judge(runs, type(self).budgets) if v.verdict == "fail" and v.rule in judged
        ]
        if failing:
            text = "\n".join(format_verdict(v) for v in failing)
            first = failing[0]
            raise self._violation(first.rule, text, first, [v.rule for v in failing])

    @invariant()
    def model_holds(self) -> None:
        """The model's own invariants (:data:`MODEL_RULES`)."""
        if self._checked:
            self._checked = False
            return
        self._check_model()

    def _check_model(self) -> None:
        checks = [
            ("one-live-bot", live_bot_conflict(self.fake)),
            ("no-lost-meetings", lost_meetings(self.fake, self.account, self._created)),
        ]
        if self.results:
            last = self.results[-1]
            checks += [
                ("parses-valid-answers", unparsed(last)),
                ("no-crash", crashed(last)),
                ("no-lost-meetings", lost_start(self.fake, self.account, last, self._created)),
            ]
        for rule_id, problem in checks:
            if problem is not None:
                raise self._violation(rule_id, problem)


# ---------------------------------------------------------------------- from Python


@dataclass(frozen=True, slots=True)
class Failure:
    """What :func:`find_failure` found, after shrinking."""

    #: The rule id (RULES.md, or one of :data:`MODEL_RULES`).
    rule: str
    #: The whole message: verdict, evidence, program, seed.
    message: str
    #: The minimal program, runnable as it is (with the machine class importable or defined).
    program: str
    #: The minimal fault plan: the rules the program injected.
    plan: FaultPlan
    steps: tuple[Step, ...]
    seed: int
    #: Every rule that failed on the last call (``rule`` is the first, in RULES.md order).
    failed: tuple[str, ...]
    #: The program as Hypothesis printed it (before the last leaving-out pass).
    hypothesis_program: str
    #: Hypothesis's other notes (``@reproduce_failure(...)`` when ``print_blob`` is on).
    hypothesis_notes: tuple[str, ...]
    machine: type[VexaStateMachine]
    exception: RuleViolation


def _client_name(client: object) -> str:
    """The user's class name; for a bundled adapter, its module's (``SyncClient``)."""
    cls = type(client)
    if not cls.__module__.startswith("harness."):
        return cls.__name__
    module = cls.__module__.rsplit(".", 1)[-1]
    words = [w.capitalize() for w in module.replace("-", "_").split("_") if w]
    return "".join(words) or type(client).__name__


def _replay(machine: type[VexaStateMachine], steps: Sequence[Step]) -> RuleViolation | None:
    """Run ``steps`` as the printed program would; the violation it raises, if any."""
    state = machine()
    try:
        for step in steps:
            getattr(state, step.name)(**dict(step.kwargs))
    except RuleViolation as exc:
        return exc
    finally:
        state.teardown()
    return None


def find_failure(
    client: object,
    *,
    settings: Settings | None = None,
    machine: type[VexaStateMachine] = VexaStateMachine,
    **attributes: Any,
) -> Failure | None:
    """Search for a failing program against ``client``; the shrunk :class:`Failure`, or None.

    ``attributes`` configure the machine (``profile=``, ``seed=``, ``judged=``,
    ``adversary=``...). ``settings`` (default: the active profile) bound the search; the
    example database is not used, so a search depends on its settings alone. After
    Hypothesis has shrunk the failure, steps and faults are left out one at a time while the
    same rule still fails, so no step or fault of the result can go.
    """
    name = f"{_client_name(client)}Machine"
    cls = type(name, (machine,), {"client": client, **attributes})
    base = settings if settings is not None else Settings()
    phases = [p for p in base.phases if p is not Phase.explain]  # costly; comments only
    chosen = Settings(base, report_multiple_bugs=False, database=None, deadline=None, phases=phases)
    try:
        _run_machine(cls, settings=chosen)
    except RuleViolation as exc:
        notes = [str(n) for n in getattr(exc, "__notes__", [])]
        steps = [n for n in notes if n.startswith("state")]
        others = [n for n in notes if not n.startswith(("state", "Falsifying"))]
        best = minimal(lambda steps: _replay(cls, steps), exc)
        return Failure(
            rule=best.rule,
            message=str(best),
            program=best.program,
            plan=best.plan,
            steps=best.steps,
            seed=best.seed,
            failed=best.failed,
            hypothesis_program="\n".join(steps),
            hypothesis_notes=tuple(others),
            machine=cls,
            exception=best,
        )
    return None
