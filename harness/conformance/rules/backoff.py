"""The statistical rules: ``backoff-growth`` and ``backoff-jitter``, judged across repeated runs.

Full jitter (``sleep_n = U(0, b·2^(n−1))``) makes single gaps meaningless — 14.4 s then
0.98 s is a legal pair — so neither rule ever looks at one pair of gaps. Both compare a
*group*: the same scenario and fault plan, run R times with independent seeds
(``Run.facts["group"]`` names it; without one, runs group by scenario and plan). From each run
they take the gaps of its *main chain* — the faulted operation the client tried most often —
while failures continue, ``g_i = a_(i+1) − e_i`` (``reference/retry.md`` §3.1: a client that
slept ``s`` shows ``g ≥ s`` on any network, exactly ``s`` on a virtual clock).

Every number below is a module constant, and each rule's docstring derives its false-failure
probability for a correct client; each must stay below 1e-6 per run of the suite. A group that
cannot give that guarantee (too few runs or retries) makes the rule ``skip``, never ``pass``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from harness.conformance.evidence import make_evidence, seconds
from harness.conformance.rules.registry import EPS_VIRTUAL, Findings, register
from harness.conformance.timeline import Timeline, failing_prefix, lower_gaps
from harness.conformance.verdicts import Budgets, Run, Verdict

__all__ = [
    "GROWTH_MIN_RETRIES",
    "GROWTH_RATIO",
    "JITTER_MIN_RETRIES_REAL",
    "JITTER_MIN_RETRIES_VIRTUAL",
    "JITTER_OUTLIERS_REAL",
    "MIN_RUNS",
    "backoff_growth",
    "backoff_jitter",
    "envelope_grows",
    "sequences_differ",
    "sequences_differ_beyond_noise",
]

#: Runs (independent seeds) a group needs before either statistical rule judges it.
MIN_RUNS = 5
#: ``backoff-growth`` compares the envelope of retries 4–5 with that of retry 1 ...
GROWTH_MIN_RETRIES = 5
#: ... and needs it to exceed this multiple of it.
GROWTH_RATIO = 1.5
#: Real-time allowance on top of the ratio: the measured loopback noise is ≤ 12.4 ms
#: (``reference/retry.md`` §3.1); 50 ms covers it with room.
REAL_NOISE = 0.05
#: ``backoff-jitter``: gaps equal within this are "the same" (virtual: float noise only).
JITTER_TOLERANCE_VIRTUAL = EPS_VIRTUAL
JITTER_TOLERANCE_REAL = REAL_NOISE
#: ``backoff-jitter`` needs this many retries per run (real time needs more: see the bound).
JITTER_MIN_RETRIES_VIRTUAL = 2
JITTER_MIN_RETRIES_REAL = 5
#: Gaps (over all runs but the reference) that may differ by more than τ on real time and
#: still count as "the same waits": one process descheduled once on a busy machine.
JITTER_OUTLIERS_REAL = 1


GROUPS = "group(s) of repeated runs"


@dataclass(frozen=True, slots=True)
class _Series:
    run: Run
    timeline: Timeline
    gaps: tuple[float, ...]


def _groups(runs: Sequence[Run]) -> dict[str, list[Run]]:
    """Runs of one group: same ``facts["group"]`` (or scenario) and the same plan, seed aside."""
    groups: dict[tuple[str, str], list[Run]] = {}
    for run in runs:
        name = str(run.facts.get("group") or run.scenario)
        plan = json.dumps({k: v for k, v in run.plan.items() if k != "seed"}, sort_keys=True)
        groups.setdefault((name, plan), []).append(run)
    named: dict[str, list[Run]] = {}
    for (name, _), members in groups.items():
        label = name if name not in named else f"{name} (plan {len(named)})"
        named[label] = members
    return named


def _series(members: Sequence[Run], notes: list[str], name: str) -> list[_Series]:
    """One gap series per run with a distinct seed; runs whose chain met Retry-After are out
    (honouring a fixed Retry-After is right, and it is neither growth nor jitter)."""
    out: list[_Series] = []
    seeds: set[int] = set()
    for run in members:
        if run.seed in seeds:
            notes.append(f"group {name}: seed {run.seed} repeats; only its first run counts")
            continue
        seeds.add(run.seed)
        tl = Timeline.of(run)
        chain = failing_prefix(tl.main_chain())
        if any(a.answer is not None and a.answer.retry_after for a in chain[:-1]):
            notes.append(f"group {name}: answers carried Retry-After, which sets the waits")
            continue
        out.append(_Series(run, tl, tuple(lower_gaps(chain))))
    return out


def _gaps(gaps: Sequence[float]) -> str:
    return "[" + ", ".join(seconds(g) for g in gaps) + "]"


def _too_few(name: str, usable: int, total: int, retries: int, most: int) -> str:
    return (
        f"group {name}: {usable} of {total} run(s) with independent seeds had ≥ {retries} "
        f"retries; {MIN_RUNS} are needed for a false-failure bound below 1e-6 "
        f"(the most retries seen in one run: {most})"
    )


def envelope_grows(gap_series: Sequence[Sequence[float]], virtual: bool) -> tuple[bool, str]:
    """The ``backoff-growth`` test on gap series (each ≥ 5 gaps); True when growth is shown.

    ``E`` = the longest first wait over the runs, ``L`` = the longest 4th or 5th wait; growth
    is shown when ``L > 1.5·E + δ`` (δ = 1e-6 s virtual, 50 ms real).
    """
    early = max(g[0] for g in gap_series)
    late = max(max(g[3], g[4]) for g in gap_series)
    slack = EPS_VIRTUAL if virtual else REAL_NOISE
    needs = f"{GROWTH_RATIO}×" + ("" if virtual else f" + {seconds(slack)}")
    text = (
        f"the longest wait before retry 4 or 5 was {seconds(late)}, the longest before "
        f"retry 1 was {seconds(early)} (growth needs more than {needs})"
    )
    return late > GROWTH_RATIO * early + slack, text


@register("backoff-growth")
def backoff_growth(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``backoff-growth``: while failures continue, the waits grow — judged on the envelope.

    Definition (RULES.md): while failures continue, the waits between attempts grow
    exponentially; no immediate or fixed-interval hammering; judged on the upper envelope
    across repeated runs, never on a single pair of gaps.

    Test, per group of R ≥ 5 runs with independent seeds, each with ≥ 5 retries of its main
    chain before any success (and no ``Retry-After`` on its answers): with ``g_i^r`` the i-th
    gap of run r, ``E = max_r g_1^r`` and ``L = max_r max(g_4^r, g_5^r)``; pass iff
    ``L > 1.5·E + δ``, δ = 1e-6 s on virtual time, 0.05 s on real time. Fewer runs or retries:
    the group is not judged (``skip`` when no group is).

    False failure, for a correct full-jitter client (``s_i ~ U(0, c_i)``, ``c_i = b·2^(i−1)``,
    not capped before retry 5, all draws independent; observed ``g = s + η`` with noise
    ``0 ≤ η ≤ η_max``, η_max = 0 virtual, ≤ 0.05 s real): ``E ≤ b + η_max``, so a failure needs
    ``s_4^r, s_5^r ≤ θ = 1.5·(b + η_max) + δ`` in every run:
    ``P ≤ (min(1, θ/8b)·min(1, θ/16b))^R``.
    Virtual time: θ = 1.5·b ⇒ ``(9/512)^R`` = 1.7e-9 for R = 5.
    Real time: b ≥ 0.25 s ⇒ θ ≤ 2b ⇒ ``(1/32)^R`` = 3.0e-8 for R = 5 (b = 0.1 s: 7.2e-7).
    So each judged group adds < 3e-8 (virtual: 1.7e-9) to the suite's false-failure budget;
    more runs only lower it. Schedules whose gaps stay within ``[c_i/2, c_i]`` — no jitter
    (tenacity ``wait_exponential``), equal jitter, openai's ``(1 − 0.25·U)`` — pass with
    certainty: ``L ≥ c_5/2 = 8b > 1.5·(b + η_max) + δ`` (on real time once b ≥ 0.02 s).

    Certain failure: a fixed-interval client (every gap = d) has L = E = d on virtual time and,
    on real time, ``L ≤ d + η_max ≤ 1.5·E + 0.05``; an immediate client has L ≤ η_max ≤ δ.
    Both fail in every group. Not separated: linear growth (g_5/g_1 = 5) passes; a client whose
    cap is reached before retry 5 is outside the bound above.
    """
    findings = Findings("backoff-growth")
    for name, members in _groups(runs).items():
        series = _series(members, findings.notes, name)
        usable = [s for s in series if len(s.gaps) >= GROWTH_MIN_RETRIES]
        if len(usable) < MIN_RUNS:
            most = max((len(s.gaps) for s in series), default=0)
            findings.notes.append(
                _too_few(name, len(usable), len(members), GROWTH_MIN_RETRIES, most)
            )
            continue
        findings.checked += 1
        findings.runs_checked += len(usable)
        virtual = all(s.run.virtual_time for s in usable)
        grows, text = envelope_grows([s.gaps for s in usable], virtual)
        if grows:
            continue
        first = usable[0]
        per_run = "; ".join(f"seed {s.run.seed}: {_gaps(s.gaps[:6])}" for s in usable)
        chain = failing_prefix(first.timeline.main_chain())
        findings.fail(
            make_evidence(
                first.run,
                first.timeline,
                f"group {name}, {len(usable)} runs: the waits did not grow — {text}; "
                f"gaps per run: {per_run}",
                [a.request for a in chain[:6]],
            )
        )
    return findings.verdict("no group of repeated outage runs could be judged", GROUPS)


def sequences_differ_beyond_noise(
    gap_series: Sequence[Sequence[float]], tolerance: float, outliers: int
) -> bool:
    """True unless, against the best reference run, at most ``outliers`` gaps differ by > tol.

    Runs of different lengths always differ (noise does not add or remove a retry).
    """
    if len({len(gaps) for gaps in gap_series}) > 1:
        return True
    fewest = min(
        sum(
            abs(a - b) > tolerance
            for other in gap_series
            if other is not reference
            for a, b in zip(other, reference, strict=True)
        )
        for reference in gap_series
    )
    return fewest > outliers


def sequences_differ(gap_series: Sequence[Sequence[float]], tolerance: float) -> bool:
    """True when some run's gap sequence differs from the first's (length, or a gap > tol)."""
    reference = gap_series[0]
    for gaps in gap_series[1:]:
        if len(gaps) != len(reference):
            return True
        if any(abs(a - b) > tolerance for a, b in zip(gaps, reference, strict=True)):
            return True
    return False


@register("backoff-jitter")
def backoff_jitter(runs: Sequence[Run], budgets: Budgets) -> Verdict:
    """``backoff-jitter``: the same fault plan, replayed with independent seeds, gives other waits.

    Definition (RULES.md): the waits are randomized — the same fault plan replayed over
    independent runs yields different gaps. (In-process clients share Python's global
    ``random``; the runner must reseed it per run from the run's seed, or this rule lies.)

    Test, per group of R ≥ 5 runs with distinct seeds, each with ≥ K retries of its main chain
    (K = 2 on virtual time, 5 on real time; chains that met ``Retry-After`` are left out): fail
    iff every run's gap sequence equals a reference run's — same length and every gap within τ
    (τ = 1e-6 s virtual, 0.05 s real). On virtual time the reference is the first run and no
    gap may differ. On real time the reference is whichever run the others match best and one
    gap of all the others' may differ by more than τ: a busy machine that delays one process
    by more than τ once must not let an unrandomized client pass. Fewer runs or retries: the
    group is not judged.

    False failure, for a full-jitter client (``s_i ~ U(0, c_i)``, ``c_i ≥ b·2^(i−1)``,
    independent): given the reference, run r matches gap i only if ``s_i^r`` falls in a window
    of width ``w = 2τ + η_max`` (η_max: real-time noise, ≤ 0.05 s), with probability
    ``p_i ≤ min(1, w/c_i)``; all pairs match with ``P ≤ Π_(r≠ref) Π_(i=1..K) p_i``.
    Virtual (w = 2e-6 s), R = 5, K = 2, b ≥ 1 ms: ``≤ (2e-3·1e-3)^4`` = 1.6e-23.
    Real (w = 0.15 s), R = 5, K = 5, b ≥ 0.1 s: ``Π ≤ (1·0.75·0.375·0.1875·0.094)^4`` = 6e-10;
    any of the R references and any one of the n = K·(R−1) = 20 pairs left out multiply it by at
    most ``R·n/min p_i``: ``≤ 5·20·6e-10/0.094`` = 6.4e-7 (b ≥ 0.25 s: 8.9e-14). Equal jitter
    (window over c_i/2) at most doubles each factor; additive ``U(0, J)`` jitter gives
    ``R·n·(w/J)^(n−1)``: J ≥ 1 s ⇒ 100·0.15^19 = 2.2e-14 on real time.

    Certain failure: a deterministic backoff replays identical gaps on a virtual clock, so it
    fails in every group. On real time it fails unless timing noise alone moves gaps of two
    runs other than the reference by more than τ (a false *pass*, never a false failure).
    """
    findings = Findings("backoff-jitter")
    for name, members in _groups(runs).items():
        series = _series(members, findings.notes, name)
        virtual = all(s.run.virtual_time for s in series)
        need = JITTER_MIN_RETRIES_VIRTUAL if virtual else JITTER_MIN_RETRIES_REAL
        usable = [s for s in series if len(s.gaps) >= need]
        if len(usable) < MIN_RUNS:
            most = max((len(s.gaps) for s in series), default=0)
            findings.notes.append(_too_few(name, len(usable), len(members), need, most))
            continue
        findings.checked += 1
        findings.runs_checked += len(usable)
        gap_series = [s.gaps for s in usable]
        if virtual:
            if sequences_differ(gap_series, JITTER_TOLERANCE_VIRTUAL):
                continue
            tolerance = JITTER_TOLERANCE_VIRTUAL
        else:
            tolerance = JITTER_TOLERANCE_REAL
            if sequences_differ_beyond_noise(gap_series, tolerance, JITTER_OUTLIERS_REAL):
                continue
        first = usable[0]
        seeds = ", ".join(str(s.run.seed) for s in usable)
        chain = failing_prefix(first.timeline.main_chain())
        findings.fail(
            make_evidence(
                first.run,
                first.timeline,
                f"group {name}: {len(usable)} runs with independent seeds ({seeds}) waited "
                f"exactly the same gaps {_gaps(first.gaps)} (equal within "
                f"{seconds(tolerance)}): the backoff is not randomized",
                [a.request for a in chain[:6]],
            )
        )
    return findings.verdict("no group of repeated runs could be judged", GROUPS)
