"""``vexa-harness conform`` as a job: pick the client, run, show progress, write the reports.

The I/O shell around :func:`harness.conformance.runner.conform`: progress on stderr, the
summary table on stdout, the report files, and the exit code (0 pass/skip, 1 a rule failed,
2 a usage or infrastructure error — a command that cannot start, a crash of the fake, an
unwritable report path). With ``--receiver-cmd`` the webhook receiver is judged too
(:func:`harness.webhooks.verdicts.judge_webhooks`), and its four verdicts replace the skips.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TextIO

from harness.conformance.clients import ClientUnderTest, CommandClient, PythonClient
from harness.conformance.report import html_report, junit_report, summary_table, write_json
from harness.conformance.runner import PROFILES, Progress, Result, conform, judge_recorded
from harness.conformance.verdicts import Budgets
from harness.errors import ConfigurationError, HarnessError

__all__ = ["conform_command", "progress_printer"]


def _usage(message: str) -> int:
    print(f"vexa-harness conform: {message}", file=sys.stderr)
    return 2


def progress_printer(stream: TextIO) -> Callable[[Progress], None]:
    """One line per finished run (rewritten in place on a terminal)."""
    live = stream.isatty()

    def show(progress: Progress) -> None:
        run = progress.run
        line = (
            f"[{progress.done:>4}/{progress.total}] {run.profile:<6} {run.scenario:<34} "
            f"{run.end:<11} {progress.seconds:6.2f}s"
        )
        if live:
            end = "\n" if progress.done == progress.total else ""
            stream.write("\r" + line[: shutil.get_terminal_size((100, 24)).columns - 1] + end)
        else:
            stream.write(line + "\n")
        stream.flush()

    return show


def _client(args: argparse.Namespace) -> ClientUnderTest:
    if args.client_py:
        return PythonClient.load(args.client_py)
    return CommandClient(_command("--client-cmd", args.client_cmd), name=args.client_cmd)


def _command(option: str, text: str) -> list[str]:
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise ConfigurationError(f"{option}: cannot split {text!r}: {exc}") from None
    if not argv:
        raise ConfigurationError(f"{option} is empty; give the command that runs it")
    program = argv[0]
    if not (shutil.which(program) or (os.sep in program and os.access(program, os.X_OK))):
        raise ConfigurationError(
            f"{option}: {program!r} is not an executable on PATH (nor a path to one)"
        )
    return argv


def _with_receiver(
    result: Result, command: str, budgets: Budgets, profiles: Sequence[str], seed: int
) -> Result:
    """Judge the webhook receiver (the command-receiver protocol) and add its four verdicts.

    Vexa's webhooks are the same under ``docs`` and ``v0.10``, so one judgement covers both.
    """
    from harness.webhooks.receivers import command_receiver
    from harness.webhooks.verdicts import judge_webhooks

    argv = _command("--receiver-cmd", command)
    print(f"vexa-harness conform: judging the webhook receiver {command}", file=sys.stderr)
    hooks = {
        v.rule: v
        for v in judge_webhooks(
            command_receiver(argv),
            budgets=budgets,
            profile="v0.10" if "v0.10" in profiles else profiles[0],
            seed=seed,
        )
    }
    verdicts = tuple(hooks.get(v.rule, v) for v in result.verdicts)
    return replace(result, verdicts=verdicts, receiver=command)


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _stop_on_sigterm() -> None:
    """SIGTERM stops the job like Ctrl-C: running commands are killed, not orphaned."""
    if threading.current_thread() is threading.main_thread():

        def interrupt(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)


def conform_command(args: argparse.Namespace) -> int:
    """Run ``vexa-harness conform``; returns the exit code."""
    _stop_on_sigterm()
    budgets = Budgets(
        max_attempts=args.max_attempts,
        max_retry_time=args.max_retry_time,
        timeout_budget=args.timeout_budget,
        webhook_ack_budget=args.webhook_ack_budget,
    )
    profiles = (args.profile,) if args.profile else PROFILES
    try:
        result: Result
        if args.journal:
            with open(args.journal, encoding="utf-8") as handle:
                document = json.load(handle)
            result = judge_recorded(
                document,
                budgets=budgets,
                profile=profiles[0],
                seed=args.seed,
                source=args.journal,
            )
        else:
            client = _client(args)
            print(
                f"vexa-harness conform: {client.name} — profile {','.join(profiles)}, "
                f"seed {args.seed}",
                file=sys.stderr,
            )
            kwargs = {"operations": args.operation} if args.operation else {}
            result = conform(
                client,
                profiles=profiles,
                seed=args.seed,
                budgets=budgets,
                rules=args.rule,
                jobs=args.jobs,
                progress=progress_printer(sys.stderr),
                **kwargs,
            )
        if args.receiver_cmd:
            result = _with_receiver(result, args.receiver_cmd, budgets, profiles, args.seed)
    except (HarnessError, OSError, ValueError) as exc:
        return _usage(str(exc))
    except KeyboardInterrupt:
        print("\nvexa-harness conform: interrupted; no verdicts", file=sys.stderr)
        return 2
    print(summary_table(result))
    try:
        if args.report_json:
            write_json(result, args.report_json)
        if args.junit:
            _write(args.junit, junit_report(result))
        if args.html:
            _write(args.html, html_report(result))
    except OSError as exc:
        return _usage(f"cannot write a report: {exc}")
    return 1 if result.failed else 0
