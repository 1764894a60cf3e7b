"""The command-client protocol (DESIGN.md, fixed) around any adapter: ``main(adapter)``.

    <command ...> <operation> <args-json>       with VEXA_API_BASE and VEXA_API_KEY set

Exit 0 with the result as JSON on stdout when the operation succeeded, 1 with a one-line
reason on stderr when the client gave up, 2 when it does not support the operation. An
adapter is any object with the operations as methods (sync or ``async``), each called as
``method(base_url, api_key, args)``.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from harness.clients.operations import OPERATIONS
from harness.clients.policy import Unsupported

__all__ = ["main"]


def _fail(code: int, reason: str) -> int:
    print(" ".join(reason.split()), file=sys.stderr)
    return code


def main(
    adapter: object, argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None
) -> int:
    """Run one operation as the protocol asks; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    if len(argv) != 2:
        return _fail(2, "usage: <command> <operation> <args-json>")
    operation, raw = argv
    method = getattr(adapter, operation, None) if operation in OPERATIONS else None
    if method is None:
        return _fail(2, f"{operation}: not supported by this client")
    try:
        args = json.loads(raw)
    except ValueError as exc:
        return _fail(1, f"{operation}: the arguments are not JSON ({exc})")
    if not isinstance(args, dict):
        return _fail(1, f"{operation}: the arguments must be a JSON object")
    base, key = env.get("VEXA_API_BASE"), env.get("VEXA_API_KEY")
    if not base or not key:
        return _fail(1, f"{operation}: VEXA_API_BASE and VEXA_API_KEY must be set")
    try:
        result: Any = method(base, key, args)
        if inspect.isawaitable(result):
            import asyncio  # only async adapters pay for it

            result = asyncio.run(_awaited(result))
    except Unsupported as exc:
        return _fail(2, f"{operation}: {exc}")
    except Exception as exc:
        return _fail(1, f"{operation}: {exc}")
    print(json.dumps(result, separators=(",", ":"), default=str))
    return 0


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
