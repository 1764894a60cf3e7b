"""Reports of a conformance job: the terminal table, ``--report-json``, ``--junit``, ``--html``.

The JSON is a public interface (DESIGN.md, fixed core): ``{"seed": N, "profile": P,
"rules": [{"id", "verdict", "evidence"}...], ...}`` with one entry per rule id of RULES.md, in
its order; ``reason``, ``runs``, ``duration`` and the rest are additions. JUnit has one
testcase per rule × scenario (× profile), so CI shows which situation broke which rule, with
the evidence in the failure message.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import asdict
from typing import Any, TextIO

from harness.conformance.runner import Result
from harness.conformance.verdicts import RULE_IDS, Evidence, Run, Verdict
from harness.report.views import clean_text

__all__ = [
    "html_report",
    "json_report",
    "junit_report",
    "profile_label",
    "summary_table",
    "use_colour",
    "write_json",
]

_MARKS = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}
#: SGR colours of the verdicts on a terminal: green, bold red, dim.
_COLOURS = {"pass": "32", "fail": "1;31", "skip": "2"}


def use_colour(stream: TextIO | None = None) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    stream = stream if stream is not None else sys.stdout
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def profile_label(profiles: Iterable[str]) -> str:
    """One profile's name, or the names joined with commas (``docs,v0.10``)."""
    return ",".join(profiles)


def _verdicts(result: Result) -> list[Verdict]:
    """One verdict per rule id, in RULES.md order, whatever the rules returned."""
    found = {v.rule: v for v in result.verdicts}
    return [
        found.get(rule) or Verdict(rule, "skip", "the rules returned no verdict for it")
        for rule in RULE_IDS
    ]


def _one_line(text: str, width: int) -> str:
    text = " ".join(clean_text(text).split())
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def summary_table(result: Result, width: int | None = None, colour: bool | None = None) -> str:
    """The terminal summary: a header, then rule, verdict and a one-line reason per rule.

    ``colour``: ANSI colours on the verdicts (default: :func:`use_colour` of stdout — only on
    a terminal, and not when ``NO_COLOR`` is set).
    """
    if width is None:  # a terminal cuts at its width; a CI log keeps the whole reason
        width = shutil.get_terminal_size((100, 24)).columns if sys.stdout.isatty() else 200
    if colour is None:
        colour = use_colour()
    verdicts = _verdicts(result)
    ran = sum(1 for r in result.runs if r.end != "unsupported" or r.events)
    counts = {k: sum(1 for v in verdicts if v.verdict == k) for k in ("pass", "fail", "skip")}
    receiver = f"; receiver: {result.receiver}" if result.receiver else ""
    lines = [
        f"vexa-harness conform: {result.client}{receiver}",
        f"profile {profile_label(result.profiles)}, seed {result.seed}, {ran} run(s) in "
        f"{result.duration:.1f} s — {counts['pass']} pass, {counts['fail']} fail, "
        f"{counts['skip']} skip",
        "",
    ]
    rule_width = max(len(v.rule) for v in verdicts)
    for verdict in verdicts:
        mark = f"{_MARKS[verdict.verdict]:<4}"
        head = f"{verdict.rule:<{rule_width}}  {mark}  "
        reason = _one_line(verdict.reason, max(20, width - len(head)))
        if colour:
            mark = f"\x1b[{_COLOURS[verdict.verdict]}m{mark}\x1b[0m"
        lines.append(f"{verdict.rule:<{rule_width}}  {mark}  {reason}")
    unsupported = sorted(
        {r.operation for r in result.runs if r.end == "unsupported" and r.operation != "recorded"}
    )
    if unsupported:
        lines += ["", f"not supported by the client: {', '.join(unsupported)}"]
    return "\n".join(lines)


def _run_index(result: Result) -> dict[tuple[str, int], Run]:
    return {(run.scenario, run.seed): run for run in result.runs}


def _evidence_json(evidence: Evidence, runs: dict[tuple[str, int], Run]) -> dict[str, Any]:
    run = runs.get((evidence.scenario, evidence.seed))
    return {
        "scenario": evidence.scenario,
        "profile": run.profile if run else None,
        "seed": evidence.seed,
        "summary": evidence.summary,
        "events": [asdict(event) for event in evidence.events],
    }


def _run_json(run: Run) -> dict[str, Any]:
    requests = sum(1 for e in run.events if e.type == "request")
    return {
        "scenario": run.scenario,
        "operation": run.operation,
        "profile": run.profile,
        "seed": run.seed,
        "feeds": list(run.feeds),
        "facts": run.facts,
        "end": run.end,
        "detail": run.detail,
        "requests": requests,
        "virtual_time": run.virtual_time,
    }


def json_report(result: Result, *, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``--report-json`` document."""
    runs = _run_index(result)
    budgets = result.budgets
    return {
        "seed": result.seed,
        "profile": profile_label(result.profiles),
        "rules": [
            {
                "id": verdict.rule,
                "verdict": verdict.verdict,
                "reason": verdict.reason,
                "evidence": [_evidence_json(e, runs) for e in verdict.evidence],
            }
            for verdict in _verdicts(result)
        ],
        "passed": not result.failed,
        "client": result.client,
        "receiver": result.receiver,
        "profiles": list(result.profiles),
        "budgets": {
            "max_attempts": budgets.max_attempts,
            "max_retry_time": budgets.max_retry_time,
            "timeout_budget": budgets.timeout_budget,
            "webhook_ack_budget": budgets.webhook_ack_budget,
        },
        "supported": {profile: list(ops) for profile, ops in result.supported.items()},
        "duration": round(result.duration, 3),
        "runs": [_run_json(run) for run in result.runs],
        **(extra or {}),
    }


def write_json(result: Result, path: str, **extra: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(json_report(result, extra=extra or None), handle, indent=2, sort_keys=False)
        handle.write("\n")


# ---------------------------------------------------------------------- JUnit


def _evidence_text(evidence: Evidence, runs: dict[tuple[str, int], Run]) -> str:
    run = runs.get((evidence.scenario, evidence.seed))
    where = f"{evidence.scenario} [{run.profile}]" if run else evidence.scenario
    lines = [f"{where}, seed {evidence.seed}: {evidence.summary}"]
    t0 = run.events[0].at if run and run.events else 0.0
    for event in evidence.events:
        fields = {k: v for k, v in asdict(event).items() if k not in ("type", "at", "exchange")}
        shown = ", ".join(f"{k}={v}" for k, v in fields.items() if v not in (None, "", ()))
        lines.append(f"  +{event.at - t0:.3f}s #{event.exchange} {event.type}: {shown}")
    return "\n".join(lines)


def junit_report(result: Result) -> str:
    """JUnit XML: a testcase per rule × scenario × profile, evidence in the failures."""
    runs = _run_index(result)
    suite = ET.Element("testsuite", name="vexa-harness conform")
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("client", result.client),
        ("seed", str(result.seed)),
        ("profile", profile_label(result.profiles)),
    ):
        ET.SubElement(props, "property", name=name, value=clean_text(value))
    if result.receiver:
        ET.SubElement(props, "property", name="receiver", value=clean_text(result.receiver))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for verdict in _verdicts(result):
        feeding: dict[tuple[str, str], list[Run]] = {}
        for run in result.runs:
            if verdict.rule in run.feeds:
                feeding.setdefault((run.scenario, run.profile), []).append(run)
        blamed: dict[tuple[str, str], list[Evidence]] = {}
        for evidence in verdict.evidence:
            shown = runs.get((evidence.scenario, evidence.seed))
            key = (evidence.scenario, shown.profile if shown else "")
            blamed.setdefault(key if key in feeding else ("(rule)", ""), []).append(evidence)
        cases = list(feeding)
        if not cases or (verdict.verdict == "fail" and ("(rule)", "") in blamed):
            cases.append(("(rule)", ""))  # the verdict as a whole (no scenario, or cross-run)
        for scenario, profile in cases:
            name = f"{scenario} [{profile}]" if profile else scenario
            case = ET.SubElement(suite, "testcase", classname=verdict.rule, name=name)
            totals["tests"] += 1
            members = feeding.get((scenario, profile), [])
            whole = scenario == "(rule)"
            if verdict.verdict == "fail" and ((scenario, profile) in blamed or whole):
                found = blamed.get((scenario, profile)) or list(verdict.evidence)
                message = found[0].summary if found else verdict.reason
                failure = ET.SubElement(
                    case, "failure", message=_one_line(message, 300), type=verdict.rule
                )
                text = "\n\n".join(_evidence_text(e, runs) for e in found) or verdict.reason
                failure.text = clean_text(text)
                totals["failures"] += 1
            elif verdict.verdict == "skip" or (
                members and all(r.end == "unsupported" for r in members)
            ):
                why = verdict.reason if verdict.verdict == "skip" else members[0].detail
                ET.SubElement(case, "skipped", message=_one_line(why, 300))
                totals["skipped"] += 1
    suite.set("tests", str(totals["tests"]))
    suite.set("failures", str(totals["failures"]))
    suite.set("errors", "0")
    suite.set("skipped", str(totals["skipped"]))
    suite.set("time", f"{result.duration:.3f}")
    root = ET.Element("testsuites", name="vexa-harness conform")
    for total in ("tests", "failures", "errors", "skipped", "time"):
        root.set(total, suite.get(total, "0"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")


# ---------------------------------------------------------------------- HTML


def html_report(result: Result) -> str:
    """One self-contained page: the verdicts, why each failure failed, every run's timeline."""
    from harness.report import render_html

    facts = [("client", result.client)]
    if result.receiver:
        facts.append(("receiver", result.receiver))
    facts += [
        ("profile", profile_label(result.profiles)),
        ("seed", str(result.seed)),
        ("took", f"{result.duration:.1f} s"),
    ]
    return render_html(
        _verdicts(result),
        result.runs,
        title=f"vexa-harness conform: {result.client}",
        facts=facts,
        budgets=result.budgets,
    )
