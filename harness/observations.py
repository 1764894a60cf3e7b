"""What a read showed the client about running bots, taken from the answer it was sent.

The no-blind-POST rule asks: after an ambiguous ``POST /bots``, did the client read state that
covers the meeting, and did that read show no running bot? The honest source is the answer
itself, so this reads the JSON body the fake produced — never the model behind it.
"""

from __future__ import annotations

import json
from typing import Any

from harness.journal import ReadEvent
from harness.web.messages import Request, Response

__all__ = ["LIVE_STATUSES", "observe"]

#: Statuses in which a bot counts as running for the purpose of sending another one.
LIVE_STATUSES = frozenset({"requested", "joining", "awaiting_admission", "active"})


def _key(row: dict[str, Any]) -> str | None:
    platform, native = row.get("platform"), row.get("native_meeting_id")
    return f"{platform}/{native}" if platform and native else None


def _paged_out(request: Request, rows: list[dict[str, Any]], body: dict[str, Any]) -> bool:
    """True when a listing may have left meetings out (an offset, a full page, has_more)."""
    offset = request.query_param("offset")
    limit = request.query_param("limit")
    full_page = limit is not None and limit.isdigit() and len(rows) >= int(limit)
    return bool(body.get("has_more")) or offset not in (None, "0") or full_page


def _rows(request: Request, body: dict[str, Any]) -> tuple[list[dict[str, Any]], bool] | None:
    """The meeting rows an answer shows, and whether they are all of the user's meetings."""
    parts = [p for p in request.path.split("/") if p]
    if parts == ["bots", "status"]:
        # It lists every running bot, so a meeting it leaves out has none.
        return [{**row, "status": "active"} for row in body.get("running_bots", [])], True
    if parts in (["meetings"], ["bots"]):
        rows = list(body.get("meetings", []))
        return rows, not _paged_out(request, rows, body)
    single = (len(parts) == 2 and parts[0] == "meetings") or (
        len(parts) == 3 and parts[0] in ("transcripts", "bots") and parts[:2] != ["bots", "status"]
    )
    return ([body], False) if single else None


def observe(request: Request, response: Response, exchange: int, at: float) -> ReadEvent | None:
    """The :class:`ReadEvent` for a successful covering read, or None for anything else."""
    if request.method != "GET" or response.status != 200:
        return None
    body = response.payload
    if body is None:
        try:
            body = json.loads(response.body)
        except ValueError:
            return None
    found = _rows(request, body) if isinstance(body, dict) else None
    if found is None:
        return None
    rows, complete = found
    covered = tuple(k for row in rows if (k := _key(row)))
    running = sorted({k for row in rows if (k := _key(row)) and row.get("status") in LIVE_STATUSES})
    return ReadEvent(exchange, at, complete, covered, tuple(running))
