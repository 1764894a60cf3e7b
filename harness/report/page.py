"""The HTML report page: :func:`render_html`, from verdicts and runs to one self-contained file.

Read top to bottom, the page answers three questions in order. *Did the client pass?* — a
banner. *Which rule failed, and why?* — the rules table, then one box per failing rule with
the rule in one sentence, what happened in one line, and the timeline of the run that shows
it, its evidence ringed in red. *What exactly happened in run X?* — every run, grouped by
operation: failing runs open, passing ones collapsed, a filter bar (status, profile, text)
for reports with hundreds of runs. Every evidence link opens its run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Sequence
from html import escape

from harness.conformance.verdicts import Budgets, Evidence, Run, Verdict
from harness.report.assets import CSS, DEFS, SCRIPT
from harness.report.svg import first_wait, timeline_svg
from harness.report.views import RunEntry, clean_text, end_label, entries, plan_lines, seconds

__all__ = ["RULE_TEXT", "render_html"]

#: Each rule of RULES.md in one sentence, for readers who have not read RULES.md.
RULE_TEXT = {
    "no-blind-post": "After a POST /bots whose outcome the client could not know (a cut "
    "connection, a timeout, a 5xx), it must not send another POST /bots for that meeting "
    "until a read showed that no bot runs for it — and never after a 409.",
    "no-retry-non-retryable": "After a 400, 401, 403, 404, 409 or 422 answer, the same request "
    "is not sent again.",
    "retries-transient": "A short burst of transient failures (429, 502, 503, 504, timeouts, "
    "resets) is retried until the operation succeeds.",
    "honor-retry-after": "After an answer with Retry-After, the next attempt waits at least "
    "that long.",
    "backoff-growth": "While failures continue, the waits between attempts grow "
    "exponentially (judged on the envelope of repeated runs).",
    "backoff-jitter": "The waits are randomized: the same fault plan replayed with "
    "independent seeds gives different waits.",
    "bounded-retries": "Under a persistent outage the client gives up within a bounded "
    "number of attempts and a bounded time.",
    "client-timeout": "When the server never answers, the client abandons the request within "
    "the timeout budget.",
    "webhook-fast-ack": "Every webhook delivery is answered 2xx within the ack budget.",
    "webhook-idempotent": "A duplicate delivery (same event_id) is answered 2xx and causes no "
    "second effect.",
    "webhook-order-tolerant": "Effects after an out-of-order delivery equal those after "
    "in-order delivery.",
    "webhook-signature": "With a secret set, a delivery with a missing or wrong signature, or "
    "a stale timestamp, is rejected with a 4xx and causes no effect.",
}

_LABELS = {"pass": "PASS", "fail": "FAIL", "skip": "skip", "not-run": "not run"}


def _e(text: object) -> str:
    return escape(clean_text(str(text)), quote=True)


def _badge(kind: str) -> str:
    return f'<span class="badge {kind}">{_LABELS.get(kind, kind)}</span>'


def _run_name(run: Run) -> str:
    return f"{run.scenario} [{run.profile}]"


def _rule_text(rule: str, budgets: Budgets | None) -> str:
    text = RULE_TEXT.get(rule, "")
    if budgets is None:
        return text
    if rule == "bounded-retries":
        text += (
            f" Here: at most {budgets.max_attempts} attempts within "
            f"{seconds(budgets.max_retry_time)}."
        )
    elif rule == "client-timeout":
        text += f" Here: {seconds(budgets.timeout_budget)}."
    elif rule == "webhook-fast-ack":
        text += f" Here: {seconds(budgets.webhook_ack_budget)}."
    return text


def _envelopes(runs: Sequence[Run]) -> list[float | None]:
    """``E`` of the expected backoff envelope, per run: the longest first wait of a group.

    A statistical group (repeated outage runs, ``facts["group"]``) is what ``backoff-growth``
    judges, and its ``E`` is the rule's own. Other runs borrow the ``E`` of a group of the
    same operation and profile, else of any group of the profile: the client's backoff does
    not change between scenarios. With no group at all there is no envelope to draw.
    """
    firsts: dict[str, list[float]] = {}
    for run in runs:
        group = run.facts.get("group")
        if group:
            wait = first_wait(run)
            if wait is not None:
                firsts.setdefault(str(group), []).append(wait)
    by_group = {name: max(waits) for name, waits in firsts.items()}
    by_operation: dict[tuple[str, str], float] = {}
    by_profile: dict[str, float] = {}
    for run in runs:
        group = run.facts.get("group")
        if group and str(group) in by_group:
            value = by_group[str(group)]
            by_operation.setdefault((run.operation, run.profile), value)
            by_profile.setdefault(run.profile, value)
    out: list[float | None] = []
    for run in runs:
        group = run.facts.get("group")
        own = by_group.get(str(group)) if group else None
        if own is None:
            own = by_operation.get((run.operation, run.profile), by_profile.get(run.profile))
        out.append(own)
    return out


def _legend() -> str:
    def swatch(inner: str, width: int = 22) -> str:
        return (
            f'<svg width="{width}" height="16" viewBox="0 -8 {width} 16" aria-hidden="true" '
            f'class="timeline swatch" style="display:inline;width:{width}px;margin:0">{inner}</svg>'
        )

    items = [
        (swatch('<circle class="m ok" cx="11" cy="0" r="5"/>'), "2xx answer"),
        (swatch('<circle class="m c4xx" cx="11" cy="0" r="5"/>'), "4xx answer"),
        (swatch('<circle class="m s5xx" cx="11" cy="0" r="5"/>'), "5xx answer"),
        (
            swatch('<path class="m cut" d="M6.5 -4.5 L15.5 4.5 M6.5 4.5 L15.5 -4.5"/>'),
            "connection cut (reset, close, timeout)",
        ),
        (swatch('<circle class="m open" cx="11" cy="0" r="5"/>'), "never answered"),
        (swatch('<circle class="hl" cx="11" cy="0" r="7"/>'), "evidence of a failing rule"),
        (swatch('<rect class="ra" x="1" y="-7" width="40" height="14"/>', 42), "Retry-After"),
        (
            swatch('<rect class="env" x="1" y="-7" width="40" height="14"/>', 42),
            "expected backoff envelope (n-th wait ≤ E·2ⁿ⁻¹)",
        ),
        (swatch('<rect class="fx" x="6" y="-4.5" width="9" height="9" fill="#8250df"/>'),
         "side effect (bot created…)"),
    ]  # fmt: skip
    inner = "".join(f"<span>{svg} {_e(text)}</span>" for svg, text in items)
    return (
        f'<div class="legend">{inner}<span>⚡ injected fault (before/after commit); '
        "marks closer than a few pixels are spread apart — hover a mark for exact times"
        "</span></div>"
    )


def _rules_table(
    verdicts: Sequence[Verdict],
    links: dict[tuple[str, int], int],
    runs: Sequence[Run],
    budgets: Budgets | None,
) -> str:
    rows = []
    for verdict in verdicts:
        anchors = []
        seen: set[int] = set()
        for position, _ in enumerate(verdict.evidence):
            index = links.get((verdict.rule, position))
            if index is None or index in seen:
                continue
            seen.add(index)
            run = runs[index]
            anchors.append(f'<a href="#run-{index}" class="evidence-link">{_e(_run_name(run))}</a>')
        shown = ", ".join(anchors[:4]) + (f" … +{len(anchors) - 4}" if len(anchors) > 4 else "")
        if verdict.verdict == "fail" and not anchors and verdict.evidence:
            shown = f'<a href="#why-{_e(verdict.rule)}">evidence</a>'
        rule = (
            f'<a href="#why-{_e(verdict.rule)}">{_e(verdict.rule)}</a>'
            if verdict.verdict == "fail"
            else _e(verdict.rule)
        )
        rows.append(
            f'<tr class="{verdict.verdict}" id="rule-{_e(verdict.rule)}">'
            f'<td class="id" title="{_e(_rule_text(verdict.rule, budgets))}"><code>{rule}</code>'
            f"</td><td>{_badge(verdict.verdict)}</td><td>{_e(verdict.reason)}</td>"
            f'<td class="links">{shown}</td></tr>'
        )
    return (
        "<table><thead><tr><th>rule</th><th>verdict</th><th>why</th>"
        f"<th>shown in</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _detail(run: Run) -> str:
    """The client's own words, when it did not succeed (a success prints its result JSON)."""
    if not run.detail or run.end == "succeeded":
        return ""
    return ": " + _clip(run.detail)


def _clip(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


_SCENARIO_PREFIX = re.compile(r"^\S+ \(seed \d+\): ")


def _what_happened(evidence: Evidence) -> str:
    """The evidence's headline without its ``scenario (seed N):`` prefix."""
    return _SCENARIO_PREFIX.sub("", evidence.summary.split("\n", 1)[0], count=1)


def _why(
    verdict: Verdict,
    links: dict[tuple[str, int], int],
    items: Sequence[RunEntry],
    envelopes: Sequence[float | None],
    budgets: Budgets | None,
) -> str:
    runs = [entry.run for entry in items]
    parts = [
        f'<article class="why" id="why-{_e(verdict.rule)}">',
        f"<h3>{_badge('fail')} <code>{_e(verdict.rule)}</code></h3>",
        f'<p class="must"><b>The rule:</b> {_e(_rule_text(verdict.rule, budgets))}</p>',
    ]
    if verdict.evidence:
        first = verdict.evidence[0]
        parts.append(f'<p class="what"><b>What happened:</b> {_e(_what_happened(first))}</p>')
        index = links.get((verdict.rule, 0))
        if index is not None:
            run = runs[index]
            ended = items[index].note or end_label(run) + _detail(run)
            parts.append(
                f'<p>In run <a href="#run-{index}">{_e(_run_name(run))}</a>, seed {run.seed} '
                f"— {_e(ended)}</p>"
            )
            planned = plan_lines(run.plan)
            if planned:
                parts.append(f"<p><b>Faults planned:</b> {_e('; '.join(planned))}</p>")
            parts.append(
                timeline_svg(
                    run,
                    highlight=frozenset(e.exchange for e in first.events),
                    envelope_base=envelopes[index],
                    budgets=budgets,
                    caption=f"{verdict.rule}: timeline of {_run_name(run)}",
                )
            )
        others = {
            links[(verdict.rule, i)]
            for i in range(len(verdict.evidence))
            if (verdict.rule, i) in links
        }
        if len(others) > 1:
            anchors = ", ".join(
                f'<a href="#run-{i}">{_e(_run_name(runs[i]))}</a>' for i in sorted(others)
            )
            parts.append(f"<p>Also shown in: {anchors}</p>")
        text = "\n\n".join(e.summary for e in verdict.evidence)
        parts.append(
            '<details class="evidence"><summary>the evidence, event by event '
            f'(times relative to each run\'s start)</summary><pre class="evidence">{_e(text)}'
            "</pre></details>"
        )
    else:
        parts.append(f'<p class="what">{_e(verdict.reason)}</p>')
    parts.append("</article>")
    return "".join(parts)


def _run(entry: RunEntry, envelope: float | None, budgets: Budgets | None) -> str:
    run = entry.run
    requests = sum(1 for e in run.events if e.type == "request")
    faults = sum(1 for e in run.events if e.type == "fault")
    span = run.events[-1].at - run.events[0].at if run.events else 0.0
    outcome = entry.note or end_label(run)
    blame = (
        f' — <span class="blame">fails {_e(", ".join(entry.rules))}</span>' if entry.rules else ""
    )
    summary = (
        f"<summary>{_badge(entry.status)} <code>{_e(run.scenario)}</code> "
        f'<span class="meta">[{_e(run.profile)}] seed {run.seed} · {_e(outcome)} · '
        f"{requests} request{'s' if requests != 1 else ''} · {faults} fault"
        f"{'s' if faults != 1 else ''} · {seconds(span)}</span>{blame}</summary>"
    )
    body = ['<div class="run-body">']
    plan = plan_lines(run.plan)
    if plan:
        items = "".join(f"<li>{_e(line)}</li>" for line in plan)
        body.append(f"<p><b>Faults planned</b> (seed {run.plan.get('seed', run.seed)}):</p>")
        body.append(f"<ul>{items}</ul>")
    else:
        body.append('<p class="muted">No faults planned.</p>')
    for rule, evidence in entry.blamed:
        body.append(f'<p><span class="blame">{_e(rule)}</span>: {_e(_what_happened(evidence))}</p>')
    svg = timeline_svg(run, highlight=entry.highlight, envelope_base=envelope, budgets=budgets)
    body.append(svg or '<p class="muted">No requests reached the fake.</p>')
    detail = f": {_e(run.detail)}" if run.detail else ""
    body.append(f"<p><b>Client:</b> {_e(end_label(run))}{detail}</p>")
    if run.facts:
        facts = json.dumps(run.facts, sort_keys=True, default=str)
        body.append(f'<p class="muted">Scenario facts: <code>{_e(facts)}</code></p>')
    body.append("</div>")
    text = " ".join(
        (run.scenario, run.operation, run.profile, str(run.seed), run.end, outcome, run.detail,
         *entry.rules)
    ).lower()  # fmt: skip
    opened = " open" if entry.status == "fail" else ""
    return (
        f'<details class="run {entry.status}" id="{entry.anchor}" data-status="{entry.status}" '
        f'data-profile="{_e(run.profile)}" data-op="{_e(run.operation)}" '
        f'data-text="{_e(text)}"{opened}>{summary}{"".join(body)}</details>'
    )


def _filters(items: Sequence[RunEntry]) -> str:
    counts = Counter(entry.status for entry in items)
    choices = [("all", "all", len(items))] + [
        (status, _LABELS[status].lower(), counts[status])
        for status in ("fail", "pass", "not-run")
        if counts[status]
    ]
    radios = "".join(
        f'<label><input type="radio" name="vx-status" value="{value}"'
        f"{' checked' if value == 'all' else ''}> {label} ({n})</label> "
        for value, label, n in choices
    )
    profiles = sorted({entry.run.profile for entry in items})
    options = "".join(f'<option value="{_e(p)}">{_e(p)}</option>' for p in profiles)
    profile = (
        f'<select id="vx-profile" aria-label="profile"><option value="">every profile</option>'
        f"{options}</select>"
        if len(profiles) > 1
        else ""
    )
    return (
        '<div class="filters"><input type="search" id="vx-q" placeholder="filter: scenario, '
        f'operation, seed, rule…" aria-label="filter runs"> <span>show: {radios}</span>'
        f'{profile}<button type="button" id="vx-expand">expand all</button>'
        '<button type="button" id="vx-collapse">collapse all</button>'
        f'<span class="count" id="vx-count">{len(items)} runs</span></div>'
    )


def render_html(
    verdicts: Sequence[Verdict],
    runs: Sequence[Run],
    *,
    title: str = "vexa-harness report",
    facts: Sequence[tuple[str, str]] = (),
    budgets: Budgets | None = None,
    notes: Sequence[str | None] = (),
    group: Callable[[Run], str] | None = None,
    runs_heading: str = "Runs",
    noun: str = "run",
) -> str:
    """The whole report as one HTML document (a string; nothing is read or fetched).

    ``facts``: label/value pairs for the header (client, profile, seed…). ``budgets``: the
    limits the rules judged against (shown with their rules, and as marks on timelines).
    ``notes``: per run, replaces the client's end in its header (the pytest report puts the
    test outcome there). ``group``: the heading a run is listed under (default: operation).
    ``runs_heading`` and ``noun`` name the runs (the pytest report: "Tests", "test").
    """
    items, links = entries(verdicts, runs, notes)
    envelopes = _envelopes(runs)
    failed = [v for v in verdicts if v.verdict == "fail"]
    counts = Counter(v.verdict for v in verdicts)
    if failed:
        ids = ", ".join(v.rule for v in failed)
        headline = f"FAIL — {len(failed)} of {len(verdicts)} rules failed: {ids}"
    elif counts["pass"]:
        headline = f"PASS — {counts['pass']} rules passed, {counts['skip']} skipped"
    else:
        headline = f"no rule could be judged ({counts['skip']} skipped)"
    ends = Counter(entry.note or end_label(entry.run) for entry in items)
    tally = ", ".join(f"{n} {what}" for what, n in ends.most_common())
    fact_line = " · ".join(f"{_e(k)}: <b>{_e(v)}</b>" for k, v in facts)
    if budgets is not None:
        fact_line += (
            f" · budgets: {budgets.max_attempts} attempts / {seconds(budgets.max_retry_time)}, "
            f"timeout {seconds(budgets.timeout_budget)}, webhook ack "
            f"{seconds(budgets.webhook_ack_budget)}"
        )
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(('FAIL ' if failed else '') + title)}</title>",
        f"<style>{CSS}</style></head><body>",
        DEFS,
        f'<header class="banner {"fail" if failed else "pass"}"><h1>{_e(headline)}</h1>',
        f"<p>{fact_line}</p>" if fact_line else f"<p>{_e(title)}</p>",
        f"<p>{len(runs)} {_e(noun)}{'s' if len(runs) != 1 else ''}: {_e(tally) or 'none'}</p>",
        "</header><main>",
        '<section id="rules"><h2>Rules</h2>',
        _rules_table(verdicts, links, runs, budgets),
        "</section>",
    ]
    if failed:
        parts.append('<section id="why"><h2>Why it failed</h2>')
        parts.append(_legend())
        parts.extend(_why(v, links, items, envelopes, budgets) for v in failed)
        parts.append("</section>")
    parts.append(f'<section id="runs"><h2>{_e(runs_heading)}</h2>')
    if items:
        parts.append(_filters(items))
        parts.append(_legend())
        grouped: dict[str, list[RunEntry]] = {}
        for entry in items:
            key = group(entry.run) if group is not None else entry.run.operation
            grouped.setdefault(key, []).append(entry)
        for name, members in grouped.items():
            bad = sum(1 for m in members if m.status == "fail")
            note = f", {bad} failing" if bad else ""
            parts.append(
                f'<div class="op-group"><h3><code>{_e(name)}</code> <small>{len(members)} '
                f"run{'s' if len(members) != 1 else ''}{note}</small></h3>"
            )
            parts.extend(_run(m, envelopes[m.index], budgets) for m in members)
            parts.append("</div>")
    else:
        parts.append('<p class="muted">No runs.</p>')
    parts.append("</section>")
    parts.append(
        "<footer>Generated by vexa-harness. Times are on the harness clock; each timeline "
        "starts at its run's first event. Self-contained: this file fetches nothing.</footer>"
    )
    parts.append(f"</main><script>{SCRIPT}</script></body></html>\n")
    return "\n".join(parts)
