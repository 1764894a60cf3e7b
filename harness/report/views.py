"""What the report shows about each run, before anything is drawn: status, blame, words.

A failing verdict carries evidence (scenario, seed, the journal events that show it); the
page links each piece to the run it came from, so a person goes from "no-blind-post FAIL"
to the timeline that shows the second ``POST /bots`` in one click. Evidence names its run by
scenario and seed (unique in a conformance job); when several runs share both (a recorded
journal judged by several facts), the events themselves decide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.conformance.verdicts import Evidence, Run, Verdict
from harness.journal import Event

__all__ = [
    "RunEntry",
    "RunStatus",
    "clean_text",
    "end_label",
    "entries",
    "fault_label",
    "plan_lines",
    "seconds",
]

RunStatus = Literal["fail", "pass", "not-run"]

#: Characters XML 1.0 (and so an HTML page or JUnit file) cannot carry: a client's stderr may
#: hold them (ANSI colours, NULs, a half-written UTF-8 sequence replaced by a surrogate).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def clean_text(text: str) -> str:
    """``text`` without ANSI escape sequences and without characters XML 1.0 forbids."""
    return _ILLEGAL.sub("\ufffd", _ANSI.sub("", text))


def seconds(value: float) -> str:
    """``3.21 s``, ``0.4 s``, ``12 ms``, ``0 s``: short, never rounding a wait to nothing."""
    if value == 0:
        return "0 s"
    if abs(value) >= 10:
        return f"{value:.1f}".rstrip("0").rstrip(".") + " s"
    if abs(value) >= 0.01:
        return f"{value:.3f}".rstrip("0").rstrip(".") + " s"
    return f"{value * 1000:.2g} ms"


@dataclass(frozen=True, slots=True)
class RunEntry:
    """One run as the page shows it: where it sits, whether a rule blames it, and for what."""

    index: int
    run: Run
    status: RunStatus
    #: (rule id, evidence) for every failing verdict whose evidence points at this run.
    blamed: tuple[tuple[str, Evidence], ...] = ()
    #: Overrides the client's end in the run's header (the pytest report: the test outcome).
    note: str | None = None

    @property
    def anchor(self) -> str:
        return f"run-{self.index}"

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(rule for rule, _ in self.blamed))

    @property
    def highlight(self) -> frozenset[int]:
        """Exchanges the evidence names (drawn with a red ring)."""
        return frozenset(e.exchange for _, ev in self.blamed for e in ev.events if e.exchange)


def _event_key(event: Event) -> tuple[str, int, float]:
    return (event.type, event.exchange, event.at)


def locate(evidence: Evidence, runs: Sequence[Run], by_event: Mapping[Any, list[int]]) -> int:
    """The index of the run ``evidence`` came from, or -1 when none matches."""
    same = [
        i
        for i, run in enumerate(runs)
        if (run.scenario, run.seed) == (evidence.scenario, evidence.seed)
    ]
    if evidence.events:
        holding = set(by_event.get(_event_key(evidence.events[0]), ()))
        both = [i for i in same if i in holding]
        if both:
            return both[0]
        if not same and holding:
            return min(holding)
    return same[0] if same else -1


def entries(
    verdicts: Sequence[Verdict], runs: Sequence[Run], notes: Sequence[str | None] = ()
) -> tuple[list[RunEntry], dict[tuple[str, int], int]]:
    """Every run as a :class:`RunEntry`, and where each evidence item points.

    The second value maps ``(rule id, evidence position)`` to a run index, for the links of
    the rules table (a missing key: the evidence came from no run, e.g. a webhook receiver).
    """
    by_event: dict[tuple[str, int, float], list[int]] = {}
    for i, run in enumerate(runs):
        for event in run.events:
            holders = by_event.setdefault(_event_key(event), [])
            if not holders or holders[-1] != i:
                holders.append(i)
    blamed: dict[int, list[tuple[str, Evidence]]] = {}
    links: dict[tuple[str, int], int] = {}
    for verdict in verdicts:
        if verdict.verdict != "fail":
            continue
        for position, evidence in enumerate(verdict.evidence):
            found = locate(evidence, runs, by_event)
            if found >= 0:
                links[(verdict.rule, position)] = found
                blamed.setdefault(found, []).append((verdict.rule, evidence))
    out = []
    for i, run in enumerate(runs):
        status: RunStatus = (
            "fail" if i in blamed else "not-run" if run.end == "unsupported" else "pass"
        )
        note = notes[i] if i < len(notes) else None
        out.append(RunEntry(i, run, status, tuple(blamed.get(i, ())), note))
    return out, links


_ENDS = {
    "succeeded": "the client succeeded",
    "gave_up": "the client gave up",
    "unsupported": "not run: the client does not support the operation",
    "crashed": "the client crashed",
    "hung": "the client hung and was stopped",
    "garbage": "the client printed garbage",
}


def end_label(run: Run) -> str:
    """How the client's own attempt at the operation ended, in words."""
    return _ENDS.get(run.end, run.end)


def _phase(phase: str | None) -> str:
    return (phase or "before_commit").replace("_", " ")


def fault_label(fault: Mapping[str, Any], phase: str | None) -> str:
    """An injected fault in a few words: ``503 · before commit``, ``reset · after commit``."""
    kind = str(fault.get("kind", "?"))
    if kind == "status":
        text = str(fault.get("status", "?"))
        if fault.get("retry_after") is not None:
            text += f" + Retry-After {fault['retry_after']}"
    elif kind == "delay":
        text = f"delay {seconds(float(fault.get('seconds', 0)))}"
        if fault.get("max_seconds") is not None:
            text += f"–{seconds(float(fault['max_seconds']))}"
    elif kind == "hang":
        text = "hang" if fault.get("seconds") is None else f"hang {seconds(fault['seconds'])}"
    elif kind == "slow_body":
        text = f"slow body {seconds(float(fault.get('seconds', 0)))}"
    elif kind == "rate_limit":
        text = "rate limited"
    else:
        text = kind.replace("_", " ")
    return f"{text} · {_phase(phase)}"


def _schedule(on: Mapping[str, Any] | None) -> str:
    if not on:
        return "every time"
    parts = []
    if "calls" in on:
        parts.append("call " + ", ".join(str(c) for c in on["calls"]))
    if "attempts" in on:
        parts.append("attempt " + ", ".join(str(c) for c in on["attempts"]))
    if "first" in on:
        parts.append(f"the first {on['first']}")
    if "every" in on:
        parts.append(f"every {on['every']}th")
    if "probability" in on:
        parts.append(f"with probability {on['probability']}")
    if "after" in on or "before" in on:
        parts.append(f"between {on.get('after', 0)} s and {on.get('before', '∞')} s")
    return ", ".join(parts) or "every time"


def plan_lines(plan: Mapping[str, Any]) -> list[str]:
    """The fault plan of a run, one rule per line: ``POST /bots, call 1: reset · after commit``."""
    lines = []
    for rule in plan.get("rules", ()) or ():
        match = rule.get("match") or {}
        where = match.get("path") or match.get("path_regex") or "any path"
        fault = fault_label(rule.get("fault") or {}, rule.get("phase"))
        method = match.get("method") or "any"
        lines.append(f"{method} {where}, {_schedule(rule.get('on'))}: {fault}")
    limit = plan.get("rate_limit")
    if limit:
        lines.append(f"rate limit: {limit.get('limit')} per {limit.get('window', 60)} s per key")
    return lines
