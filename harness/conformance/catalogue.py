"""The scenario catalogue: for every client rule, the scenarios that exercise it — as data.

A :class:`Scenario` names one operation of the command protocol, the state it needs (a
running bot, a finished meeting with a recording…), the fault rules to install, the rules of
``RULES.md`` it feeds and the facts those rules read. :func:`build` lays the catalogue out for
the operations a client supports; :func:`prepare` gives a fresh fake the scenario's state and
plan. Nothing here runs a client.

What runs, for each supported operation (and under each profile):

- ``baseline`` — no faults; tells the runner the client supports the operation at all.
- ``burst-503``, ``burst-429-reset`` — a transient burst shorter than any sane budget.
- ``retry-after-seconds``, ``retry-after-date`` — 429 with ``Retry-After`` in both forms.
- ``outage`` — a persistent 503; repeated with independent seeds for the statistical backoff
  rules on ``start_bot`` and ``bot_status`` (or the first supported operation).
- ``hang`` — the first request is never answered.
- ``status-4xx`` — 400/401/403/404/409/422 where the operation can meet them.
- ``start_bot`` also gets ``ambiguous-{reset,close,503,timeout}`` (the answer is lost *after*
  the bot was created) and ``conflict`` (a bot already runs: Vexa's own 409).
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from harness.faults.kinds import Close, Fault, Hang, Reset, Status
from harness.faults.plan import FaultPlan, Match, Rule, Schedule

if TYPE_CHECKING:
    from harness.fake import Account, FakeVexa

__all__ = [
    "MEETING",
    "OPERATIONS",
    "REPEATS",
    "STATISTICAL_PREFERENCE",
    "OperationSpec",
    "Scenario",
    "Stage",
    "build",
    "operation_spec",
    "prepare",
]

#: The meeting every scenario talks about.
MEETING = ("google_meet", "abc-defg-hij")
#: Independent runs per statistical group (``backoff-growth``, ``backoff-jitter``).
REPEATS = 7
#: Where the statistical groups run, when the client supports it.
STATISTICAL_PREFERENCE = ("start_bot", "bot_status")

_MEETING_ARGS: Mapping[str, Any] = MappingProxyType(
    {"platform": MEETING[0], "native_meeting_id": MEETING[1]}
)
_MEETING_PATH = f"{MEETING[0]}/{MEETING[1]}"

#: Bodies of injected 4xx answers (Vexa's own words where it has them).
_DETAILS = {
    400: "No data provided for update.",
    401: "Invalid API key",
    403: "Not enough permissions",
    404: "Meeting not found",
    409: "An active or requested meeting already exists for this platform and meeting ID",
    422: "Unprocessable Entity",
}


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """One command-protocol operation: its request, the state it needs, its 4xx answers."""

    name: str
    method: str
    #: A literal path or a template (fault plans accept both).
    path: str
    #: ``fresh``, ``active_meeting`` or ``finished_meeting`` (see :func:`prepare`).
    state: str
    args: Mapping[str, Any]
    non_retryable: tuple[int, ...]


def _spec(
    name: str,
    method: str,
    path: str,
    state: str,
    non_retryable: tuple[int, ...],
    **args: Any,
) -> OperationSpec:
    return OperationSpec(name, method, path, state, MappingProxyType(dict(args)), non_retryable)


_SPECS = (
    _spec(
        "start_bot",
        "POST",
        "/bots",
        "fresh",
        (400, 401, 403, 422),
        **_MEETING_ARGS,
        bot_name="Notetaker",
        language="en",
    ),
    _spec(
        "stop_bot", "DELETE", f"/bots/{_MEETING_PATH}", "active_meeting", (401, 403, 404),
        **_MEETING_ARGS,
    ),
    _spec("bot_status", "GET", "/bots/status", "active_meeting", (401, 403)),
    _spec(
        "get_transcript", "GET", f"/transcripts/{_MEETING_PATH}", "active_meeting",
        (401, 403, 404), **_MEETING_ARGS,
    ),
    _spec("list_meetings", "GET", "/meetings", "active_meeting", (401, 403)),
    _spec(
        "update_meeting", "PATCH", f"/meetings/{_MEETING_PATH}", "active_meeting",
        (400, 401, 404, 422), **_MEETING_ARGS, data={"name": "Weekly sync", "notes": "agenda"},
    ),
    _spec(
        "delete_meeting", "DELETE", f"/meetings/{_MEETING_PATH}", "finished_meeting",
        (401, 404, 409), **_MEETING_ARGS,
    ),
    _spec(
        "update_bot_config", "PUT", f"/bots/{_MEETING_PATH}/config", "active_meeting",
        (401, 404, 409, 422), **_MEETING_ARGS, language="de",
    ),
    _spec(
        "set_webhook", "PUT", "/user/webhook", "fresh", (400, 401, 422),
        webhook_url="https://hooks.example.com/vexa", webhook_secret="whsec-conformance",
    ),
    _spec(
        "delete_recording", "DELETE", "/recordings/{recording_id}", "finished_meeting",
        (401, 404), recording_id=None,
    ),
)  # fmt: skip
_BY_NAME = {spec.name: spec for spec in _SPECS}
OPERATIONS = tuple(spec.name for spec in _SPECS)


def operation_spec(name: str) -> OperationSpec:
    return _BY_NAME[name]


@dataclass(frozen=True, slots=True)
class Scenario:
    """One situation a client is put in, and what it tells the rules."""

    id: str
    operation: str
    description: str
    #: Rule ids this scenario exercises.
    feeds: tuple[str, ...]
    #: Fault rules, installed once the state is set up (their counters start there).
    rules: tuple[Rule, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: Overrides the operation's state (``conflict`` needs a running bot).
    state: str | None = None
    #: Independent runs (each with its own seed); more than one makes a statistical group.
    repeat: int = 1
    #: The first rule's ``Retry-After`` becomes an HTTP-date this many seconds ahead.
    retry_after_date: int | None = None

    @property
    def grouped(self) -> bool:
        return self.repeat > 1

    def plan(self, seed: int, now: float) -> FaultPlan:
        """The fault plan for one run (an HTTP-date is fixed when the run starts)."""
        rules = self.rules
        if self.retry_after_date is not None and rules:
            first = rules[0]
            assert isinstance(first.fault, Status)
            date = email.utils.formatdate(math.ceil(now) + self.retry_after_date, usegmt=True)
            rules = (replace(first, fault=replace(first.fault, retry_after=date)), *rules[1:])
        return FaultPlan(rules, seed)

    def facts_for(self, plan: FaultPlan, profile: str) -> dict[str, Any]:
        facts = dict(self.facts)
        if self.retry_after_date is not None and plan.rules:
            fault = plan.rules[0].fault
            assert isinstance(fault, Status)
            facts["retry_after"] = fault.retry_after
        if self.grouped:
            facts["group"] = f"{self.id}@{profile}"
        return facts


# ---------------------------------------------------------------------- building


def _rule(spec: OperationSpec, fault: Fault, on: Schedule, *, after: bool = False) -> Rule:
    return Rule(
        fault=fault,
        match=Match(method=spec.method, path=spec.path),
        on=on,
        phase="after_commit" if after else "before_commit",
    )


def _facts(**facts: Any) -> Mapping[str, Any]:
    return MappingProxyType(facts)


def _common(spec: OperationSpec, repeat: int) -> list[Scenario]:
    op = spec.name
    posting = op == "start_bot"
    blind = ("no-blind-post",) if posting else ()
    out = [
        Scenario(f"{op}/baseline", op, "no faults: the operation simply succeeds", ()),
        Scenario(
            f"{op}/burst-503",
            op,
            "two 503 answers, then normal service",
            (*blind, "retries-transient"),
            (_rule(spec, Status(503), Schedule(first=2)),),
            _facts(kind="transient_burst", burst=2),
        ),
        Scenario(
            f"{op}/burst-429-reset",
            op,
            "a 429 without Retry-After, then a connection reset, then normal service",
            (*blind, "retries-transient"),
            (
                _rule(spec, Status(429), Schedule(calls=(1,))),
                _rule(spec, Reset(), Schedule(calls=(2,))),
            ),
            _facts(kind="transient_burst", burst=2),
        ),
        Scenario(
            f"{op}/retry-after-seconds",
            op,
            "a 429 with Retry-After: 2, then normal service",
            ("honor-retry-after", "retries-transient"),
            (_rule(spec, Status(429, retry_after=2), Schedule(calls=(1,))),),
            _facts(kind="retry_after", retry_after=2, form="seconds"),
        ),
        Scenario(
            f"{op}/retry-after-date",
            op,
            "a 429 with Retry-After as an HTTP-date about 3 s ahead, then normal service",
            ("honor-retry-after", "retries-transient"),
            (_rule(spec, Status(429, retry_after="(set per run)"), Schedule(calls=(1,))),),
            _facts(kind="retry_after", form="date"),
            retry_after_date=3,
        ),
        Scenario(
            f"{op}/outage",
            op,
            "every attempt is answered 503: the client must stop in bounded attempts and time",
            ("bounded-retries", "backoff-growth", "backoff-jitter")
            if repeat > 1
            else ("bounded-retries",),
            (_rule(spec, Status(503), Schedule()),),
            _facts(kind="persistent_outage"),
            repeat=repeat,
        ),
    ]
    if not posting:  # start_bot's first-request hang is ambiguous-timeout below
        out.append(
            Scenario(
                f"{op}/hang",
                op,
                "the first request is never answered",
                ("client-timeout",),
                (_rule(spec, Hang(), Schedule(calls=(1,))),),
                _facts(kind="hang"),
            )
        )
    for status in spec.non_retryable:
        out.append(
            Scenario(
                f"{op}/status-{status}",
                op,
                f"every attempt is answered {status}: the same request must not be sent again",
                ("no-retry-non-retryable",),
                (
                    _rule(
                        spec,
                        Status(status, body=_detail(status)),
                        Schedule(),
                    ),
                ),
                _facts(kind="non_retryable", status=status),
            )
        )
    return out


def _detail(status: int) -> str:
    import json

    return json.dumps({"detail": _DETAILS[status]}, separators=(",", ":"))


def _posting(spec: OperationSpec) -> list[Scenario]:
    ambiguous: list[tuple[str, Fault, str]] = [
        ("reset", Reset(), "the connection is reset"),
        ("close", Close(), "the connection is closed without an answer"),
        ("503", Status(503), "the answer is replaced by a 503"),
        ("timeout", Hang(), "the answer never comes (the client's timeout must fire)"),
    ]
    out = [
        Scenario(
            f"start_bot/ambiguous-{name}",
            "start_bot",
            f"the bot is created, then {text}",
            ("no-blind-post", "retries-transient"),
            (_rule(spec, fault, Schedule(calls=(1,)), after=True),),
            _facts(kind="ambiguous_post", fault="status:503" if name == "503" else name),
        )
        for name, fault, text in ambiguous
    ]
    out.append(
        Scenario(
            "start_bot/hang",
            "start_bot",
            "the first POST /bots is never answered (nothing was created)",
            ("client-timeout",),
            (_rule(spec, Hang(), Schedule(calls=(1,))),),
            _facts(kind="hang"),
        )
    )
    out.append(
        Scenario(
            "start_bot/conflict",
            "start_bot",
            "a bot already runs in the meeting: Vexa answers 409",
            ("no-blind-post", "no-retry-non-retryable"),
            facts=_facts(kind="conflict"),
            state="active_meeting",
        )
    )
    return out


def build(
    operations: Sequence[str] = OPERATIONS,
    *,
    statistical: Sequence[str] | None = None,
    repeats: int = REPEATS,
) -> list[Scenario]:
    """The catalogue for these operations, in a stable order.

    ``statistical``: the operations whose outage runs repeat ``repeats`` times; by default
    those of :data:`STATISTICAL_PREFERENCE` among ``operations``, else the first of them.
    """
    if statistical is None:
        preferred = [op for op in STATISTICAL_PREFERENCE if op in operations]
        statistical = preferred or list(operations[:1])
    scenarios: list[Scenario] = []
    for op in operations:
        spec = _BY_NAME[op]
        scenarios.extend(_common(spec, repeats if op in statistical else 1))
        if op == "start_bot":
            scenarios.extend(_posting(spec))
    return scenarios


# ---------------------------------------------------------------------- setting the stage


@dataclass(frozen=True, slots=True)
class Stage:
    """A fake ready for one run: the client's key, the operation's arguments, plan, facts."""

    fake: FakeVexa
    account: Account
    seed: int
    operation: str
    args: dict[str, Any]
    plan: FaultPlan
    facts: dict[str, Any]


def _wait(fake: FakeVexa, seconds: float) -> None:
    """Let the lifecycle move on, on whichever settable clock the fake has."""
    from harness._clock import VirtualClock

    clock = fake.clock
    if isinstance(clock, VirtualClock):
        fake.advance(seconds)
        return
    advance = getattr(clock, "advance", None)
    if advance is None:
        raise RuntimeError(f"cannot set up a scenario on {clock!r}: it cannot be advanced")
    with fake.app.lock:
        fake.model.advance(advance(seconds))


def _set_up(fake: FakeVexa, account: Account, state: str) -> dict[str, Any]:
    """Build ``state`` through the API with a second key of the same user; returns extra args.

    A second key keeps the client's own logical operations (and their attempt numbers in the
    journal) free of the setup's requests.
    """
    if state == "fresh":
        return {}
    setup_key = fake.create_key(account)
    with fake.client(headers={"X-API-Key": setup_key}) as http:
        created = http.post("/bots", json=dict(_MEETING_ARGS))
        if created.status_code not in (201, 202):
            raise RuntimeError(f"scenario setup: POST /bots answered {created.status_code}")
        _wait(fake, 5.0)  # requested → joining → awaiting_admission → active, talking
        if state == "active_meeting":
            return {}
        http.delete(f"/bots/{_MEETING_PATH}")
        _wait(fake, 5.0)  # stopping → completed; the recording is finalised
        recordings = http.get("/recordings").json().get("recordings", [])
        if state != "finished_meeting" or not recordings:
            raise RuntimeError(f"scenario setup: cannot build state {state!r}")
        return {"recording_id": recordings[0]["id"]}


def prepare(
    fake: FakeVexa,
    scenario: Scenario,
    seed: int,
    *,
    ready: Callable[[], None] | None = None,
) -> Stage:
    """Give ``fake`` the scenario's state, then a clean journal and the scenario's faults.

    ``ready`` runs between the two: when the state is built and before the plan is made
    (a real-time run switches its clock to the wall clock there, so an HTTP-date in the plan
    is relative to the moment the client starts).
    """
    spec = _BY_NAME[scenario.operation]
    account = fake.create_user()
    extra = _set_up(fake, account, scenario.state or spec.state)
    args = {k: v for k, v in spec.args.items() if v is not None} | extra
    args = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in args.items()}
    if ready is not None:
        ready()
    plan = scenario.plan(seed, fake.clock.now())
    fake.journal.clear()
    fake.install_faults(plan)
    facts = scenario.facts_for(plan, fake.profile.name)
    return Stage(fake, account, seed, scenario.operation, args, plan, facts)
