"""The ``vexa-harness`` command line.

``vexa-harness serve`` runs the fake Vexa on a loopback port for clients in any language. Its
first stdout line is exactly ``listening on http://HOST:PORT`` (tools wait for it), and the
interface is fixed by DESIGN.md.
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
    return parser


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
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
