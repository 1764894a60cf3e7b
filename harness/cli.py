"""The ``vexa-harness`` command line.

``vexa-harness serve`` runs the fake Vexa on a loopback port for clients in any language. Its
first stdout line is exactly ``listening on http://HOST:PORT`` (tools wait for it), and the
interface is fixed by DESIGN.md.

``vexa-harness conform`` runs the scenario catalogue against a client (a command speaking the
command-client protocol, or a Python adapter in-process) and judges it against RULES.md:
exit 0 when every rule passes or skips, 1 when any fails, 2 on a usage or infrastructure
error. Its interface is fixed by DESIGN.md too; ``--client-py``, ``--journal``, ``--rule``,
``--operation`` and ``--jobs`` are additions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from harness._clock import Clock, SystemClock, VirtualClock
from harness.errors import ConfigurationError
from harness.fake import FakeVexa
from harness.faults.plan import FaultPlan, InvalidPlan
from harness.vexa.profiles import PROFILES

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vexa-harness",
        description="Contract and resilience test harness for clients of the Vexa API.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the fake Vexa on a loopback port until interrupted",
        description="Run the fake Vexa on a real socket until interrupted (Ctrl-C or SIGTERM).",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=8056, help="port to bind; 0 picks a free one (default 8056)"
    )
    serve.add_argument(
        "--profile",
        default="docs",
        choices=sorted(PROFILES),
        help="which Vexa to impersonate (default docs)",
    )
    serve.add_argument("--seed", type=int, default=0, help="seed for every random choice")
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="pre-create a user holding KEY with every scope (repeatable); "
        "with none, one key is generated and printed",
    )
    serve.add_argument(
        "--admin-key",
        metavar="KEY",
        help="enable the admin API (/admin/*) for requests with X-Admin-API-Key: KEY",
    )
    serve.add_argument(
        "--faults",
        metavar="PLAN.json",
        help="load a fault plan (rules of match, schedule and fault; see the fault how-to)",
    )
    serve.add_argument(
        "--clock",
        choices=("system", "virtual"),
        default="system",
        help="system: real time; virtual: time moves only via POST /_harness/clock/advance",
    )
    _add_conform(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def _positive_seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds (got {text})")
    return value


def _add_conform(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from harness.conformance.catalogue import OPERATIONS
    from harness.conformance.verdicts import RULE_IDS

    conform = commands.add_parser(
        "conform",
        help="judge a client against the conformance rules (RULES.md)",
        description="Run the scenario catalogue against a client and judge it against the "
        "rules of RULES.md. Exit 0 when every rule passes or skips, 1 when any fails, 2 on a "
        "usage or infrastructure error.",
    )
    who = conform.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--client-cmd",
        metavar="CMD",
        help="the client as a command: run as CMD <operation> <args-json> with VEXA_API_BASE "
        "and VEXA_API_KEY set; exit 0 done, 1 gave up, 2 unsupported (real time)",
    )
    who.add_argument(
        "--client-py",
        metavar="MODULE:ATTR",
        help="the client as a Python adapter (an object, or a class made with no arguments), "
        "run in-process on virtual time, e.g. harness.clients.sync_client:HttpxAdapter",
    )
    who.add_argument(
        "--journal",
        metavar="PATH",
        help="judge a journal recorded by vexa-harness serve (GET /_harness/journal) while "
        "you drove your client yourself",
    )
    conform.add_argument(
        "--receiver-cmd",
        metavar="CMD",
        help="also judge a webhook receiver (command-receiver protocol: PORT, "
        "VEXA_WEBHOOK_SECRET, optional GET /effects) on the four webhook rules",
    )
    conform.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="the Vexa to impersonate (default: each of docs and v0.10)",
    )
    conform.add_argument("--seed", type=int, default=0, help="seed of the whole job (default 0)")
    conform.add_argument("--report-json", metavar="PATH", help="write the JSON report here")
    conform.add_argument("--junit", metavar="PATH", help="write a JUnit XML report here")
    conform.add_argument("--html", metavar="PATH", help="write an HTML report here")
    conform.add_argument(
        "--max-attempts",
        type=_positive_int,
        default=10,
        metavar="N",
        help="bounded-retries: attempts allowed under an outage (default 10)",
    )
    conform.add_argument(
        "--max-retry-time",
        type=_positive_seconds,
        default=300.0,
        metavar="SECONDS",
        help="bounded-retries: seconds from first to last attempt (default 300)",
    )
    conform.add_argument(
        "--timeout-budget",
        type=_positive_seconds,
        default=60.0,
        metavar="SECONDS",
        help="client-timeout: seconds a client may wait on a silent server (default 60)",
    )
    conform.add_argument(
        "--webhook-ack-budget",
        type=_positive_seconds,
        default=5.0,
        metavar="SECONDS",
        help="webhook-fast-ack: seconds a receiver may take to answer (default 5)",
    )
    conform.add_argument(
        "--rule",
        action="append",
        choices=RULE_IDS,
        metavar="ID",
        help="run only the scenarios that feed this rule (repeatable; the others say skip)",
    )
    conform.add_argument(
        "--operation",
        action="append",
        choices=OPERATIONS,
        metavar="OP",
        help="try only this operation (repeatable; default: all ten of the protocol)",
    )
    conform.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="runs at once for a command client (default: 8 per CPU, 8 to 16)",
    )


def _load_plan(path: str, default_seed: int) -> FaultPlan:
    text = Path(path).read_text(encoding="utf-8")
    plan = FaultPlan.from_json(text)
    try:
        has_seed = "seed" in json.loads(text)
    except ValueError:  # pragma: no cover - from_json already parsed it
        has_seed = True
    return plan if has_seed else FaultPlan(plan.rules, default_seed, plan.rate_limit)


def _serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"vexa-harness serve: --port {args.port} is not a port (0-65535)", file=sys.stderr)
        return 2
    clock: Clock = VirtualClock() if args.clock == "virtual" else SystemClock()
    try:
        plan = _load_plan(args.faults, args.seed) if args.faults else None
    except (OSError, InvalidPlan) as exc:
        print(f"vexa-harness serve: --faults {args.faults}: {exc}", file=sys.stderr)
        return 2
    fake = FakeVexa(args.profile, args.seed, clock=clock, admin_key=args.admin_key, faults=plan)
    try:
        accounts = [fake.create_user(api_key=key) for key in args.api_key] or [fake.create_user()]
    except ConfigurationError as exc:
        print(f"vexa-harness serve: {exc}", file=sys.stderr)
        return 2
    server = fake.server(args.host, args.port)

    def announce(url: str) -> None:
        print(f"listening on {url}", flush=True)
        for account in accounts:
            print(f"api key: {account.api_key} (user {account.user_id})", flush=True)
        if fake.model.admin_key is not None:
            print("admin api: enabled (X-Admin-API-Key)", flush=True)
        if plan is not None:
            print(f"faults: {len(plan.rules)} rule(s) from {args.faults}", flush=True)
        print(f"profile: {fake.profile.name}, seed: {fake.seed}, clock: {args.clock}", flush=True)

    try:
        server.serve_forever(announce)
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        print(
            f"vexa-harness serve: cannot listen on {args.host}:{args.port} ({reason}); "
            "pick another --port, or --port 0 picks a free one",
            file=sys.stderr,
        )
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    if args.command == "conform":
        from harness.conformance.job import conform_command

        return conform_command(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
