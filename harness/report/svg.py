"""One run's timeline as inline SVG, on the harness-clock axis.

One lane per logical operation (the journal's ``operation``: same key, method, path and, for
``POST /bots``, meeting), then a lane of side effects (bots created…) and one of webhook
deliveries when there are any. In a lane, each attempt is a mark where its request arrived,
coloured by how it ended (2xx green, 4xx amber, 5xx red, a cut connection a red ✕, no end a
hollow ring); an injected fault is labelled above it with its phase (before/after commit).
Between attempts, the wait is a dashed line; behind it, the ``Retry-After`` window the answer
asked for (hatched red: an attempt inside it broke ``honor-retry-after``) and the expected
full-jitter backoff envelope (light blue: the n-th wait within ``E·2ⁿ⁻¹``, ``E`` the longest
first wait of the run's group, as ``backoff-growth`` judges it).

Pure: events in, a string out. Labels that would overlap are stacked in rows, and dropped
when no row is free — every mark keeps its full description in a tooltip (``<title>``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape

from harness.conformance.timeline import (
    Attempt,
    Timeline,
    failing_prefix,
    lower_gaps,
    retry_after_seconds,
)
from harness.conformance.verdicts import Budgets, Run
from harness.journal import CommitEvent, WebhookEvent
from harness.report.views import fault_label, seconds

__all__ = ["first_wait", "timeline_svg"]

WIDTH = 1000
LABEL_WIDTH = 196
X0 = 206
X1 = WIDTH - 18
ROW = 13  # height of one row of labels
CHAR = 6.2  # estimated width of one character of an 11 px label
CHAR_BOLD = 6.8
MIN_MARK_SPACING = 12.0  # marks closer than this are spread apart (the tooltip keeps the time)
MAX_ROWS_ABOVE = 3
MAX_ROWS_BELOW = 2
AXIS_HEIGHT = 34

OK, CLIENT_ERROR, SERVER_ERROR, CUT, OPEN = "ok", "c4xx", "s5xx", "cut", "open"


def _q(text: object) -> str:
    return escape(str(text), quote=True)


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


@dataclass(slots=True)
class _Rows:
    """Greedy row assignment for labels: the first row where the label does not overlap."""

    limit: int
    rows: list[list[tuple[float, float]]] = field(default_factory=list)

    def place(self, left: float, right: float) -> int | None:
        for i, taken in enumerate(self.rows):
            if all(right + 4 <= a or left >= b + 4 for a, b in taken):
                taken.append((left, right))
                return i
        if len(self.rows) < self.limit:
            self.rows.append([(left, right)])
            return len(self.rows) - 1
        return None

    @property
    def used(self) -> int:
        return len(self.rows)


@dataclass(slots=True)
class _Label:
    x: float
    text: str
    cls: str
    above: bool
    tip: str = ""
    row: int | None = None

    def span(self) -> tuple[float, float]:
        width = len(self.text) * (CHAR_BOLD if self.cls.startswith("lf") else CHAR)
        left = min(max(self.x - width / 2, X0 - 4), X1 + 14 - width)
        return left, left + width


@dataclass(slots=True)
class _Lane:
    title: str
    tip: str
    shapes: list[str] = field(default_factory=list)  # drawn relative to the lane's mark line
    backdrop: list[str] = field(default_factory=list)  # behind the marks (windows, envelopes)
    labels: list[_Label] = field(default_factory=list)
    above: _Rows = field(default_factory=lambda: _Rows(MAX_ROWS_ABOVE))
    below: _Rows = field(default_factory=lambda: _Rows(MAX_ROWS_BELOW))

    def label(self, x: float, text: str, cls: str, *, above: bool, tip: str = "") -> None:
        self.labels.append(_Label(x, text, cls, above, tip))

    def layout(self) -> None:
        # fault labels and outcomes first, then the waits, each group left to right
        order = sorted(self.labels, key=lambda lb: (lb.cls.startswith("lw"), lb.x))
        for lb in order:
            left, right = lb.span()
            lb.row = (self.above if lb.above else self.below).place(left, right)

    @property
    def height(self) -> float:
        return 8 + self.above.used * ROW + 18 + self.below.used * ROW + 6

    @property
    def mark_y(self) -> float:
        return 8 + self.above.used * ROW + 9


class _Scale:
    def __init__(self, span: float) -> None:
        self.span = span

    def x(self, t: float) -> float:
        return X0 + (X1 - X0) * min(max(t, 0.0), self.span) / self.span


def _outcome(attempt: Attempt) -> str:
    if attempt.cut is not None:
        return CUT
    status = attempt.status
    if status is None:
        return OPEN
    if status < 400:
        return OK
    return CLIENT_ERROR if status < 500 else SERVER_ERROR


def _outcome_text(attempt: Attempt) -> str:
    if attempt.cut is not None:
        return attempt.cut.how.replace("_", " ")
    if attempt.answer is not None:
        return str(attempt.answer.status)
    return "no answer"


def _read_text(attempt: Attempt) -> str:
    read = attempt.clean_read
    if read is None:
        return ""
    return " · saw a live bot" if read.running else " · saw no live bot"


def _describe(attempt: Attempt, rel: float, end: float | None) -> str:
    r = attempt.request
    lines = [
        f"#{attempt.number} {r.method} {r.path}{'?' + r.query if r.query else ''}",
        f"arrived t={seconds(rel)} (attempt {r.attempt} of this operation)",
    ]
    for fault in attempt.faults:
        lines.append(f"injected: {fault_label(fault.fault, fault.phase)} [{fault.rule}]")
    for commit in attempt.commits:
        lines.append(f"committed: {commit.effect.replace('_', ' ')} (meeting {commit.meeting_id})")
    for read in attempt.reads:
        running = ", ".join(read.running) or "none"
        lines.append(f"read: running {running}")
    ended = f"t={seconds(end)}" if end is not None else "never"
    lines.append(f"ended: {_outcome_text(attempt)} at {ended}")
    if attempt.answer is not None and attempt.answer.retry_after is not None:
        lines.append(f"Retry-After: {attempt.answer.retry_after}")
    return "\n".join(lines)


def _busy(x: float, x_end: float, dashed: str) -> str:
    """The bar of an exchange that took time (a delay, a hang, a slow body, a webhook)."""
    width = _n(x_end - x)
    return f'<rect class="busy{dashed}" x="{_n(x)}" y="-2" width="{width}" height="4"/>'


def _mark(kind: str, x: float, *, hl: bool) -> str:
    ring = f'<circle class="hl" cx="{_n(x)}" cy="0" r="9"/>' if hl else ""
    if kind == CUT:
        d = f"M{_n(x - 4.5)} -4.5 L{_n(x + 4.5)} 4.5 M{_n(x - 4.5)} 4.5 L{_n(x + 4.5)} -4.5"
        return f'{ring}<path class="m {kind}" d="{d}"/>'
    return f'{ring}<circle class="m {kind}" cx="{_n(x)}" cy="0" r="5"/>'


def first_wait(run: Run) -> float | None:
    """The first wait of the run's main chain (no ``Retry-After`` before it), if it has one."""
    timeline = Timeline.of(run)
    chain = failing_prefix(timeline.main_chain())
    gaps = lower_gaps(chain)
    if not gaps or (chain[0].answer is not None and chain[0].answer.retry_after):
        return None
    return gaps[0]


def _attempt_lane(
    lane: _Lane,
    chain: Sequence[Attempt],
    timeline: Timeline,
    scale: _Scale,
    *,
    highlight: frozenset[int],
    budgets: Budgets | None,
) -> None:
    last_x = -math.inf
    placed: list[tuple[Attempt, float, float]] = []  # attempt, x of arrival, x of end
    for attempt in chain:
        start = timeline.rel(attempt.start)
        x = max(scale.x(start), last_x + MIN_MARK_SPACING)
        end = attempt.end
        x_end = X1 if end is None else max(x, scale.x(timeline.rel(end)))
        last_x = x_end if x_end - x > MIN_MARK_SPACING else x
        placed.append((attempt, x, x_end))

    # behind: the Retry-After window each answer asked for
    for attempt, _x, x_end in placed:
        answer = attempt.answer
        if answer is None or not answer.retry_after:
            continue
        asked = retry_after_seconds(answer.retry_after, answer.at)
        if asked:
            answered = timeline.rel(answer.at)
            right = scale.x(answered + asked)
            lane.backdrop.append(
                f'<rect class="ra" x="{_n(x_end)}" y="-11" width="{_n(max(1.0, right - x_end))}"'
                f' height="22"><title>Retry-After: {_q(answer.retry_after)} — no attempt before '
                f"t={_q(seconds(answered + asked))}</title></rect>"
            )

    for i, (attempt, x, x_end) in enumerate(placed):
        rel = timeline.rel(attempt.start)
        finished = attempt.end
        rel_end = timeline.rel(finished) if finished is not None else None
        kind = _outcome(attempt)
        hl = attempt.number in highlight
        tip = _describe(attempt, rel, rel_end)
        parts = [f'<g class="att{" evidence" if hl else ""}" data-exchange="{attempt.number}">']
        parts.append(f"<title>{_q(tip)}</title>")
        if x_end - x > 1:
            dashed = " open" if finished is None else ""
            parts.append(_busy(x, x_end, dashed))
            parts.append(f'<circle class="m sent" cx="{_n(x)}" cy="0" r="3"/>')
            if finished is not None:
                parts.append(_mark(kind, x_end, hl=hl))
            elif hl:
                parts.append(f'<circle class="hl" cx="{_n(x)}" cy="0" r="9"/>')
        else:
            parts.append(_mark(kind, x, hl=hl))
        if budgets is not None and attempt.fault_kind == "hang":
            limit = rel + budgets.timeout_budget
            if limit <= scale.span:
                bx = scale.x(limit)
                parts.append(
                    f'<path class="budget" d="M{_n(bx)} -10 V10"><title>client-timeout budget: '
                    f"{_q(seconds(budgets.timeout_budget))} after the request</title></path>"
                )
        parts.append("</g>")
        lane.shapes.append("".join(parts))
        for fault in attempt.faults[:1]:
            lane.label(x, "⚡ " + fault_label(fault.fault, fault.phase), "lf", above=True, tip=tip)
        outcome = f"#{attempt.number} {_outcome_text(attempt)}{_read_text(attempt)}"
        where = x_end if finished is not None else x
        lane.label(where, outcome, f"lo {kind}", above=False, tip=tip)
        if i + 1 < len(placed):
            nxt, nx, _ = placed[i + 1]
            gap = timeline.rel(nxt.start) - (rel_end if rel_end is not None else rel)
            if nx - x_end > 3:
                lane.shapes.append(f'<path class="wait" d="M{_n(x_end)} 0 H{_n(nx)}"/>')
            ra = attempt.answer.retry_after if attempt.answer is not None else None
            asked = retry_after_seconds(ra, attempt.answer.at) if attempt.answer and ra else None
            text = f"waited {seconds(gap)}"
            cls = "lw"
            if asked is not None:
                text += f" (Retry-After {seconds(asked)})"
                if gap + 1e-6 < asked:
                    cls += " bad"
            lane.label((x_end + nx) / 2, text, cls, above=True)


CHART_HEIGHT = 64  # the bars of the waits chart
CHART_BLOCK = CHART_HEIGHT + 44  # with its title row and the retry numbers


def _waits_chart(title: str, chain: Sequence[Attempt], base: float | None, top: float) -> str:
    """The waits of one retried operation as bars, retry by retry, with what was expected.

    Behind each bar: the expected full-jitter envelope (light blue, ``E·2ⁿ⁻¹`` for retry n)
    and the ``Retry-After`` the previous answer asked for (hatched: a bar that ends inside
    it came too early). A time axis squeezes the first waits of a long outage into a few
    pixels; here every wait gets the same room.
    """
    failing = failing_prefix(chain)
    waits = lower_gaps(failing)
    asked: list[float | None] = []
    for attempt in failing[:-1]:
        answer = attempt.answer
        value = None
        if answer is not None and answer.retry_after:
            value = retry_after_seconds(answer.retry_after, answer.at)
        asked.append(value)
    envelope = [base * 2**i for i in range(len(waits))] if base else []
    data = max([*waits, *(a for a in asked if a is not None)], default=0.0)
    roof = max(envelope, default=0.0)
    ymax = max(data, min(roof, 2 * data) if data > 0 else roof) * 1.15 or 1.0
    slot = min(64.0, (X1 - X0) / max(1, len(waits)))
    y0 = top + 18 + CHART_HEIGHT

    def h(value: float) -> float:
        return CHART_HEIGHT * min(max(value, 0.0), ymax) / ymax

    out = [
        f'<g class="waits"><text class="chart-title" x="8" y="{_n(top + 30)}">waits before'
        f'<tspan x="8" dy="13">each retry of</tspan><tspan x="8" dy="13">{_q(title[:30])}</tspan>'
        "</text>",
        f'<text class="tick" x="{_n(X0 - 14)}" y="{_n(top + 22)}">{_q(seconds(ymax))}</text>',
        f'<text class="tick" x="{_n(X0 - 14)}" y="{_n(y0 + 3)}">0</text>',
        f'<path class="axis" d="M{X0} {_n(y0)} H{_n(X0 + slot * len(waits))}"/>',
    ]
    for i, wait in enumerate(waits):
        cx = X0 + slot * (i + 0.5)
        if envelope:
            eh = h(envelope[i])
            clipped = " (off the chart)" if envelope[i] > ymax else ""
            out.append(
                f'<rect class="env" x="{_n(cx - slot * 0.36)}" y="{_n(y0 - eh)}" '
                f'width="{_n(slot * 0.72)}" height="{_n(eh)}"><title>expected envelope before '
                f"retry {i + 1}: up to {_q(seconds(envelope[i]))}{clipped} (E·2^{i}, "
                f"E = {_q(seconds(base or 0))})</title></rect>"
            )
        early = False
        if asked[i] is not None:
            ah = h(asked[i] or 0.0)
            early = wait + 1e-6 < (asked[i] or 0.0)
            out.append(
                f'<rect class="ra" x="{_n(cx - slot * 0.36)}" y="{_n(y0 - ah)}" '
                f'width="{_n(slot * 0.72)}" height="{_n(ah)}"><title>Retry-After asked for '
                f"{_q(seconds(asked[i] or 0.0))}</title></rect>"
            )
        bh = max(h(wait), 1.5)
        cls = "bar bad" if early else "bar"
        out.append(
            f'<rect class="{cls}" x="{_n(cx - slot * 0.14)}" y="{_n(y0 - bh)}" '
            f'width="{_n(slot * 0.28)}" height="{_n(bh)}"><title>waited {_q(seconds(wait))} '
            f"before retry {i + 1} (from the end of #{failing[i].number} to the arrival of "
            f"#{failing[i + 1].number})</title></rect>"
        )
        out.append(
            f'<text class="{"bar-label bad" if early else "bar-label"}" x="{_n(cx)}" '
            f'y="{_n(y0 - bh - 3)}">{_q(seconds(wait))}</text>'
        )
        out.append(f'<text class="tick" x="{_n(cx)}" y="{_n(y0 + 13)}">{i + 1}</text>')
    out.append(
        f'<text class="axis-title" x="{_n(X0 + slot * len(waits) + 8)}" y="{_n(y0 + 3)}">'
        "retry</text></g>"
    )
    return "".join(out)


def _effects_lane(commits: Sequence[CommitEvent], timeline: Timeline, scale: _Scale) -> _Lane:
    lane = _Lane("side effects", "what the fake committed: bots created, stopped, deleted…")
    seen: dict[tuple[str, str | None, str | None], int] = {}
    last_x = -math.inf
    for commit in commits:
        key = (commit.effect, commit.platform, commit.native_meeting_id)
        seen[key] = seen.get(key, 0) + 1
        count = seen[key]
        x = max(scale.x(timeline.rel(commit.at)), last_x + MIN_MARK_SPACING)
        last_x = x
        repeated = count > 1 and commit.effect == "bot_created"
        what = commit.effect.replace("_", " ")
        meeting = f"{commit.platform}/{commit.native_meeting_id}" if commit.platform else ""
        tip = (
            f"#{commit.exchange} committed {what} at t={seconds(timeline.rel(commit.at))}"
            f" — meeting {commit.meeting_id} {meeting}".rstrip()
        )
        cls = "fx bad" if repeated else "fx"
        lane.shapes.append(
            f'<g class="{cls}"><title>{_q(tip)}</title>'
            f'<rect x="{_n(x - 4.5)}" y="-4.5" width="9" height="9"/></g>'
        )
        text = f"{_ordinal(count)} bot created" if repeated else what
        lane.label(x, f"{text} (#{commit.exchange})", "lx bad" if repeated else "lx", above=False)
    return lane


def _ordinal(n: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd"}.get(n, f"{n}th")


def _webhook_lane(events: Sequence[WebhookEvent], timeline: Timeline, scale: _Scale) -> _Lane:
    lane = _Lane("webhook deliveries", "the fake's webhook attempts and the receiver's answers")
    last_x = -math.inf
    for event in events:
        x = max(scale.x(timeline.rel(event.at)), last_x + MIN_MARK_SPACING)
        answered = event.answered_at
        x_end = max(x, scale.x(timeline.rel(answered))) if answered is not None else X1
        last_x = x_end if x_end - x > MIN_MARK_SPACING else x
        if event.status is not None:
            kind = OK if 200 <= event.status < 300 else CLIENT_ERROR
            outcome = f"{event.status}"
        else:
            kind = CUT if answered is not None else OPEN
            outcome = event.error or "in flight"
        took = f" in {seconds(answered - event.at)}" if answered is not None else ""
        note = f" [{event.adversary}]" if event.adversary else ""
        tip = (
            f"{event.event_type} (event {event.event_id}) attempt {event.attempt}{note}\n"
            f"sent t={seconds(timeline.rel(event.at))} to {event.url}\n"
            f"answer: {outcome}{took}"
        )
        parts = [f'<g class="wh"><title>{_q(tip)}</title>']
        if x_end - x > 1:
            dashed = " open" if answered is None else ""
            parts.append(_busy(x, x_end, dashed))
            parts.append(f'<circle class="m sent" cx="{_n(x)}" cy="0" r="3"/>')
        if answered is not None:
            parts.append(_mark(kind, x_end, hl=False))
        parts.append("</g>")
        lane.shapes.append("".join(parts))
        lane.label(
            x, f"{event.event_type} try {event.attempt}{note}", "lf hook", above=True, tip=tip
        )
        lane.label(x_end, f"ack {outcome}{took}", f"lo {kind}", above=False, tip=tip)
    return lane


def _ticks(span: float) -> list[float]:
    raw = span / 7
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    count = int(span / step + 1e-9)
    return [i * step for i in range(count + 1)]


def _tick_label(value: float) -> str:
    if value == 0:
        return "0"
    return seconds(value)


def _span(timeline: Timeline, runs_events_end: Iterable[float]) -> float:
    ends = [timeline.rel(e.at) for e in timeline.events]
    ends += list(runs_events_end)
    longest = max(ends, default=0.0)
    return max(longest * 1.03, 0.1)


def timeline_svg(
    run: Run,
    *,
    highlight: frozenset[int] = frozenset(),
    envelope_base: float | None = None,
    budgets: Budgets | None = None,
    caption: str = "",
) -> str:
    """The run's timeline as an ``<svg>`` element (empty string when nothing happened).

    ``highlight``: exchanges to ring in red (the evidence of a failing rule).
    ``envelope_base``: ``E`` of the expected backoff envelope, drawn behind the waits chart
    of every operation retried at least twice (None: no envelope is drawn).
    """
    timeline = Timeline.of(run)
    hooks = [e for e in timeline.events if isinstance(e, WebhookEvent)]
    if not timeline.attempts and not hooks:
        return ""
    extra: list[float] = []
    for attempt in timeline.attempts:
        answer = attempt.answer
        if answer is not None and answer.retry_after:
            asked = retry_after_seconds(answer.retry_after, answer.at)
            if asked is not None:
                extra.append(timeline.rel(answer.at) + asked)
    for hook in hooks:
        if hook.answered_at is not None:
            extra.append(timeline.rel(hook.answered_at))
    scale = _Scale(_span(timeline, extra))

    lanes: list[_Lane] = []
    charts: list[tuple[str, list[Attempt], float | None]] = []
    for operation, chain in timeline.chains().items():
        first = chain[0].request
        query = f"?{first.query}" if first.query else ""
        title = f"{first.method} {first.path}{query}"
        lane = _Lane(title, f"{title}\n(logical operation: {operation.split(' ', 1)[-1]})")
        _attempt_lane(
            lane,
            chain,
            timeline,
            scale,
            highlight=highlight,
            budgets=budgets,
        )
        lanes.append(lane)
        if len(failing_prefix(chain)) >= 3:  # two waits or more: a backoff to look at
            charts.append((title, chain, envelope_base))
    commits = timeline.commits()
    if commits:
        lanes.append(_effects_lane(commits, timeline, scale))
    if hooks:
        lanes.append(_webhook_lane(hooks, timeline, scale))

    for lane in lanes:
        lane.layout()
    charts = charts[:3]
    height = sum(lane.height for lane in lanes) + AXIS_HEIGHT + CHART_BLOCK * len(charts)
    body: list[str] = []
    ticks = _ticks(scale.span)
    lanes_height = sum(lane.height for lane in lanes)
    for t in ticks:
        x = scale.x(t)
        body.append(f'<path class="grid" d="M{_n(x)} 0 V{_n(lanes_height)}"/>')
    y = 0.0
    for number, lane in enumerate(lanes):
        body.append(f'<g class="lane" transform="translate(0 {_n(y)})">')
        stripe = " odd" if number % 2 else ""
        body.append(
            f'<rect class="stripe{stripe}" x="0" y="0" width="{WIDTH}" height="{_n(lane.height)}"/>'
        )
        title = lane.title if len(lane.title) <= 31 else lane.title[:30] + "…"
        body.append(
            f'<text class="lane-title" x="8" y="{_n(lane.mark_y + 4)}">{_q(title)}'
            f"<title>{_q(lane.tip)}</title></text>"
        )
        body.append(f'<g transform="translate(0 {_n(lane.mark_y)})">')
        body.extend(lane.backdrop)
        body.extend(lane.shapes)
        body.append("</g>")
        for lb in lane.labels:
            if lb.row is None:
                continue
            left, _ = lb.span()
            ly = lane.mark_y + (-12 - lb.row * ROW if lb.above else 19 + lb.row * ROW)
            tip = f"<title>{_q(lb.tip)}</title>" if lb.tip else ""
            body.append(
                f'<text class="{lb.cls}" x="{_n(left)}" y="{_n(ly)}">{_q(lb.text)}{tip}</text>'
            )
        body.append("</g>")
        y += lane.height
    axis_y = y + 6
    body.append(f'<path class="axis" d="M{X0} {_n(axis_y)} H{X1}"/>')
    for t in ticks:
        x = scale.x(t)
        body.append(f'<path class="axis" d="M{_n(x)} {_n(axis_y)} v4"/>')
        body.append(
            f'<text class="tick" x="{_n(x)}" y="{_n(axis_y + 15)}">{_q(_tick_label(t))}</text>'
        )
    clock = "virtual time" if run.virtual_time else "real time"
    body.append(
        f'<text class="axis-title" x="8" y="{_n(axis_y + 8)}">harness clock, seconds since'
        f'<tspan x="8" dy="12">the run began ({clock})</tspan></text>'
    )
    top = axis_y + AXIS_HEIGHT - 6
    for title, chain, base in charts:
        body.append(_waits_chart(title, chain, base, top))
        top += CHART_BLOCK
    label = caption or f"timeline of {run.scenario} [{run.profile}]"
    return (
        f'<svg class="timeline" viewBox="0 0 {WIDTH} {_n(height)}" role="img" '
        f'aria-label="{_q(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{_q(label)}</title>{''.join(body)}</svg>"
    )
