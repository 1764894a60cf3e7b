"""Which Vexa the fake impersonates: every status-code and message difference, in one table.

The ``docs`` profile follows Vexa's "Errors and retries" page where it speaks (202 for
``POST /bots``, ``Not authenticated``, 400 for a bad meeting id, repeat deletes succeed);
``v0.10`` follows the hosted api.v1 as its code behaves. Adding a version is adding a row
to :data:`PROFILES`, never a new code path: the model and the routes only read fields here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from harness.errors import ConfigurationError

__all__ = ["PROFILES", "Profile", "get_profile"]

TimestampStyle = Literal["zulu", "naive"]


@dataclass(frozen=True, slots=True)
class Profile:
    """One Vexa behaviour. Field names say what they decide; values are what Vexa sends."""

    name: str
    #: Success status of ``POST /bots``.
    create_bot_status: int
    #: ``detail`` for a request with no ``X-API-Key`` (always a 401).
    missing_key_detail: str
    #: Status for an invalid meeting id / passcode / language (Vexa's own validators).
    #: 422 means the pydantic-style list; 400 means a string ``detail``.
    semantic_validation_status: int
    #: Status for a body that is not JSON at all (422 list ``json_invalid`` or 400 string).
    malformed_body_status: int
    #: A second ``DELETE /meetings/{platform}/{id}`` succeeds (docs) or is a 404 (code).
    repeat_meeting_delete_succeeds: bool
    #: A second ``DELETE /recordings/{id}`` succeeds with 204 (docs) or is a 404 (code).
    repeat_recording_delete_succeeds: bool
    #: How naive DB times are written: ``2026-06-20T09:00:00Z`` or ``2026-06-20T09:00:00``.
    timestamps: TimestampStyle
    #: ``normalized_status`` in ``GET /bots/status``: the meeting status, or v0.10's fixed "Up".
    bot_status_normalized_fixed: str | None
    #: Statuses that make a second ``POST /bots`` for the same meeting a 409.
    dedupe_statuses: frozenset[str]
    #: FastAPI security dependencies (docs) check the key before any validation; the v0.10
    #: gateway validates its path parameters first, so a bad path is a 422 even with no key.
    auth_before_validation: bool
    #: ``max_concurrent_bots`` of a user ``POST /admin/users`` creates without one. v0.10
    #: stores 0, which its ``POST /bots`` reads as "quota depleted"; docs: 1, a usable account.
    admin_default_max_concurrent_bots: int

    def with_changes(self, **changes: object) -> Profile:
        """A copy with some fields changed, for a custom profile in a test."""
        return replace(self, **changes)  # type: ignore[arg-type]


_LIVE = frozenset({"requested", "joining", "awaiting_admission", "active"})

PROFILES: dict[str, Profile] = {
    "docs": Profile(
        name="docs",
        create_bot_status=202,
        missing_key_detail="Not authenticated",
        semantic_validation_status=400,
        malformed_body_status=400,
        repeat_meeting_delete_succeeds=True,
        repeat_recording_delete_succeeds=True,
        timestamps="zulu",
        bot_status_normalized_fixed=None,
        dedupe_statuses=_LIVE,
        auth_before_validation=True,
        admin_default_max_concurrent_bots=1,
    ),
    "v0.10": Profile(
        name="v0.10",
        create_bot_status=201,
        missing_key_detail="Missing API key",
        semantic_validation_status=422,
        malformed_body_status=422,
        repeat_meeting_delete_succeeds=False,
        repeat_recording_delete_succeeds=False,
        timestamps="naive",
        bot_status_normalized_fixed="Up",
        dedupe_statuses=_LIVE,
        auth_before_validation=False,
        admin_default_max_concurrent_bots=0,
    ),
}


def get_profile(profile: str | Profile) -> Profile:
    """Resolve a profile name; the error lists the names that exist."""
    if isinstance(profile, Profile):
        return profile
    try:
        return PROFILES[profile]
    except KeyError:
        known = ", ".join(sorted(PROFILES))
        raise ConfigurationError(
            f"unknown Vexa profile {profile!r}; choose one of: {known}"
        ) from None
