"""Runs the scenario catalogue against one client, then judges what the journals show.

For each scenario × profile × repetition: a fresh fake with its own seed (derived from the
run seed, so one ``--seed`` replays everything), the scenario's state and fault plan, one
call of the client's operation, and a :class:`~harness.conformance.verdicts.Run` with the
journal of exactly that run. First every operation's ``baseline`` runs, to learn what the
client supports; scenarios of unsupported operations are recorded as ``unsupported``
without running, so the rules they feed say ``skip``.

In-process clients run one after another (they share the patched clock functions); command
clients run in a small thread pool, each run with its own fake on its own port.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from harness.conformance.catalogue import OPERATIONS, Scenario, build, prepare
from harness.conformance.clients import HANG_GRACE, ClientUnderTest, Limits
from harness.conformance.verdicts import RULE_IDS, Budgets, Run, Verdict
from harness.fake import FakeVexa

__all__ = [
    "PROFILES",
    "Progress",
    "Result",
    "conform",
    "judge_recorded",
    "judge_runs",
    "limits_for",
    "run_seed",
]

#: The profiles a conformance run covers when none is chosen.
PROFILES = ("docs", "v0.10")


@dataclass(frozen=True, slots=True)
class Progress:
    """One run finished: ``done`` of ``total`` so far (``total`` grows once support is known)."""

    done: int
    total: int
    run: Run
    #: Wall seconds the run took.
    seconds: float


@dataclass(frozen=True, slots=True)
class Result:
    """Everything a conformance job produced."""

    client: str
    seed: int
    profiles: tuple[str, ...]
    budgets: Budgets
    runs: tuple[Run, ...]
    verdicts: tuple[Verdict, ...]
    #: Wall seconds for the whole job.
    duration: float
    #: Operations the client supports, per profile.
    supported: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: The webhook receiver judged beside the client (``--receiver-cmd``), if any.
    receiver: str | None = None

    @property
    def failed(self) -> bool:
        return any(v.verdict == "fail" for v in self.verdicts)

    def verdict(self, rule: str) -> Verdict:
        return next(v for v in self.verdicts if v.rule == rule)


@dataclass(frozen=True, slots=True)
class _Job:
    scenario: Scenario
    profile: str
    repetition: int
    order: tuple[int, int, int]


def run_seed(seed: int, profile: str, scenario: str, repetition: int) -> int:
    """The seed of one run: independent across runs, fixed by the job's seed."""
    digest = hashlib.sha256(f"{seed}:{profile}:{scenario}:{repetition}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def limits_for(budgets: Budgets, *, virtual_time: bool) -> Limits:
    """When a client that will not stop is stopped: well past every budget the rules judge."""
    if virtual_time:  # stopping late costs nothing on virtual time
        return Limits(
            max_requests=4 * budgets.max_attempts + 40,
            max_time=2 * budgets.max_retry_time + budgets.timeout_budget + 60.0,
            max_wait=budgets.timeout_budget + HANG_GRACE,
        )
    return Limits(
        max_requests=2 * budgets.max_attempts + 10,
        max_time=budgets.max_retry_time + budgets.timeout_budget + 10.0,
        max_wait=budgets.timeout_budget + HANG_GRACE,
    )


def judge_runs(runs: Sequence[Run], budgets: Budgets) -> list[Verdict]:
    """The rules' verdicts (``harness.conformance.rules.judge``), one per rule id."""
    try:
        from harness.conformance.rules import judge
    except ImportError as exc:
        if exc.name not in ("harness.conformance.rules", None):
            raise
        return [
            Verdict(rule, "skip", "the rules module (harness.conformance.rules) is not installed")
            for rule in RULE_IDS
        ]
    return list(judge(runs, budgets))


def _execute(client: ClientUnderTest, job: _Job, seed: int, limits: Limits) -> Run:
    scenario = job.scenario
    seed_of_run = run_seed(seed, job.profile, scenario.id, job.repetition)
    fake = FakeVexa(job.profile, seed_of_run, clock=client.new_clock())
    stage = prepare(fake, scenario, seed_of_run, ready=lambda: client.ready(fake))
    ending = client.run(stage, limits)
    fake.check()  # a crash of the fake is the harness's failure, never the client's
    return Run(
        scenario=scenario.id,
        operation=scenario.operation,
        profile=job.profile,
        seed=seed_of_run,
        feeds=scenario.feeds,
        plan=stage.plan.to_json(),
        events=tuple(fake.journal),
        end=ending.end,
        detail=ending.detail,
        facts=stage.facts,
        virtual_time=client.virtual_time,
    )


def _skipped(job: _Job, seed: int, why: str) -> Run:
    return Run(
        scenario=job.scenario.id,
        operation=job.scenario.operation,
        profile=job.profile,
        seed=run_seed(seed, job.profile, job.scenario.id, job.repetition),
        feeds=job.scenario.feeds,
        plan={},
        events=(),
        end="unsupported",
        detail=why,
        facts=dict(job.scenario.facts),
    )


class _Pool:
    """Runs jobs sequentially or in threads, reporting progress as each one ends."""

    def __init__(
        self,
        client: ClientUnderTest,
        seed: int,
        limits: Limits,
        jobs: int,
        progress: Callable[[Progress], None] | None,
    ) -> None:
        self.client, self.seed, self.limits, self.progress = client, seed, limits, progress
        self.workers = jobs if client.concurrent else 1
        self.done = 0
        self.total = 0

    def _report(self, run: Run, seconds: float) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(Progress(self.done, self.total, run, seconds))

    def _timed(self, job: _Job) -> tuple[Run, float]:
        start = time.perf_counter()
        run = _execute(self.client, job, self.seed, self.limits)
        return run, time.perf_counter() - start

    def run(self, jobs: Sequence[_Job]) -> list[tuple[_Job, Run]]:
        self.total += len(jobs)
        out: list[tuple[_Job, Run]] = []
        if self.workers <= 1:
            for job in jobs:
                run, seconds = self._timed(job)
                out.append((job, run))
                self._report(run, seconds)
            return out
        with ThreadPoolExecutor(self.workers, thread_name_prefix="vexa-conform") as pool:
            pending: dict[Future[tuple[Run, float]], _Job] = {
                pool.submit(self._timed, job): job for job in jobs
            }
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        job = pending.pop(future)
                        run, seconds = future.result()
                        out.append((job, run))
                        self._report(run, seconds)
            except BaseException:
                abort = getattr(self.client, "abort", None)
                if abort is not None:
                    abort.set()  # running commands are killed; the pool then drains quickly
                raise
            finally:
                for future in pending:
                    future.cancel()
        return out


def _default_jobs() -> int:
    """Runs on real time mostly wait (backoff, timeouts); the pool overlaps the waits."""
    return max(8, min(16, 8 * (os.cpu_count() or 1)))


def conform(
    client: ClientUnderTest,
    *,
    profiles: Sequence[str] = PROFILES,
    seed: int = 0,
    budgets: Budgets | None = None,
    rules: Sequence[str] | None = None,
    operations: Sequence[str] = OPERATIONS,
    repeats: int | None = None,
    jobs: int | None = None,
    progress: Callable[[Progress], None] | None = None,
    limits: Limits | None = None,
) -> Result:
    """Run the catalogue against ``client`` and judge it.

    ``rules``: run only the scenarios that feed these rule ids (the others say ``skip``).
    ``operations``: the operations to try (default: all ten of the protocol).
    ``repeats``: runs per statistical group (default :data:`catalogue.REPEATS`).
    ``limits``: when a client that will not stop is stopped (default :func:`limits_for`).
    """
    budgets = budgets or Budgets()
    started = time.perf_counter()
    pool = _Pool(
        client,
        seed,
        limits or limits_for(budgets, virtual_time=client.virtual_time),
        jobs or _default_jobs(),
        progress,
    )
    order = {profile: i for i, profile in enumerate(profiles)}
    catalogue = {s.id: i for i, s in enumerate(build(operations))}

    def job(scenario: Scenario, profile: str, repetition: int) -> _Job:
        rank = catalogue.get(scenario.id, len(catalogue))
        return _Job(scenario, profile, repetition, (order[profile], rank, repetition))

    baselines = [
        job(s, profile, 0)
        for profile in profiles
        for s in build(operations, repeats=1)
        if s.id.endswith("/baseline")
    ]
    results = pool.run(baselines)
    supported = {
        profile: tuple(
            op
            for op in operations
            if any(
                j.profile == profile and j.scenario.operation == op and r.end != "unsupported"
                for j, r in results
            )
        )
        for profile in profiles
    }
    wanted = set(rules) if rules is not None else None
    todo: list[_Job] = []
    skipped: list[tuple[_Job, Run]] = []
    for profile in profiles:
        ops = supported[profile]
        kwargs = {"repeats": repeats} if repeats is not None else {}
        for scenario in build(operations, statistical=_statistical(ops), **kwargs):
            if scenario.id.endswith("/baseline"):
                continue
            if wanted is not None and not wanted.intersection(scenario.feeds):
                continue
            for repetition in range(scenario.repeat):
                planned = job(scenario, profile, repetition)
                if scenario.operation in ops:
                    todo.append(planned)
                else:
                    why = f"not run: the client does not support {scenario.operation}"
                    skipped.append((planned, _skipped(planned, seed, why)))
    results.extend(pool.run(todo))
    results.extend(skipped)
    results.sort(key=lambda pair: pair[0].order)
    runs = tuple(run for _, run in results)
    verdicts = tuple(judge_runs(runs, budgets))
    return Result(
        client=client.name,
        seed=seed,
        profiles=tuple(profiles),
        budgets=budgets,
        runs=runs,
        verdicts=verdicts,
        duration=time.perf_counter() - started,
        supported=supported,
    )


def _statistical(supported: Sequence[str]) -> list[str]:
    from harness.conformance.catalogue import STATISTICAL_PREFERENCE

    preferred = [op for op in STATISTICAL_PREFERENCE if op in supported]
    return preferred or list(supported[:1])


def judge_recorded(
    document: Mapping[str, Any],
    *,
    budgets: Budgets | None = None,
    profile: str = "docs",
    seed: int = 0,
    source: str = "a recorded journal",
) -> Result:
    """Judge a journal recorded while a person drove their client (client kind 3)."""
    from harness.conformance.clients import runs_from_journal

    budgets = budgets or Budgets()
    started = time.perf_counter()
    runs = tuple(runs_from_journal(document, profile=profile, seed=seed))
    return Result(
        client=f"recorded journal {source}",
        seed=seed,
        profiles=(profile,),
        budgets=budgets,
        runs=runs,
        verdicts=tuple(judge_runs(runs, budgets)),
        duration=time.perf_counter() - started,
    )
