"""The bot lifecycle: statuses, legal transitions, and how long each automatic step takes.

``requested → joining → awaiting_admission → active → stopping → completed | failed``, as
Vexa's ``get_valid_status_transitions`` allows it. Illegal transitions are ignored, as in Vexa.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from harness.errors import ConfigurationError

__all__ = [
    "LIVE_STATUSES",
    "TERMINAL_STATUSES",
    "Lifecycle",
    "Source",
    "Status",
    "can_move",
]


class Status(StrEnum):
    REQUESTED = "requested"
    JOINING = "joining"
    AWAITING_ADMISSION = "awaiting_admission"
    NEEDS_HUMAN_HELP = "needs_human_help"
    ACTIVE = "active"
    STOPPING = "stopping"
    COMPLETED = "completed"
    FAILED = "failed"


class Source(StrEnum):
    """Who moved the meeting (``status_transition[].source``)."""

    USER = "user"
    BOT = "bot_callback"
    SCHEDULER = "scheduler_timeout"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.FAILED})
#: Statuses that count against ``max_concurrent_bots``.
LIVE_STATUSES = frozenset(
    {Status.REQUESTED, Status.JOINING, Status.AWAITING_ADMISSION, Status.ACTIVE}
)
#: Statuses in which a bot container is running (``GET /bots/status``).
RUNNING_STATUSES = LIVE_STATUSES | {Status.NEEDS_HUMAN_HELP, Status.STOPPING}

_TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.REQUESTED: frozenset({Status.JOINING, Status.FAILED, Status.COMPLETED, Status.STOPPING}),
    Status.JOINING: frozenset(
        {
            Status.AWAITING_ADMISSION,
            Status.ACTIVE,
            Status.NEEDS_HUMAN_HELP,
            Status.FAILED,
            Status.COMPLETED,
            Status.STOPPING,
        }
    ),
    Status.AWAITING_ADMISSION: frozenset(
        {Status.ACTIVE, Status.NEEDS_HUMAN_HELP, Status.FAILED, Status.COMPLETED, Status.STOPPING}
    ),
    Status.NEEDS_HUMAN_HELP: frozenset(
        {Status.ACTIVE, Status.FAILED, Status.STOPPING, Status.COMPLETED}
    ),
    Status.ACTIVE: frozenset({Status.STOPPING, Status.COMPLETED, Status.FAILED}),
    Status.STOPPING: frozenset({Status.COMPLETED, Status.FAILED}),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset(),
}

#: The ``completion_reason`` a failure at each stage carries unless told otherwise.
DEFAULT_FAILURE_REASON: dict[Status, str] = {
    Status.REQUESTED: "join_failure",
    Status.JOINING: "join_failure",
    Status.AWAITING_ADMISSION: "awaiting_admission_rejected",
    Status.NEEDS_HUMAN_HELP: "join_failure",
    Status.ACTIVE: "evicted",
}

FAILURE_STAGES = ("requested", "joining", "awaiting_admission", "active")


def can_move(current: Status, target: Status) -> bool:
    return target in _TRANSITIONS[current]


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """Timings (harness-clock seconds) and behaviour of the bots sent from now on.

    Real Vexa takes tens of seconds to join and 90 s to stop a container; the defaults here are
    short so that tests on real time stay fast, and every one is configurable.
    """

    join_delay: float = 1.0
    lobby_delay: float = 1.0
    admission_delay: float = 1.0
    #: When False, bots wait in the lobby until admitted (or their admission timeout).
    auto_admit: bool = True
    stop_delay: float = 1.0
    #: A stage at which bots fail (``requested``, ``joining``, ``awaiting_admission``, ``active``).
    fail_at: str | None = None
    #: How long a bot set to fail at ``active`` stays active first.
    active_fail_delay: float = 5.0

    def __post_init__(self) -> None:
        for name in ("join_delay", "lobby_delay", "admission_delay", "stop_delay"):
            if getattr(self, name) < 0:
                raise ConfigurationError(f"Lifecycle.{name} must be >= 0 seconds")
        if self.active_fail_delay < 0:
            raise ConfigurationError("Lifecycle.active_fail_delay must be >= 0 seconds")
        if self.fail_at is not None and self.fail_at not in FAILURE_STAGES:
            raise ConfigurationError(
                f"Lifecycle.fail_at={self.fail_at!r} is not a stage; use one of {FAILURE_STAGES}"
            )
