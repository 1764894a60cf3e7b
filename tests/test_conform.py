"""``vexa-harness conform``: the catalogue, the three client kinds, virtual time, the reports.

The bundled clients must pass every client rule; each deliberately broken client in
``tests/broken_clients/`` must fail exactly the rules it breaks (its ``BREAKS``) and pass or
skip the others — in-process on virtual time, and (``slow``) through the command protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path
from time import sleep as imported_sleep
from types import ModuleType
from typing import Any

import httpx
import pytest

from harness import FakeVexa
from harness.cli import main
from harness.clients.async_client import AsyncHttpxAdapter
from harness.clients.policy import RetryPolicy, Unsupported, parse_retry_after
from harness.clients.sync_client import HttpxAdapter, VexaClient
from harness.conformance.catalogue import OPERATIONS, REPEATS, build, prepare
from harness.conformance.clients import (
    BaseUrlSession,
    CommandClient,
    Limits,
    PythonClient,
    StagedClock,
    runs_from_journal,
)
from harness.conformance.report import json_report, junit_report, summary_table
from harness.conformance.rules import judge
from harness.conformance.runner import Result, conform
from harness.conformance.verdicts import CLIENT_RULES, RULE_IDS, WEBHOOK_RULES, Budgets
from harness.conformance.vtime import VirtualTime, virtual_loop

REAL_DATETIME = datetime.datetime
BROKEN_DIR = Path(__file__).resolve().parent / "broken_clients"
BROKEN = sorted(
    p.stem for p in BROKEN_DIR.glob("*.py") if not p.stem.startswith("_") and p.stem != "__init__"
)
IN_PROCESS_BROKEN = [name for name in BROKEN if name != "urllib3_hidden_retry"]


def broken(name: str) -> ModuleType:
    return importlib.import_module(f"broken_clients.{name}")


def failed(result: Result) -> set[str]:
    return {v.rule for v in result.verdicts if v.verdict == "fail"}


def verdicts(result: Result) -> dict[str, str]:
    return {v.rule: v.verdict for v in result.verdicts}


def journal_bytes(result: Result) -> bytes:
    return json.dumps(
        [[run.scenario, run.profile, [asdict(e) for e in run.events]] for run in result.runs],
        sort_keys=True,
    ).encode()


# ---------------------------------------------------------------------- the catalogue


def test_the_catalogue_exercises_every_client_rule_on_every_operation() -> None:
    scenarios = build()
    fed = {rule for s in scenarios for rule in s.feeds}
    assert fed == set(CLIENT_RULES)
    for op in OPERATIONS:
        mine = {s.id.split("/", 1)[1] for s in scenarios if s.operation == op}
        assert {"baseline", "burst-503", "burst-429-reset", "outage"} <= mine
        assert {"retry-after-seconds", "retry-after-date"} <= mine
        assert "hang" in mine
        assert any(name.startswith("status-4") for name in mine)
    posting = {s.id for s in scenarios if s.operation == "start_bot"}
    for fault in ("reset", "close", "503", "timeout"):
        assert f"start_bot/ambiguous-{fault}" in posting
    assert "start_bot/conflict" in posting
    statuses = {s.facts["status"] for s in scenarios if s.facts.get("kind") == "non_retryable"}
    assert statuses == {400, 401, 403, 404, 409, 422}
    groups = [s for s in scenarios if s.grouped]
    assert {s.operation for s in groups} == {"start_bot", "bot_status"}
    assert all(s.repeat >= 7 and s.facts["kind"] == "persistent_outage" for s in groups)


def test_statistical_groups_fall_back_to_the_first_supported_operation() -> None:
    grouped = [s for s in build(["get_transcript", "list_meetings"]) if s.grouped]
    assert [s.id for s in grouped] == ["get_transcript/outage"]
    assert grouped[0].repeat == REPEATS


@pytest.mark.parametrize("state_op", ["stop_bot", "delete_meeting", "delete_recording"])
def test_each_scenario_builds_the_state_its_operation_needs(state_op: str) -> None:
    scenario = next(s for s in build([state_op]) if s.id.endswith("/baseline"))
    fake = FakeVexa("docs", 3)
    stage = prepare(fake, scenario, 3)
    assert list(fake.journal) == []  # the setup leaves no trace in the client's journal
    with VexaClient("http://vexa.test", stage.account.api_key, transport=fake.transport()) as c:
        c.perform(state_op, stage.args)
    requests = fake.journal.requests()
    assert requests
    assert all(r.api_key == stage.account.api_key and r.attempt == 1 for r in requests)


def test_an_http_date_retry_after_is_fixed_when_the_run_starts() -> None:
    scenario = next(s for s in build(["bot_status"]) if s.id.endswith("retry-after-date"))
    fake = FakeVexa("docs", 1)
    stage = prepare(fake, scenario, 1)
    date = stage.facts["retry_after"]
    assert stage.facts["form"] == "date"
    assert isinstance(date, str)
    assert date.endswith(" GMT")
    assert stage.plan.rules[0].fault.retry_after == date  # type: ignore[union-attr]


# ---------------------------------------------------------------------- virtual time


def test_virtual_time_patches_sleeps_clocks_aliases_and_datetime_in_its_thread() -> None:
    fake = FakeVexa(seed=1)
    start = fake.clock.now()
    other: list[float] = []
    with VirtualTime(fake):
        time.sleep(30)
        imported_sleep(30)  # a `from time import sleep` alias taken before the patch
        assert time.monotonic() == fake.clock.now() == start + 60
        assert time.time() == start + 60
        now = datetime.datetime.now(datetime.UTC)
        assert now.timestamp() == pytest.approx(start + 60)
        assert isinstance(datetime.datetime(2020, 1, 1), datetime.datetime)
        worker = threading.Thread(target=lambda: other.append(time.time()))
        worker.start()
        worker.join()
    assert abs(other[0] - time.time()) < 60  # other threads keep real time
    assert globals()["imported_sleep"] is time.sleep  # every patch is undone
    assert datetime.datetime is REAL_DATETIME
    assert abs(datetime.datetime.now().timestamp() - time.time()) < 60


def test_virtual_time_caps_a_client_that_never_stops_sleeping() -> None:
    from harness.conformance.vtime import TimeBudgetExceeded

    def sleep_forever() -> None:
        while True:
            time.sleep(7)

    fake = FakeVexa(seed=1)
    with VirtualTime(fake, cap=100), pytest.raises(TimeBudgetExceeded):
        sleep_forever()
    assert 100 < fake.clock.now() - FakeVexa(seed=1).clock.now() <= 107


def test_the_virtual_loop_jumps_instead_of_waiting() -> None:
    fake = FakeVexa(seed=1)
    start = fake.clock.now()
    wall = time.perf_counter()
    with VirtualTime(fake) as session:
        loop = virtual_loop(session)
        try:
            loop.run_until_complete(asyncio.sleep(3600))
        finally:
            loop.close()
    assert fake.clock.now() - start == pytest.approx(3600, abs=1e-5)
    assert time.perf_counter() - wall < 5


def test_retry_after_dates_are_read_on_the_harness_clock() -> None:
    fake = FakeVexa(seed=1)
    date = email.utils.formatdate(fake.clock.now() + 3, usegmt=True)
    with VirtualTime(fake):
        assert parse_retry_after({"retry-after": date}) == pytest.approx(3, abs=1)
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after": "soon"}) is None


def test_the_staged_clock_jumps_through_setup_then_follows_the_wall_clock() -> None:
    clock = StagedClock(lead=60)
    first = clock.now()
    assert clock.advance(10) == first + 10
    clock.go_live()
    assert abs(clock.now() - time.time()) < 1
    with pytest.raises(RuntimeError):
        clock.advance(1)


# ---------------------------------------------------------------------- in-process clients


@pytest.mark.parametrize("adapter", [HttpxAdapter, AsyncHttpxAdapter], ids=["sync", "async"])
def test_the_bundled_clients_pass_every_client_rule_five_seeds_in_a_row(adapter: Any) -> None:
    for seed in (11, 12, 13, 14, 15):
        result = conform(PythonClient(adapter()), seed=seed)
        for rule in CLIENT_RULES:
            assert result.verdict(rule).verdict == "pass", (seed, result.verdict(rule))
        assert all(result.verdict(rule).verdict == "skip" for rule in WEBHOOK_RULES)
        assert {r.profile for r in result.runs} == {"docs", "v0.10"}
        assert all(r.virtual_time for r in result.runs)


@pytest.mark.parametrize("name", IN_PROCESS_BROKEN)
def test_each_broken_client_fails_exactly_the_rules_it_breaks(name: str) -> None:
    module = broken(name)
    result = conform(PythonClient(module.ADAPTER, name), seed=5)
    assert failed(result) == module.BREAKS, [
        (v.rule, v.verdict, v.reason) for v in result.verdicts if v.verdict != "skip"
    ]
    for verdict in result.verdicts:
        if verdict.verdict == "fail":
            assert verdict.evidence
            assert all(e.summary for e in verdict.evidence)


class _SyncOverAsync:
    """A sync facade that runs the async client with ``asyncio.run`` (a common SDK shape)."""

    def __getattr__(self, name: str) -> Any:
        method = getattr(AsyncHttpxAdapter(), name)

        def call(base_url: str, api_key: str, args: Any, *, transport: Any = None) -> Any:
            return asyncio.run(method(base_url, api_key, args, transport=transport))

        return call


def test_a_sync_adapter_running_its_own_event_loop_gets_virtual_time_too() -> None:
    wall = time.perf_counter()
    result = conform(PythonClient(_SyncOverAsync()), seed=6, operations=["start_bot"])
    assert time.perf_counter() - wall < 30  # minutes of backoff, on virtual time
    assert all(result.verdict(rule).verdict == "pass" for rule in CLIENT_RULES)


def test_the_same_seed_gives_the_same_verdicts_and_journal_bytes() -> None:
    first = conform(PythonClient(HttpxAdapter()), seed=42)
    second = conform(PythonClient(HttpxAdapter()), seed=42)
    other = conform(PythonClient(HttpxAdapter()), seed=43)
    assert verdicts(first) == verdicts(second)
    assert [v.reason for v in first.verdicts] == [v.reason for v in second.verdicts]
    assert journal_bytes(first) == journal_bytes(second)
    assert journal_bytes(first) != journal_bytes(other)  # the seed matters (jitter, keys...)


def test_a_broken_clients_evidence_replays_under_the_same_seed() -> None:
    module = broken("blind_repost")
    runs = [conform(PythonClient(module.ADAPTER), seed=9, rules=["no-blind-post"]) for _ in "ab"]
    assert [v.evidence for v in runs[0].verdicts] == [v.evidence for v in runs[1].verdicts]


class _OnlyStatus:
    """An adapter that supports one operation, and refuses another by raising."""

    def bot_status(self, base_url: str, api_key: str, args: Any, *, transport: Any) -> Any:
        with httpx.Client(base_url=base_url, transport=transport, timeout=5) as http:
            return http.get("/bots/status", headers={"X-API-Key": api_key}).json()

    def list_meetings(self, base_url: str, api_key: str, args: Any, **_: Any) -> Any:
        raise Unsupported("no listing here")


def test_unsupported_operations_make_the_rules_they_feed_skip() -> None:
    result = conform(PythonClient(_OnlyStatus()), seed=1, profiles=("docs",))
    assert result.supported == {"docs": ("bot_status",)}
    start = [r for r in result.runs if r.operation == "start_bot"]
    assert start
    assert all(r.end == "unsupported" and not r.events for r in start)
    blind = result.verdict("no-blind-post")
    assert blind.verdict == "skip"
    assert "start_bot" in blind.reason
    assert result.verdict("client-timeout").verdict == "pass"  # httpx timed out the hang
    assert result.verdict("retries-transient").verdict == "fail"  # it never retries
    assert "not supported by the client: delete_meeting" in summary_table(result)


def test_a_client_without_a_timeout_is_stopped_not_waited_for() -> None:
    module = broken("no_timeout")
    result = conform(
        PythonClient(module.ADAPTER), seed=1, profiles=("docs",), operations=["bot_status"]
    )
    hang = next(r for r in result.runs if r.scenario == "bot_status/hang")
    assert hang.end == "hung"
    assert "never answered" in hang.detail
    assert result.verdict("client-timeout").verdict == "fail"


def test_a_client_that_never_gives_up_is_stopped_and_fails_bounded_retries() -> None:
    module = broken("unbounded_retries")
    result = conform(
        PythonClient(module.ADAPTER),
        seed=1,
        profiles=("docs",),
        operations=["list_meetings"],
        rules=["bounded-retries"],
    )
    outage = [r for r in result.runs if r.scenario.endswith("/outage")]
    assert outage
    assert all(r.end == "hung" for r in outage)
    assert result.verdict("bounded-retries").verdict == "fail"


# ---------------------------------------------------------------------- reports and the CLI


def test_the_json_report_has_one_entry_per_rule_in_order() -> None:
    result = conform(PythonClient(broken("ignores_retry_after").ADAPTER), seed=3)
    report = json_report(result)
    assert report["seed"] == 3
    assert report["profile"] == "docs,v0.10"
    assert [r["id"] for r in report["rules"]] == list(RULE_IDS)
    assert all({"id", "verdict", "evidence", "reason"} <= set(r) for r in report["rules"])
    honour = next(r for r in report["rules"] if r["id"] == "honor-retry-after")
    assert honour["verdict"] == "fail"
    assert honour["evidence"]
    assert honour["evidence"][0]["profile"] in ("docs", "v0.10")
    assert honour["evidence"][0]["events"]
    assert len(report["runs"]) == len(result.runs)
    assert report["passed"] is False
    json.dumps(report)  # serialisable as is


def test_junit_has_a_testcase_per_rule_and_scenario_with_evidence_in_failures() -> None:
    result = conform(PythonClient(broken("blind_repost").ADAPTER), seed=2)
    suite = ET.fromstring(junit_report(result)).find("testsuite")
    assert suite is not None
    cases = suite.findall("testcase")
    names = {(c.get("classname"), c.get("name")) for c in cases}
    assert ("no-blind-post", "start_bot/ambiguous-reset [docs]") in names
    assert ("client-timeout", "get_transcript/hang [v0.10]") in names
    failures = [c for c in cases if c.find("failure") is not None]
    assert {c.get("classname") for c in failures} == {"no-blind-post", "retries-transient"}
    failure = failures[0].find("failure")
    assert failure is not None
    assert failure.text
    assert "POST /bots" in failure.text
    assert int(suite.get("failures", "0")) == len(failures)
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert {c.get("classname") for c in skipped} == set(WEBHOOK_RULES)


def test_cli_conform_with_a_python_adapter_writes_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = {ext: tmp_path / f"report.{ext}" for ext in ("json", "xml", "html")}
    code = main(
        [
            "conform",
            "--client-py",
            "harness.clients.sync_client:HttpxAdapter",
            "--seed",
            "4",
            "--report-json",
            str(paths["json"]),
            "--junit",
            str(paths["xml"]),
            "--html",
            str(paths["html"]),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "no-blind-post" in out
    assert "PASS" in out
    assert "start_bot/ambiguous-reset" in err  # progress on stderr
    report = json.loads(paths["json"].read_text())
    assert report["seed"] == 4
    assert [r["id"] for r in report["rules"]] == list(RULE_IDS)
    ET.fromstring(paths["xml"].read_text())
    assert "<table>" in paths["html"].read_text()


def test_cli_conform_exits_1_when_a_rule_fails(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["conform", "--client-py", "broken_clients.never_retries:ADAPTER", "--profile", "docs"]
    )
    out, _ = capsys.readouterr()
    assert code == 1
    assert "retries-transient       FAIL" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--client-py", "harness.clients.sync_client:HttpxAdapter", "--receiver-cmd", "nope-x"],
            "--receiver-cmd: 'nope-x' is not an executable",
        ),
        (["--client-cmd", "no-such-program-vexa"], "not an executable"),
        (["--client-py", "no_such_module:Adapter"], "cannot import"),
        (["--client-py", "harness.clients.sync_client"], "module:attribute"),
        (["--journal", "/nonexistent/journal.json"], "No such file"),
    ],
)
def test_cli_conform_usage_errors_exit_2(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["conform", *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_conform_judges_a_webhook_receiver_beside_the_client(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from webhook_receivers import COMMAND_RECEIVER

    script = tmp_path / "receiver.py"
    script.write_text(COMMAND_RECEIVER)
    report = tmp_path / "report.json"
    code = main(
        [
            "conform",
            "--client-py",
            "harness.clients.sync_client:HttpxAdapter",
            "--receiver-cmd",
            f"{sys.executable} {script}",
            "--profile",
            "docs",
            "--report-json",
            str(report),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    document = json.loads(report.read_text())
    assert [r["verdict"] for r in document["rules"]] == ["pass"] * len(RULE_IDS)
    assert document["receiver"] == f"{sys.executable} {script}"


def test_cli_conform_rejects_bad_budgets() -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["conform", "--client-cmd", "x", "--max-attempts", "0"])
    assert exit_.value.code == 2


# ---------------------------------------------------------------------- kind 3: base URL


def test_a_recorded_journal_is_judged_by_the_faults_it_shows(tmp_path: Path) -> None:
    fake = FakeVexa(seed=8)
    alice = fake.create_user()
    fake.faults.on("POST", "/bots").call(1).after_commit().reset()
    body = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}
    with fake.client(alice, timeout=5) as vexa:
        with pytest.raises(httpx.ReadError):
            vexa.post("/bots", json=body)
        assert vexa.post("/bots", json=body).status_code == 409  # blind, and too late
    path = tmp_path / "journal.json"
    path.write_text(fake.journal.dumps())
    runs = runs_from_journal(json.loads(path.read_text()))
    assert {r.facts["kind"] for r in runs} == {"ambiguous_post", "non_retryable", "conflict"}
    by_rule = {v.rule: v.verdict for v in judge(runs)}
    assert by_rule["no-blind-post"] == "fail"
    assert by_rule["backoff-growth"] == "skip"
    assert main(["conform", "--journal", str(path)]) == 1


@pytest.mark.slow
def test_a_base_url_session_records_any_client_driven_at_it() -> None:
    with BaseUrlSession("start_bot/ambiguous-reset", seed=4) as session:
        with VexaClient(session.url, session.api_key, policy=RetryPolicy(base=0.05)) as client:
            client.perform(session.stage.operation, session.args)
        run = session.finish("succeeded")
    assert not run.virtual_time
    verdict = {v.rule: v.verdict for v in judge([run])}
    assert verdict["no-blind-post"] == "pass"
    assert verdict["retries-transient"] == "pass"


# ---------------------------------------------------------------------- command protocol (slow)

COMMAND = [sys.executable, "-m", "harness.clients.command_client"]


def script(name: str) -> list[str]:
    return [sys.executable, str(BROKEN_DIR / f"{name}.py")]


@pytest.mark.slow
def test_the_readme_command_passes_the_bundled_command_client(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness",
            "conform",
            "--client-cmd",
            f"{sys.executable} -m harness.clients.command_client",
            "--report-json",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr[-3000:]
    document = json.loads(report.read_text())
    assert document["profile"] == "docs,v0.10"
    assert document["seed"] == 0
    for rule in document["rules"]:
        assert rule["verdict"] == ("skip" if rule["id"] in WEBHOOK_RULES else "pass"), rule
    runs = document["runs"]
    assert runs
    assert not any(r["virtual_time"] for r in runs)
    assert {r["end"] for r in runs} == {"succeeded", "gave_up"}


@pytest.mark.slow
def test_a_hidden_urllib3_retry_is_caught_on_a_real_socket() -> None:
    module = broken("urllib3_hidden_retry")
    result = conform(PythonClient(module.ADAPTER), seed=1, operations=["start_bot"])
    assert failed(result) == module.BREAKS
    assert all(not r.virtual_time for r in result.runs)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("code", "end", "detail"),
    [
        ("print('{\"ok\": true}')", "succeeded", '{"ok": true}'),
        ("print('not json at all')", "garbage", "not JSON"),
        ("raise SystemExit(3)", "crashed", "exit 3"),
        ("1/0", "crashed", "ZeroDivisionError"),
        ("import sys; print('nope', file=sys.stderr); sys.exit(1)", "gave_up", "nope"),
        ("import sys; sys.exit(2)", "unsupported", "exit 2"),
        ("import time; time.sleep(60)", "hung", "killed"),
    ],
)
def test_misbehaving_commands_are_reported_and_the_run_goes_on(
    code: str, end: str, detail: str
) -> None:
    client = CommandClient([sys.executable, "-c", code])
    result = conform(
        client,
        seed=1,
        profiles=("docs",),
        operations=["bot_status"],
        rules=["retries-transient"],
        limits=Limits(max_requests=20, max_time=1.0, max_wait=1.0),
    )
    baseline = result.runs[0]
    assert baseline.scenario == "bot_status/baseline"
    assert baseline.end == end, baseline
    assert detail in baseline.detail, baseline
    if end != "unsupported":
        assert len(result.runs) > 1  # the job went on after it


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_job_kills_the_commands_it_started(sig: signal.Signals) -> None:
    marker = "61.2345"  # names this test's client processes, so they can be found
    job = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "conform",
            "--client-cmd",
            f"{sys.executable} -c 'import time; time.sleep({marker})'",
            "--operation",
            "bot_status",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while not _processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _processes_with(marker), "the client command never started"
        job.send_signal(sig)
        _, err = job.communicate(timeout=30)
    finally:
        if job.poll() is None:
            job.kill()
        job.communicate()
    assert job.returncode == 2
    assert "interrupted" in err
    time.sleep(0.3)
    left = _processes_with(marker)
    for pid in left:  # this test's own clients, should the harness have left them
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)
    assert left == []


def _processes_with(marker: str) -> list[str]:
    """Client processes only: the job's own command line quotes the script, theirs does not."""
    pattern = f"-c import time; time\\.sleep\\({marker}\\) bot_status"
    found = subprocess.run(["pgrep", "-f", "--", pattern], capture_output=True)
    return found.stdout.decode().split()


#: The one operation whose scenarios show each broken client's fault fastest over a socket.
_COMMAND_OPERATION = {
    "blind_repost": "start_bot",
    "retry_after_409": "start_bot",
    "urllib3_hidden_retry": "start_bot",
}
#: Rules a client breaks only on another operation (no_timeout never recovers a *lost POST*;
#: on bot_status its retries still succeed once the hang is over).
_NOT_SHOWN_HERE = {"no_timeout": {"retries-transient"}}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(p.stem for p in BROKEN_DIR.glob("[!_]*.py")))
def test_every_broken_client_fails_only_what_it_breaks_through_the_command_protocol(
    name: str,
) -> None:
    """Through the command protocol (real processes, real time, one profile, one operation):
    every rule it breaks that the run could judge fails, and nothing else fails."""
    module = broken(name)
    budgets = Budgets(timeout_budget=1.0) if name == "no_timeout" else None
    result = conform(
        CommandClient(script(name)),
        seed=3,
        profiles=["docs"],
        operations=[_COMMAND_OPERATION.get(name, "bot_status")],
        budgets=budgets,
    )
    judged = {v.rule: v.verdict for v in result.verdicts if v.verdict != "skip"}
    failed_rules = {rule for rule, verdict in judged.items() if verdict == "fail"}
    assert failed_rules <= module.BREAKS, [v.reason for v in result.verdicts if v.verdict == "fail"]
    shown = module.BREAKS - _NOT_SHOWN_HERE.get(name, set())
    assert {rule for rule in shown if rule in judged} == failed_rules
    assert failed_rules, f"{name}: none of {sorted(module.BREAKS)} was judged"
