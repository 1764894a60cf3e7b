"""The reports without a browser: the HTML page's content, JUnit's hygiene, terminal colour, and
``pytest --vexa-html``. (``test_report_browser.py`` checks the rendered page in Chromium.)"""

from __future__ import annotations

import importlib
import io
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from harness.clients.sync_client import HttpxAdapter
from harness.conformance.clients import PythonClient
from harness.conformance.report import html_report, junit_report, summary_table, use_colour
from harness.conformance.runner import Result, conform
from harness.conformance.verdicts import RULE_IDS, Run, Verdict
from harness.journal import AnswerEvent, CommitEvent, CutEvent, FaultEvent, RequestEvent
from harness.report import render_html
from harness.report.svg import timeline_svg
from harness.report.views import clean_text, entries, fault_label, plan_lines

T0 = 1_781_946_000.0


@pytest.fixture(scope="module")
def blind() -> Result:
    module = importlib.import_module("broken_clients.blind_repost")
    return conform(PythonClient(module.ADAPTER), seed=2, operations=["start_bot"])


@pytest.fixture(scope="module")
def ignores_retry_after() -> Result:
    module = importlib.import_module("broken_clients.ignores_retry_after")
    return conform(PythonClient(module.ADAPTER), seed=2, operations=["bot_status"])


def request(exchange: int, at: float, attempt: int) -> RequestEvent:
    return RequestEvent(
        exchange, T0 + at, "POST", "/bots", "", "key", "ab" * 32, "key POST /bots gm/x",
        attempt, "google_meet", "abc-defg-hij",
    )  # fmt: skip


def lost_answer_run() -> Run:
    """POST /bots reset after commit, then a blind re-POST that meets the bot: 409."""
    events = (
        request(1, 0.0, 1),
        FaultEvent(1, T0, "rule-a", "after_commit", {"kind": "reset"}),
        CommitEvent(1, T0, "bot_created", 1, "google_meet", "abc-defg-hij", 1),
        CutEvent(1, T0, "reset"),
        request(2, 0.25, 2),
        AnswerEvent(2, T0 + 0.25, 409, None),
    )
    return Run(
        "start_bot/ambiguous-reset", "start_bot", "docs", 11, ("no-blind-post",),
        {"rules": [{"fault": {"kind": "reset"}, "match": {"method": "POST", "path": "/bots"},
                    "on": {"calls": [1]}, "phase": "after_commit"}], "seed": 11},
        events, "gave_up", "GaveUp: POST /bots: 409",
    )  # fmt: skip


def test_the_page_is_self_contained_and_deterministic(blind: Result) -> None:
    page = html_report(blind)
    assert page == html_report(blind)
    assert page.startswith("<!doctype html>")
    urls = set(re.findall(r"""(?:src|href)=["']([^"'#][^"']*)""", page))
    assert urls == set()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page)  # no remote CSS resources
    assert "<link" not in page
    assert "@import" not in page
    assert "<script src" not in page


def test_every_rule_is_a_row_and_every_failing_evidence_links_to_a_run(blind: Result) -> None:
    page = html_report(blind)
    for rule in RULE_IDS:
        assert f'id="rule-{rule}"' in page
    failed = [v for v in blind.verdicts if v.verdict == "fail"]
    assert {v.rule for v in failed} == {"no-blind-post", "retries-transient"}
    for verdict in failed:
        assert f'id="why-{verdict.rule}"' in page
    anchors = set(re.findall(r'id="(run-\d+)"', page))
    assert len(anchors) == len(blind.runs)
    links = set(re.findall(r'href="#(run-\d+)"', page))
    assert links
    assert links <= anchors
    items, where = entries(blind.verdicts, blind.runs)
    for (rule, position), index in where.items():
        verdict = next(v for v in blind.verdicts if v.rule == rule)
        evidence = verdict.evidence[position]
        assert (blind.runs[index].scenario, blind.runs[index].seed) == (
            evidence.scenario,
            evidence.seed,
        )
        assert items[index].status == "fail"


def test_failing_runs_are_open_and_passing_runs_collapsed(blind: Result) -> None:
    page = html_report(blind)
    runs = re.findall(r'<details class="run (\w[\w-]*)"[^>]*?( open)?>', page)
    assert {status for status, _ in runs} == {"fail", "pass"}
    assert all(opened for status, opened in runs if status == "fail")
    assert not any(opened for status, opened in runs if status == "pass")


def test_a_timeline_shows_the_fault_its_phase_the_wait_and_the_bot() -> None:
    run = lost_answer_run()
    svg = timeline_svg(run, highlight=frozenset({1, 2}))
    assert svg.startswith('<svg class="timeline"')
    assert "⚡ reset · after commit" in svg
    assert "#1 reset" in svg
    assert "#2 409" in svg
    assert "waited 0.25 s" in svg
    assert "bot created (#1)" in svg
    assert svg.count('class="hl"') == 2  # both attempts ringed as evidence
    assert ">POST /bots<" in svg
    assert ">side effects<" in svg


def test_a_second_bot_for_one_meeting_is_called_out() -> None:
    run = lost_answer_run()
    second = (
        request(2, 0.25, 2),
        CommitEvent(2, T0 + 0.25, "bot_created", 2, "google_meet", "abc-defg-hij", 1),
        AnswerEvent(2, T0 + 0.25, 202, None),
    )
    svg = timeline_svg(replace(run, events=run.events[:4] + second))
    assert "2nd bot created (#2)" in svg
    assert 'class="fx bad"' in svg


def test_retry_after_windows_and_early_attempts_are_drawn(ignores_retry_after: Result) -> None:
    run = next(r for r in ignores_retry_after.runs if r.scenario.endswith("retry-after-seconds"))
    svg = timeline_svg(run)
    assert 'class="ra"' in svg  # the Retry-After window
    assert re.search(r'class="lw bad"[^>]*>waited [\d.]+ m?s \(Retry-After 2 s\)', svg)
    outage = next(r for r in ignores_retry_after.runs if r.scenario.endswith("outage"))
    chart = timeline_svg(outage, envelope_base=0.25)
    assert 'class="waits"' in chart
    assert chart.count('class="env"') >= 5  # one envelope column per retry


def test_words_for_faults_and_plans() -> None:
    assert fault_label({"kind": "reset"}, "after_commit") == "reset · after commit"
    assert fault_label({"kind": "status", "status": 429, "retry_after": 3}, None) == (
        "429 + Retry-After 3 · before commit"
    )
    assert fault_label({"kind": "hang"}, "before_commit") == "hang · before commit"
    assert plan_lines(lost_answer_run().plan) == ["POST /bots, call 1: reset · after commit"]


def test_client_text_is_cleaned_for_xml_and_html() -> None:
    assert clean_text("\x1b[31mred\x1b[0m\x00 ok") == "red\ufffd ok"
    run = replace(lost_answer_run(), detail="\x1b[1;31mGaveUp\x1b[0m: \x07bell \x00nul")
    verdict = Verdict("no-blind-post", "fail", "re-POST \x1b[31mblind\x1b[0m")
    page = render_html([verdict], [run])
    assert "\x1b" not in page
    assert "\x00" not in page


def test_junit_survives_a_client_that_prints_control_characters(blind: Result) -> None:
    runs = tuple(replace(r, detail=r.detail + " \x1b[31m\x00\x08") for r in blind.runs)
    verdicts = tuple(
        replace(v, reason=v.reason + "\x1b[0m\x0b", evidence=v.evidence) for v in blind.verdicts
    )
    dirty = replace(blind, runs=runs, verdicts=verdicts, client="client\x1b[1m")
    root = ET.fromstring(junit_report(dirty))  # would raise on an illegal character
    assert root.get("tests") == root.find("testsuite").get("tests")  # type: ignore[union-attr]
    assert int(root.get("failures", "0")) > 0


def test_terminal_colour_only_on_a_tty_and_never_with_no_color(
    blind: Result, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) is True
    assert use_colour(io.StringIO()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert use_colour(Tty()) is False
    coloured = summary_table(blind, width=120, colour=True)
    assert "\x1b[1;31mFAIL\x1b[0m" in coloured
    assert "\x1b[32mPASS\x1b[0m" in coloured
    plain = summary_table(blind, width=120, colour=False)
    assert "\x1b" not in plain
    assert re.sub(r"\x1b\[[\d;]*m", "", coloured) == plain
    assert "\x1b" not in summary_table(blind, width=120)  # pytest's stdout is no terminal


def test_a_passing_client_gets_a_pass_banner_and_no_why_section() -> None:
    result = conform(PythonClient(HttpxAdapter()), seed=1, operations=["bot_status"])
    page = html_report(result)
    assert "<h1>PASS — 7 rules passed, 5 skipped</h1>" in page  # no start_bot: no-blind-post
    assert 'id="why"' not in page


def test_pytest_writes_an_html_report_of_the_tests_that_used_the_fake(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        test_user="""
        import httpx, pytest

        MEET = {"platform": "google_meet", "native_meeting_id": "abc-defg-hij"}

        def test_blind(vexa_client, vexa_faults):
            vexa_faults.on("POST", "/bots").attempt(1).after_commit().reset()
            with pytest.raises(httpx.ReadError):
                vexa_client.post("/bots", json=MEET)
            assert vexa_client.post("/bots", json=MEET).status_code == 409

        def test_polite(vexa_client):
            assert vexa_client.get("/meetings").status_code == 200

        def test_no_fake():
            pass
        """
    )
    report = pytester.path / "out" / "journals.html"
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function",
        f"--vexa-html={report}",
    )  # fmt: skip
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*HTML report of 2 test journal(s)*"])
    page = Path(report).read_text(encoding="utf-8")
    assert "test_user.py::test_blind" in page
    assert "test_user.py::test_polite" in page
    assert "test_no_fake" not in page
    assert 'id="why-no-blind-post"' in page  # the blind re-POST, judged from the journal
    assert "<h2>Tests</h2>" in page
