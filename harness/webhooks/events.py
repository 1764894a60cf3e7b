"""Which webhook events a Vexa sends, when, and what their envelopes say. Pure.

:class:`Emitter` listens to the model's status changes (it is handed each one under the app
lock) and returns the :class:`Emission` values v0.10 would send for it, each with its envelope
already serialised: the body is built once per emission, and every retry resends those bytes
(only the timestamp and signature change, see :mod:`harness.webhooks.signing`).

v0.10's rules, as :class:`~harness.webhooks.profiles.WebhookProfile` fields:

- Nothing is sent for a meeting started without a webhook URL (the user's configuration is
  copied into each meeting at ``POST /bots``; later changes do not reach back).
- ``meeting.completed`` fires when the meeting ends, completed *or* failed, whatever the filter
  says; ``recording.completed`` fires when a recording is finalised, unfiltered.
- Each other transition sends ``meeting.started`` (→ active), ``bot.failed`` (→ failed) or
  ``meeting.status_change`` (anything else); these are opt-in: without a ``webhook_events``
  filter only ``meeting.completed`` fires, and an explicit ``true``/``false`` wins.

Known gap against the contract: webhook.v1's ``EventType`` (sealed from v0.12) has no
``recording.completed``; v0.10 sends it anyway, and so does the fake.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.vexa.lifecycle import TERMINAL_STATUSES, Source, Status
from harness.vexa.recordings import recording_view
from harness.webhooks.profiles import WebhookProfile, webhook_profile

if TYPE_CHECKING:
    from harness.vexa.model import Meeting, StatusChange, VexaModel
    from harness.vexa.profiles import Profile

__all__ = [
    "EVENT_TYPES",
    "INTERNAL_DATA_KEYS",
    "TRANSITION_SOURCES",
    "Emission",
    "Emitter",
    "body_of",
    "enabled",
    "envelope",
    "event_types_for",
    "meeting_payload",
    "new_event_id",
    "sample_stream",
    "status_change_payload",
]

#: Every event type the fake can send (v0.10's set).
EVENT_TYPES = (
    "meeting.started",
    "meeting.status_change",
    "meeting.completed",
    "bot.failed",
    "recording.completed",
)

#: ``status_change.transition_source`` for each model source.
TRANSITION_SOURCES: dict[Source, str] = {
    Source.BOT: "bot_callback",
    Source.USER: "user_stop",
    Source.SCHEDULER: "scheduler_timeout",
}

#: Keys of ``meeting.data`` the envelope never carries (Vexa's ``INTERNAL_DATA_KEYS``).
INTERNAL_DATA_KEYS = frozenset(
    {
        "webhook_delivery",
        "webhook_deliveries",
        "webhook_secret",
        "webhook_secrets",
        "webhook_events",
        "webhook_url",
        "outbound_events",
        "bot_container_id",
        "container_name",
    }
)


@dataclass(frozen=True, slots=True)
class Emission:
    """One logical event for one URL: what every attempt to deliver it resends."""

    event_id: str
    event_type: str
    url: str
    #: The secret copied into the meeting (None: deliveries carry no auth headers).
    secret: str | None
    #: ``json.dumps(envelope)``, exactly the bytes POSTed.
    body: bytes
    meeting_id: int
    user_id: int
    #: Harness time the event happened (and the envelope was built).
    at: float

    @property
    def envelope(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


# ---------------------------------------------------------------------------- the rules


def enabled(event_type: str, events: Mapping[str, bool] | None, wp: WebhookProfile) -> bool:
    """Whether a meeting with this ``webhook_events`` filter sends ``event_type``."""
    if event_type in wp.unfiltered_events:
        return True
    default = event_type in wp.default_events
    if events is None:
        return default
    chosen = events.get(event_type)
    return default if chosen is None else bool(chosen)


def event_types_for(change: StatusChange, wp: WebhookProfile) -> list[str]:
    """The lifecycle events one transition sends, before the filter, in sending order."""
    typed = {Status.ACTIVE: "meeting.started", Status.FAILED: "bot.failed"}.get(change.new)
    types: list[str] = []
    if typed is None or wp.status_change_beside_typed:
        types.append("meeting.status_change")
    if typed is not None:
        types.append(typed)
    if change.new is Status.COMPLETED or (change.new is Status.FAILED and wp.completed_on_failure):
        types.append("meeting.completed")
    return types


# ---------------------------------------------------------------------------- the envelope


def new_event_id(rng: random.Random) -> str:
    """``evt_<32 hex>``: v0.10's fresh uuid4 per emission, drawn from a seeded stream."""
    return f"evt_{rng.getrandbits(128):032x}"


def meeting_payload(meeting: Meeting, profile: Profile) -> dict[str, Any]:
    """``data.meeting``: the meeting as the envelope shows it (internal data keys stripped)."""
    from harness.vexa.views import public_data, stamp  # views imports the model

    data = {k: v for k, v in public_data(meeting, profile).items() if k not in INTERNAL_DATA_KEYS}
    return {
        "id": meeting.id,
        "user_id": meeting.user_id,
        "platform": meeting.platform,
        "native_meeting_id": meeting.native_meeting_id,
        "constructed_meeting_url": meeting.constructed_meeting_url,
        "status": meeting.status.value,
        "completion_reason": meeting.completion_reason,
        "failure_stage": meeting.failure_stage,
        "start_time": stamp(meeting.start_time, profile),
        "end_time": stamp(meeting.end_time, profile),
        "data": data,
        "created_at": stamp(meeting.created_at, profile),
        "updated_at": stamp(meeting.updated_at, profile),
    }


def status_change_payload(change: StatusChange, profile: Profile) -> dict[str, Any]:
    from harness.vexa.views import aware_stamp

    return {
        "from": change.old.value,
        "to": change.new.value,
        "reason": change.reason,
        "timestamp": aware_stamp(change.at, profile),
        "transition_source": TRANSITION_SOURCES.get(change.source, change.source.value),
    }


def envelope(
    event_id: str,
    event_type: str,
    at: float,
    data: dict[str, Any],
    profile: Profile,
    wp: WebhookProfile,
) -> dict[str, Any]:
    """The v0.10 envelope (``created_at`` tz-aware: ``+00:00`` in v0.10, ``Z`` in docs)."""
    from harness.vexa.views import aware_stamp

    return {
        "event_id": event_id,
        "event_type": event_type,
        "api_version": wp.api_version,
        "created_at": aware_stamp(at, profile),
        "data": data,
    }


def body_of(payload: dict[str, Any]) -> bytes:
    """The bytes Vexa POSTs: ``json.dumps`` with Python's default separators."""
    return json.dumps(payload).encode()


# ---------------------------------------------------------------------------- the emitter


class Emitter:
    """Turns a model's status changes into the emissions its Vexa version would send."""

    def __init__(self, model: VexaModel, wp: WebhookProfile | None = None) -> None:
        self.model = model
        self.wp = wp or webhook_profile(model.profile)
        self._ids = model.random("webhooks:event_ids")
        self._announced: set[int] = set()

    def on_change(self, meeting: Meeting, change: StatusChange) -> list[Emission]:
        """Everything this transition sends (call it after the recordings listener ran)."""
        url = meeting.data.get("webhook_url")
        if not url:
            return []
        events = meeting.data.get("webhook_events")
        out: list[Emission] = []
        for event_type in event_types_for(change, self.wp):
            if enabled(event_type, events, self.wp):
                out.append(self.emit(meeting, event_type, change.at, change))
        if change.new in TERMINAL_STATUSES and self.wp.recording_event is not None:
            for record in meeting.data.get("recordings") or []:
                if isinstance(record, dict) and record.get("id") not in self._announced:
                    self._announced.add(record["id"])
                    out.append(self.emit_recording(meeting, record, change.at))
        return out

    def emit(
        self,
        meeting: Meeting,
        event_type: str,
        at: float,
        change: StatusChange | None = None,
    ) -> Emission:
        """One meeting event now (``meeting.completed`` carries no ``status_change``)."""
        profile = self.model.profile
        data: dict[str, Any] = {"meeting": meeting_payload(meeting, profile)}
        if change is not None and event_type != "meeting.completed":
            data["status_change"] = status_change_payload(change, profile)
        return self._emission(meeting, event_type, at, data)

    def emit_recording(self, meeting: Meeting, record: dict[str, Any], at: float) -> Emission:
        event_type = self.wp.recording_event or "recording.completed"
        return self._emission(meeting, event_type, at, {"recording": recording_view(record)})

    def _emission(
        self, meeting: Meeting, event_type: str, at: float, data: dict[str, Any]
    ) -> Emission:
        event_id = new_event_id(self._ids)
        payload = envelope(event_id, event_type, at, data, self.model.profile, self.wp)
        return Emission(
            event_id=event_id,
            event_type=event_type,
            url=str(meeting.data.get("webhook_url") or ""),
            secret=meeting.webhook_secret,
            body=body_of(payload),
            meeting_id=meeting.id,
            user_id=meeting.user_id,
            at=at,
        )


# ---------------------------------------------------------------------------- a sample stream

#: Every opt-in event switched on: the richest stream a receiver can be sent.
ALL_EVENTS = {"meeting.started": True, "meeting.status_change": True, "bot.failed": True}


def sample_stream(profile: Profile | str = "v0.10", seed: int = 0) -> tuple[Emission, ...]:
    """A realistic stream, as the fake's own model produces it (no I/O, virtual time).

    Two meetings overlap: one goes the whole way (joins, is admitted, is stopped by its user,
    completes, leaves a recording); the other is refused at the lobby and fails. With every
    event switched on that is each event type at least once, interleaved in time.
    """
    from harness._clock import VirtualClock
    from harness.vexa.model import VexaModel
    from harness.vexa.profiles import get_profile

    clock = VirtualClock()
    model = VexaModel(clock, get_profile(profile), seed)
    emitter = Emitter(model)
    stream: list[Emission] = []
    model.listeners.append(
        lambda meeting, change: stream.extend(emitter.on_change(meeting, change))
    )
    user = model.create_user("receiver-check@example.com")
    model.set_webhook(user, "http://receiver.invalid/webhook", None, False, ALL_EVENTS, True)
    data = {"recording_enabled": True}
    kept = model.create_bot(
        user, "google_meet", "abc-defg-hij", "https://meet.google.com/abc-defg-hij", data=data
    )
    clock.advance(0.5)
    refused = model.create_bot(
        user, "zoom", "98765432101", "https://zoom.us/j/98765432101", data=data
    )
    clock.advance(2.0)
    model.now()
    model.reject(refused)
    clock.advance(30.0)
    model.stop_bot(user, kept.platform, kept.original_native_id)
    clock.advance(5.0)
    model.now()
    return tuple(stream)
