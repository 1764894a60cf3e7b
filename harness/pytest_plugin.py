"""The pytest plugin: a fake Vexa, its faults, journal and clock as fixtures.

Registered through the ``pytest11`` entry point, so installing vexa-harness is enough. Kept
cheap to import: the harness itself loads only when a test asks for one of its fixtures.

Configuration, most specific first: the ``@pytest.mark.vexa(profile=..., seed=..., users=...,
clock=...)`` marker, then ``--vexa-profile``/``--vexa-seed``/``--vexa-clock`` on the command line,
then the ``vexa_profile``/``vexa_seed``/``vexa_clock`` ini options, then the defaults.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx

    from harness import Account, FakeVexa
    from harness.faults.plan import PlanBuilder
    from harness.journal import Journal
    from harness.server.loopback import LoopbackServer
    from harness.webhooks.sender import WebhookSender

_PROFILES = ("docs", "v0.10")
_CLOCKS = ("virtual", "system")
_MARKER = (
    "vexa(profile='docs', seed=0, users=1, clock='virtual', lifecycle=None): configure the "
    "fake Vexa of this test (the keyword arguments override --vexa-* options and ini values)"
)


@dataclass(frozen=True, slots=True)
class VexaConfig:
    """The resolved configuration of one test's fake."""

    profile: str
    seed: int
    users: int
    clock: str
    lifecycle: Any = None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vexa", "vexa-harness: a fake Vexa with faults and verdicts")
    group.addoption("--vexa-profile", choices=_PROFILES, help="Vexa behaviour to fake (docs)")
    group.addoption("--vexa-seed", type=int, help="seed of the fake's randomness (0)")
    group.addoption("--vexa-clock", choices=_CLOCKS, help="virtual (default) or system time")
    group.addoption(
        "--vexa-html",
        metavar="PATH",
        help="write an HTML report of the journals of the tests that used the fake",
    )
    parser.addini(
        "vexa_profile", "default Vexa profile for the fake (docs or v0.10)", default="docs"
    )
    parser.addini("vexa_seed", "default seed of the fake", default="0")
    parser.addini("vexa_clock", "default clock of the fake (virtual or system)", default="virtual")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)
    _check_choice("vexa_profile", str(config.getini("vexa_profile")), _PROFILES)
    _check_choice("vexa_clock", str(config.getini("vexa_clock")), _CLOCKS)
    try:
        int(str(config.getini("vexa_seed")))
    except ValueError:
        raise pytest.UsageError(
            f"ini option vexa_seed = {config.getini('vexa_seed')!r} is not an integer"
        ) from None
    html = config.getoption("--vexa-html", None)
    if html and not config.pluginmanager.has_plugin("vexa-html"):
        from harness.report.pytest_html import HtmlReport

        config.pluginmanager.register(HtmlReport(html), "vexa-html")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise pytest.UsageError(
            f"ini option {name} = {value!r}; choose one of {', '.join(choices)}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    profile, seed, clock = _defaults(config)
    return f"vexa-harness: profile={profile} seed={seed} clock={clock}"


def _defaults(config: pytest.Config) -> tuple[str, int, str]:
    profile = config.getoption("--vexa-profile") or str(config.getini("vexa_profile"))
    seed = config.getoption("--vexa-seed")
    if seed is None:
        seed = int(str(config.getini("vexa_seed")))
    clock = config.getoption("--vexa-clock") or str(config.getini("vexa_clock"))
    return profile, seed, clock


@pytest.fixture
def vexa_config(request: pytest.FixtureRequest) -> VexaConfig:
    """The fake's configuration: marker over command line over ini over defaults."""
    profile, seed, clock = _defaults(request.config)
    marker = request.node.get_closest_marker("vexa")
    kwargs = dict(marker.kwargs) if marker else {}
    if marker and marker.args:
        raise pytest.UsageError(
            "@pytest.mark.vexa takes keyword arguments only, e.g. profile='v0.10'"
        )
    unknown = set(kwargs) - {"profile", "seed", "users", "clock", "lifecycle"}
    if unknown:
        raise pytest.UsageError(
            f"@pytest.mark.vexa got unknown argument(s) {sorted(unknown)}; "
            "it takes profile, seed, users, clock and lifecycle"
        )
    config = VexaConfig(
        profile=kwargs.get("profile", profile),
        seed=kwargs.get("seed", seed),
        users=kwargs.get("users", 1),
        clock=kwargs.get("clock", clock),
        lifecycle=kwargs.get("lifecycle"),
    )
    _check_choice("profile", config.profile, _PROFILES)
    _check_choice("clock", config.clock, _CLOCKS)
    return config


@pytest.fixture
def vexa(vexa_config: VexaConfig) -> Iterator[FakeVexa]:
    """A fresh fake Vexa for this test; if it crashed while answering, the test fails."""
    from harness import FakeVexa, SystemClock, VirtualClock

    clock = SystemClock() if vexa_config.clock == "system" else VirtualClock()
    fake = FakeVexa(
        vexa_config.profile, vexa_config.seed, clock=clock, lifecycle=vexa_config.lifecycle
    )
    for n in range(vexa_config.users):
        fake.create_user(f"user{n + 1}@example.com")
    yield fake
    fake.check()


@pytest.fixture
def vexa_users(vexa: FakeVexa, vexa_config: VexaConfig) -> list[Account]:
    """The accounts the marker's ``users=`` created (one by default), oldest first."""
    from harness import Account

    users = sorted(vexa.model.users.values(), key=lambda user: user.id)[: vexa_config.users]
    keys = {key.user_id: key.token for key in vexa.model.keys.values()}
    return [Account(user.id, user.email, keys[user.id]) for user in users]


@pytest.fixture
def vexa_user(vexa_users: list[Account]) -> Account:
    """The first account (its ``api_key`` and ``headers`` authenticate a client)."""
    if not vexa_users:
        raise pytest.UsageError("vexa_user needs at least one user; drop users=0 from the marker")
    return vexa_users[0]


@pytest.fixture
def vexa_client(vexa: FakeVexa, vexa_user: Account) -> Iterator[httpx.Client]:
    """An ``httpx.Client`` talking to the fake in-process, authenticated as ``vexa_user``."""
    with vexa.client(vexa_user, timeout=30) as client:
        yield client


async def _async_client(vexa: FakeVexa, vexa_user: Account) -> AsyncIterator[httpx.AsyncClient]:
    """An ``httpx.AsyncClient`` talking to the fake in-process, as ``vexa_user``."""
    async with vexa.async_client(vexa_user, timeout=30) as client:
        yield client


try:  # pytest-asyncio (strict mode) only runs async fixtures it declared itself
    import pytest_asyncio
except ImportError:  # pragma: no cover - the async fixture needs pytest-asyncio
    pass
else:
    vexa_async_client = pytest_asyncio.fixture(_async_client, name="vexa_async_client")


@pytest.fixture
def vexa_server(vexa: FakeVexa) -> Iterator[LoopbackServer]:
    """The same fake served on a free loopback port (``vexa_server.url``), for any client."""
    with vexa.serve() as server:
        yield server
    if server.errors:
        raise server.errors[0]


@pytest.fixture
def vexa_faults(vexa: FakeVexa) -> PlanBuilder:
    """The fault-rule builder, e.g. ``vexa_faults.on("POST", "/bots").attempt(1).reset()``."""
    return vexa.faults


@pytest.fixture
def vexa_journal(vexa: FakeVexa) -> Journal:
    """Everything the client did and the fake did back, on the harness clock."""
    return vexa.journal


@pytest.fixture
def vexa_clock(vexa: FakeVexa) -> Any:
    """The fake's clock: a ``VirtualClock`` (``vexa_clock.advance(5)``) unless clock='system'."""
    return vexa.clock


@pytest.fixture
def vexa_webhooks(vexa: FakeVexa) -> Iterator[WebhookSender]:
    """The fake's webhook sender: ``trigger``, ``replay``, ``settle``, ``deliveries()``,
    ``mount(url, receiver)``; its delivery worker is stopped after the test."""
    yield vexa.webhooks
    vexa.webhooks.stop()


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST the fake made to :class:`WebhookInbox`: headers, raw body, and its JSON."""

    headers: httpx.Headers
    body: bytes
    payload: Any
    #: Why the signature check refused it (the inbox answered 401), or None.
    refused: str | None


@dataclass(slots=True)
class WebhookInbox:
    """A receiver in this process at ``url``, where ``vexa_user``'s webhook points.

    Every event is subscribed and deliveries are signed with ``secret``; the inbox checks each
    signature on the harness clock (a bad one answers 401) and answers ``status`` otherwise —
    set it to 500 to watch the fake retry.
    """

    url: str
    secret: str
    status: int = 200
    received: list[WebhookDelivery] = field(default_factory=list)

    def events(self) -> list[str]:
        """The ``event_type`` of every accepted delivery, in arrival order."""
        return [
            str(d.payload.get("event_type"))
            for d in self.received
            if d.refused is None and isinstance(d.payload, dict)
        ]


@pytest.fixture
def vexa_webhook_inbox(
    vexa: FakeVexa, vexa_user: Account, vexa_webhooks: WebhookSender
) -> WebhookInbox:
    """Webhooks of ``vexa_user`` delivered to a :class:`WebhookInbox` in this process."""
    import json

    from harness.web.messages import Request
    from harness.webhooks.events import ALL_EVENTS
    from harness.webhooks.receivers import CallableReceiver
    from harness.webhooks.signing import verify

    inbox = WebhookInbox("https://webhooks.vexa-harness.test/inbox", "whsec-vexa-harness-inbox")

    def receive(headers: httpx.Headers, body: bytes) -> int:
        refused = verify(inbox.secret, headers, body, vexa.clock.now())
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        inbox.received.append(WebhookDelivery(headers, body, payload, refused))
        return 401 if refused is not None else inbox.status

    vexa_webhooks.mount(inbox.url, CallableReceiver(receive, label="vexa_webhook_inbox"))
    settings = {
        "webhook_url": inbox.url,
        "webhook_secret": inbox.secret,
        "webhook_events": ALL_EVENTS,
    }
    answer = vexa.handle(
        Request.build(
            "PUT",
            "/user/webhook",
            {**vexa_user.headers, "content-type": "application/json"},
            json.dumps(settings).encode(),
        )
    )
    if answer.status >= 300:  # pragma: no cover - the fake refusing its own settings is a bug
        raise RuntimeError(f"PUT /user/webhook answered {answer.status}: {answer.body!r}")
    return inbox


# ---------------------------------------------------------------------- verdicts in a test


class ConformanceFailure(AssertionError):
    """A rule of RULES.md failed on what a test's client did; the message shows the evidence."""


def assert_conforms(
    subject: Any,
    rules: Sequence[str] | None = None,
    *,
    budgets: Any = None,
    allow_skip: bool = True,
) -> list[Any]:
    """Judge what a client did against RULES.md; fail with the rendered evidence.

    ``subject``: a :class:`~harness.FakeVexa` (its journal, judged exactly when it runs on
    virtual time), a :class:`~harness.journal.Journal`, one
    :class:`~harness.conformance.verdicts.Run` or a sequence of them (from the conformance
    runner or :mod:`harness.stateful`). A journal says nothing about the scenario behind it,
    so its facts are read off the faults it shows (as ``vexa-harness conform --journal``
    does): ``no-blind-post``, ``no-retry-non-retryable``, ``honor-retry-after`` and
    ``client-timeout`` can be judged from it; the rules that need a designed scenario say
    ``skip``. ``rules``: the ids to hold (default: every client rule). ``allow_skip=False``
    also fails on a chosen rule that could not be judged. Returns the chosen verdicts.
    """
    __tracebackhide__ = True
    from harness.conformance.evidence import format_verdict
    from harness.conformance.rules import judge
    from harness.conformance.verdicts import CLIENT_RULES, RULE_IDS, Budgets

    chosen = tuple(CLIENT_RULES if rules is None else rules)
    unknown = [r for r in chosen if r not in RULE_IDS]
    if unknown:
        raise ValueError(
            f"unknown rule id(s) {unknown}; the ids are those of RULES.md: {', '.join(RULE_IDS)}"
        )
    verdicts = [v for v in judge(_runs_of(subject), budgets or Budgets()) if v.rule in chosen]
    bad = [v for v in verdicts if v.verdict == "fail" or (v.verdict == "skip" and not allow_skip)]
    if bad:
        names = ", ".join(v.rule for v in bad)
        text = "\n".join(format_verdict(v) for v in bad)
        raise ConformanceFailure(f"vexa-harness: {len(bad)} rule(s) did not hold ({names})\n{text}")
    return verdicts


def _runs_of(subject: Any) -> list[Any]:
    """The runs to judge, from a fake, a journal, a run or runs."""
    from dataclasses import replace

    from harness._clock import VirtualClock
    from harness.conformance.clients import runs_from_journal
    from harness.conformance.verdicts import Run
    from harness.fake import FakeVexa
    from harness.journal import Journal

    if isinstance(subject, Run):
        return [subject]
    if isinstance(subject, FakeVexa):
        virtual = isinstance(subject.clock, VirtualClock)
        runs = runs_from_journal(
            subject.journal.to_json(), profile=subject.profile.name, seed=subject.seed
        )
        return _once_each([replace(run, virtual_time=virtual) for run in runs])
    if isinstance(subject, Journal):
        return _once_each(runs_from_journal(subject.to_json()))
    runs = list(subject)
    if not all(isinstance(run, Run) for run in runs):
        raise TypeError(
            "assert_conforms() judges a FakeVexa, a Journal, a Run or a sequence of Runs "
            f"(got {type(subject).__name__})"
        )
    return runs


#: Rules that read no scenario facts: one run of a journal is enough for them.
_ANY_RUN = frozenset({"no-blind-post", "no-retry-non-retryable", "honor-retry-after"})


def _once_each(runs: list[Any]) -> list[Any]:
    """A journal becomes one run per fact it shows, all with the same events: let the rules
    that read no facts judge those events once, or each violation would be shown twice."""
    from dataclasses import replace

    kept = []
    for i, run in enumerate(runs):
        feeds = tuple(f for f in run.feeds if f not in _ANY_RUN)
        if i == 0:
            every = {f for r in runs for f in r.feeds if f in _ANY_RUN}
            feeds = (*feeds, *sorted(every))
        if feeds:
            kept.append(replace(run, feeds=feeds))
    return kept


@pytest.fixture
def vexa_conforms(vexa: FakeVexa) -> Callable[..., list[Any]]:
    """``vexa_conforms(rules=...)``: :func:`assert_conforms` on this test's fake (or on a
    subject given as the first argument)."""

    def check(subject: Any = None, rules: Sequence[str] | None = None, **options: Any) -> list[Any]:
        __tracebackhide__ = True
        return assert_conforms(vexa if subject is None else subject, rules, **options)

    return check


# ---------------------------------------------------------------------- Hypothesis profiles

#: The profiles the plugin registers — unless the project registered these names first (in a
#: conftest.py, or before pytest starts) — for ``--hypothesis-profile dev|ci|debug``. Plain
#: values, so nothing imports Hypothesis until a run asks for it. ``ci`` is derandomized:
#: every run and every xdist worker tests the same examples, so verdicts never flicker.
HYPOTHESIS_PROFILES: dict[str, dict[str, Any]] = {
    "dev": {"max_examples": 25, "stateful_step_count": 10, "deadline": None},
    "ci": {
        "max_examples": 100,
        "stateful_step_count": 10,
        "deadline": None,
        "derandomize": True,
        "database": None,
        "print_blob": True,
        "suppress_health_check": ("too_slow",),
        # no "explain": it re-runs a failing example dozens of times to annotate it
        "phases": ("explicit", "reuse", "generate", "target", "shrink"),
    },
    "debug": {
        "max_examples": 10,
        "stateful_step_count": 10,
        "deadline": None,
        "print_blob": True,
        "verbosity": "verbose",
    },
}


def hypothesis_settings(name: str) -> Any:
    """``hypothesis.settings`` with the values of one of :data:`HYPOTHESIS_PROFILES`."""
    from hypothesis import HealthCheck, Phase, Verbosity, settings

    values = dict(HYPOTHESIS_PROFILES[name])
    if "phases" in values:
        values["phases"] = [Phase[p] for p in values["phases"]]
    if "suppress_health_check" in values:
        values["suppress_health_check"] = [HealthCheck[h] for h in values["suppress_health_check"]]
    if "verbosity" in values:
        values["verbosity"] = Verbosity[values["verbosity"]]
    # On Hypothesis's defaults, not on whatever profile is loaded (on CI: its own ``ci``).
    return settings(settings.get_profile("default"), **values)


#: What tells two profiles apart, for recognising Hypothesis's own built-in ``ci``.
_COMPARED = (
    "max_examples",
    "derandomize",
    "deadline",
    "database",
    "print_blob",
    "suppress_health_check",
    "phases",
    "stateful_step_count",
    "verbosity",
    "report_multiple_bugs",
)


def _free(name: str) -> bool:
    """Nobody registered ``name`` — or only Hypothesis did (its built-in ``ci`` profile)."""
    from hypothesis import HealthCheck, settings
    from hypothesis.errors import InvalidArgument

    try:
        current = settings.get_profile(name)
    except InvalidArgument:
        return True
    if name != "ci":
        return False
    builtin = settings(
        settings.get_profile("default"),
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    return all(getattr(current, a) == getattr(builtin, a) for a in _COMPARED)


def register_profiles() -> list[str]:
    """Register the profiles of :data:`HYPOTHESIS_PROFILES` whose names the project left free.

    Hypothesis registers a ``ci`` profile of its own (and loads it when it sees a CI
    environment); ours is that one plus a stateful step count and no explain phase, so it
    takes its place — and is loaded in its place — unless the project registered its own.
    """
    from hypothesis import settings

    added = []
    for name in HYPOTHESIS_PROFILES:
        if _free(name):
            settings.register_profile(name, hypothesis_settings(name))
            added.append(name)
    if "ci" in added and settings.get_current_profile_name() == "ci":
        settings.load_profile("ci")
    return added


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Before Hypothesis's plugin loads ``--hypothesis-profile`` (in ``pytest_configure``), and
    after the initial conftest files could register their own profiles."""
    import sys

    wanted = config.getoption("hypothesis_profile", None)
    if wanted is None and "hypothesis" not in sys.modules:
        return  # nobody uses Hypothesis yet: do not import it
    try:
        register_profiles()
    except ImportError:  # pragma: no cover - Hypothesis is not installed
        return
