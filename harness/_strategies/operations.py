"""The command-protocol operations as the requests a fault can target.

Paths are templates (``/bots/{platform}/{native_meeting_id}``) so that one fault rule hits an
operation whatever meeting it is about; the fault engine matches templates directly.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPERATIONS", "TARGETS", "Target", "target"]


@dataclass(frozen=True, slots=True)
class Target:
    """The request an operation sends (its first one; ``start_bot`` may also read)."""

    operation: str
    method: str
    path: str


#: In the order of DESIGN.md's table: shrinking prefers the earlier ones.
TARGETS: tuple[Target, ...] = (
    Target("start_bot", "POST", "/bots"),
    Target("stop_bot", "DELETE", "/bots/{platform}/{native_meeting_id}"),
    Target("bot_status", "GET", "/bots/status"),
    Target("get_transcript", "GET", "/transcripts/{platform}/{native_meeting_id}"),
    Target("list_meetings", "GET", "/meetings"),
    Target("update_meeting", "PATCH", "/meetings/{platform}/{native_meeting_id}"),
    Target("delete_meeting", "DELETE", "/meetings/{platform}/{native_meeting_id}"),
    Target("update_bot_config", "PUT", "/bots/{platform}/{native_meeting_id}/config"),
    Target("set_webhook", "PUT", "/user/webhook"),
    Target("delete_recording", "DELETE", "/recordings/{recording_id}"),
)
OPERATIONS: tuple[str, ...] = tuple(t.operation for t in TARGETS)
_BY_NAME = {t.operation: t for t in TARGETS}


def target(operation: str) -> Target:
    """The target of ``operation``; ``ValueError`` names the operations there are."""
    found = _BY_NAME.get(operation)
    if found is None:
        raise ValueError(
            f"unknown operation {operation!r}; the command protocol's are {', '.join(OPERATIONS)}"
        )
    return found
