"""How each Vexa version sends webhooks: which events, and how hard it tries. One table.

Every number the sender and the event rules use lives in a :class:`WebhookProfile`, one row
per Vexa profile name, as :mod:`harness.vexa.profiles` does for the REST API: adding a version
is adding a row, never an ``if``. The values are Vexa v0.10's (``reference/vexa-api.md`` §7);
the ``docs`` profile is the same row, because the docs say nothing that differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from harness.vexa.profiles import Profile

__all__ = ["API_VERSION", "V0_10", "WEBHOOK_PROFILES", "WebhookProfile", "webhook_profile"]

#: ``api_version`` of every v0.10+ envelope.
API_VERSION = "2026-03-01"


@dataclass(frozen=True, slots=True)
class WebhookProfile:
    """One Vexa version's webhook behaviour. Times are seconds on the harness clock."""

    name: str
    api_version: str
    # ------------------------------------------------------------------ which events fire
    #: Fire when the user's ``webhook_events`` filter does not mention them (or there is none).
    default_events: frozenset[str]
    #: Fire whatever the filter says (v0.10 forwards only enabled events as a CSV, so
    #: ``meeting.completed: false`` cannot take effect; ``recording.completed`` is unfiltered).
    unfiltered_events: frozenset[str]
    #: v0.12 sends ``meeting.status_change`` on every transition *and* the typed event beside
    #: it; v0.10 sends the typed event (``meeting.started``, ``bot.failed``) instead.
    status_change_beside_typed: bool
    #: v0.10's ``meeting.completed`` fires for failed meetings too.
    completed_on_failure: bool
    #: The event a finished recording announces (None: none is sent).
    recording_event: str | None
    # ------------------------------------------------------------------ how it is delivered
    #: Seconds one attempt may take before the sender gives up on it.
    timeout: float
    follow_redirects: bool
    #: Attempts made at once, before the durable queue: the first try and its quick retries.
    immediate_attempts: int
    #: Quick retry ``n`` (0-based) waits ``min(base ** n + U(0, jitter), cap)`` seconds.
    backoff_base: float
    backoff_jitter: float
    backoff_cap: float
    #: Answers that earn a quick retry (besides a timeout or a connect error). Any other
    #: failure (another 5xx, a broken connection) goes straight to the durable queue.
    quick_retry_statuses: frozenset[int]
    #: Waits of the durable queue: the first after the quick attempts failed, then one after
    #: each failed worker attempt. When they run out the delivery is dropped.
    durable_delays: tuple[float, ...]
    #: The durable worker looks at its queue this often (so a retry is due at a poll tick).
    durable_poll: float
    #: A queued delivery older than this is dropped without another attempt.
    max_age: float
    #: How far ``X-Webhook-Timestamp`` may be from now before a receiver must refuse it.
    signature_tolerance: float

    def with_changes(self, **changes: object) -> WebhookProfile:
        """A copy with some fields changed (e.g. a shorter timeout in a test)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @property
    def retry_horizon(self) -> float:
        """The longest a receiver may keep seeing one event (dedupe ids at least this long)."""
        return self.max_age


V0_10 = WebhookProfile(
    name="v0.10",
    api_version=API_VERSION,
    default_events=frozenset({"meeting.completed"}),
    unfiltered_events=frozenset({"meeting.completed", "recording.completed"}),
    status_change_beside_typed=False,
    completed_on_failure=True,
    recording_event="recording.completed",
    timeout=30.0,
    follow_redirects=True,
    immediate_attempts=4,
    backoff_base=2.0,
    backoff_jitter=0.5,
    backoff_cap=10.0,
    quick_retry_statuses=frozenset({429, 500, 502, 503, 504}),
    durable_delays=(60.0, 60.0, 300.0, 1800.0, 7200.0),
    durable_poll=30.0,
    max_age=86_400.0,
    signature_tolerance=300.0,
)

WEBHOOK_PROFILES: dict[str, WebhookProfile] = {
    "docs": V0_10.with_changes(name="docs"),
    "v0.10": V0_10,
}


def webhook_profile(profile: Profile | str) -> WebhookProfile:
    """The webhook row for a Vexa profile (a custom profile keeps its base name's row)."""
    name = profile if isinstance(profile, str) else profile.name
    return WEBHOOK_PROFILES.get(name, V0_10)
