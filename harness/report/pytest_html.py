"""``pytest --vexa-html PATH``: one HTML report of the journals of the tests that used the fake.

Registered by the pytest plugin only when the option is given. After each test's call phase
it copies the journal of the test's ``vexa`` fixture (if the test used one and anything
reached it); at the end of the session it judges each test's journal as ``conform
--journal`` would (the rules a recorded session can feed: ``no-blind-post``,
``no-retry-non-retryable``, ``honor-retry-after``, ``client-timeout``; the others skip) and
writes one page with a timeline per test. Under pytest-xdist each worker sends its records
to the controller, which writes the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.conformance.verdicts import RULE_IDS, Evidence, Run, Verdict

__all__ = ["HtmlReport", "merge_verdicts", "report_page"]

_KEY = "vexa_html_records"


class HtmlReport:
    """The plugin object behind ``--vexa-html``: collect per test, write once."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.records: list[dict[str, Any]] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if report.when == "call":
            fake = getattr(item, "funcargs", {}).get("vexa")
            journal = getattr(fake, "journal", None)
            if journal is not None and len(journal):
                self.records.append(_record(item.nodeid, report.outcome, fake))
        return report

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """pytest-xdist, on the controller: a worker finished; take its records."""
        raw = getattr(node, "workeroutput", {}).get(_KEY)
        if raw:
            self.records.extend(json.loads(raw))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        output = getattr(session.config, "workeroutput", None)
        if output is not None:  # an xdist worker: the controller writes the file
            output[_KEY] = json.dumps(self.records)
            return
        self.records.sort(key=lambda r: str(r["nodeid"]))
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        with open(self.path, "w", encoding="utf-8") as handle:
            handle.write(report_page(self.records))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if getattr(terminalreporter.config, "workeroutput", None) is None:
            terminalreporter.write_line(
                f"vexa-harness: HTML report of {len(self.records)} test journal(s): {self.path}"
            )


def _record(nodeid: str, outcome: str, fake: Any) -> dict[str, Any]:
    clock = type(getattr(fake, "clock", None)).__name__
    return {
        "nodeid": nodeid,
        "outcome": outcome,
        "profile": fake.profile.name,
        "seed": fake.seed,
        "virtual_time": clock == "VirtualClock",
        "plan": fake.fault_engine.plan.to_json(),
        "journal": fake.journal.to_json(),
    }


def merge_verdicts(per_test: Sequence[Sequence[Verdict]]) -> list[Verdict]:
    """One verdict per rule from several independent judgements: any fail fails, with all
    the evidence; else any pass passes; else it skips (with the first reason)."""
    merged = []
    for position, rule in enumerate(RULE_IDS):
        verdicts = [v[position] for v in per_test if len(v) > position]
        failing = [v for v in verdicts if v.verdict == "fail"]
        passing = [v for v in verdicts if v.verdict == "pass"]
        if failing:
            evidence = tuple(e for v in failing for e in v.evidence)
            reason = f"failed in {len(failing)} test(s): " + failing[0].reason
            merged.append(Verdict(rule, "fail", reason, evidence))
        elif passing:
            held = f"held in the {len(passing)} test(s) it could judge"
            merged.append(Verdict(rule, "pass", held))
        else:
            why = verdicts[0].reason if verdicts else "no test used the fake"
            merged.append(Verdict(rule, "skip", why))
    return merged


def report_page(records: Sequence[dict[str, Any]]) -> str:
    """The page for the recorded tests (pure: records in, HTML out)."""
    from harness.conformance.clients import events_from_json, runs_from_journal
    from harness.conformance.rules import judge
    from harness.report.page import render_html

    runs: list[Run] = []
    notes: list[str | None] = []
    judged: list[list[Verdict]] = []
    for record in records:
        nodeid, seed, profile = str(record["nodeid"]), int(record["seed"]), str(record["profile"])
        virtual = bool(record.get("virtual_time", True))
        facts = [
            replace(r, virtual_time=virtual)
            for r in runs_from_journal(record["journal"], profile=profile, seed=seed)
        ]
        verdicts = []
        for verdict in judge(facts):
            evidence = tuple(Evidence(nodeid, seed, e.summary, e.events) for e in verdict.evidence)
            verdicts.append(replace(verdict, evidence=evidence))
        judged.append(verdicts)
        runs.append(
            Run(
                scenario=nodeid,
                operation=nodeid.split("::", 1)[0],
                profile=profile,
                seed=seed,
                feeds=(),
                plan=record.get("plan") or {},
                events=events_from_json(record["journal"]),
                end="succeeded",
                virtual_time=virtual,
            )
        )
        notes.append(str(record.get("outcome", "?")))
    return render_html(
        merge_verdicts(judged),
        runs,
        title="vexa-harness: the journals of a pytest session",
        facts=[
            ("source", "the journals of a pytest session"),
            ("tests that used the fake", str(len(records))),
            ("judged", "as conform --journal judges a recorded session"),
        ],
        notes=notes,
        runs_heading="Tests",
        noun="test",
    )
