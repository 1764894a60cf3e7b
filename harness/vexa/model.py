"""The state of a fake Vexa: users, keys, meetings and their bots, on the harness clock.

Pure: no sockets, no threads, no real time. Every operation reads ``clock.now()`` once,
first lets scheduled lifecycle steps that are due happen (in order, each at its own time),
then acts. So a virtual clock that jumps 63 s replays exactly what 63 real seconds would have
done. Operations raise :class:`VexaError` with Vexa's status and message; the profile decides
every place where Vexa versions differ.
"""

from __future__ import annotations

import heapq
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from harness._clock import Clock
from harness._random import Streams
from harness.vexa.exceptions import VexaError
from harness.vexa.lifecycle import (
    DEFAULT_FAILURE_REASON,
    LIVE_STATUSES,
    RUNNING_STATUSES,
    TERMINAL_STATUSES,
    Lifecycle,
    Source,
    Status,
    can_move,
)
from harness.vexa.profiles import Profile
from harness.vexa.recordings import Recordings
from harness.vexa.shares import ShareLinks
from harness.vexa.transcripts import Segment, TranscriptStream

__all__ = ["ApiKey", "Effect", "Meeting", "StatusChange", "User", "VexaModel"]

SCOPES = ("bot", "tx", "browser")
_TOKEN_ALPHABET = string.ascii_letters + string.digits
#: Keys of ``meeting.data`` that survive ``DELETE /meetings`` (anonymisation).
_KEPT_ON_DELETE = ("status_transition", "completion_reason", "error", "diagnostics")


@dataclass(slots=True)
class User:
    id: int
    email: str
    name: str | None
    image_url: str | None
    max_concurrent_bots: int
    created_at: float
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ApiKey:
    id: int
    token: str
    user_id: int
    scopes: tuple[str, ...]
    created_at: float
    name: str | None = None
    expires_at: float | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One lifecycle step, for listeners (WebSocket frames, webhooks)."""

    meeting_id: int
    old: Status
    new: Status
    at: float
    source: Source
    reason: str | None


@dataclass(frozen=True, slots=True)
class Effect:
    """A side effect the model committed (what the no-blind-POST rule counts)."""

    kind: str
    user_id: int
    meeting_id: int | None = None
    platform: str | None = None
    native_meeting_id: str | None = None


@dataclass(slots=True)
class Meeting:
    id: int
    user_id: int
    platform: str
    native_meeting_id: str | None
    constructed_meeting_url: str | None
    status: Status
    bot_container_id: str
    created_at: float
    updated_at: float
    lifecycle: Lifecycle
    data: dict[str, Any] = field(default_factory=dict)
    start_time: float | None = None
    end_time: float | None = None
    completion_reason: str | None = None
    failure_stage: str | None = None
    #: Internal: the id the user sent, kept after anonymisation clears ``native_meeting_id``.
    original_native_id: str = ""
    container_name: str = ""
    webhook_secret: str | None = None
    transcript: TranscriptStream | None = None
    transcript_deleted: bool = False
    active_until: float | None = None
    stop_requested_by_user: bool = False
    stop_reason: str | None = None
    stage_before_stop: Status | None = None
    #: Bumped on every status change; a timer armed in an older epoch is stale.
    epoch: int = 0

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.user_id, self.platform, self.original_native_id)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(order=True, slots=True)
class _Timer:
    due: float
    seq: int
    meeting_id: int = field(compare=False)
    epoch: int | None = field(compare=False)
    action: str = field(compare=False)


class VexaModel:
    """Vexa's users, keys and meetings; one instance is one isolated fake deployment."""

    def __init__(
        self,
        clock: Clock,
        profile: Profile,
        seed: int = 0,
        lifecycle: Lifecycle | None = None,
    ) -> None:
        self.clock = clock
        self.profile = profile
        self.seed = seed
        self.lifecycle = lifecycle or Lifecycle()
        self.random = Streams(seed)
        self.users: dict[int, User] = {}
        self.keys: dict[str, ApiKey] = {}
        self.meetings: dict[int, Meeting] = {}
        self.listeners: list[Callable[[Meeting, StatusChange], None]] = []
        #: Shell objects that control routes may reach (the FakeVexa sets ``"fake"``).
        self.extra: dict[str, Any] = {}
        #: Called for every committed side effect (the journal listens here).
        self.effect_listeners: list[Callable[[Effect], None]] = []
        #: The ``X-Admin-API-Key`` that opens the admin API; None leaves it unconfigured.
        self.admin_key: str | None = None
        self._by_key: dict[tuple[int, str, str], list[int]] = {}
        self._timers: list[_Timer] = []
        self._seq = 0
        self._next_user = 1
        self._next_key = 1
        self._next_meeting = 1
        #: Recordings of ended, recorded bot sessions (a listener: it subscribes itself).
        self.recordings = Recordings(self)
        #: Public transcript share links.
        self.shares = ShareLinks(self.random("shares"))

    # ------------------------------------------------------------------ time

    def now(self) -> float:
        """The current harness time, after every lifecycle step due by then has happened."""
        now = self.clock.now()
        self.advance(now)
        return now

    def advance(self, until: float) -> None:
        """Run the scheduled lifecycle steps due at or before ``until``, in time order."""
        while self._timers and self._timers[0].due <= until:
            timer = heapq.heappop(self._timers)
            meeting = self.meetings.get(timer.meeting_id)
            if meeting is None or (timer.epoch is not None and timer.epoch != meeting.epoch):
                continue
            self._fire(meeting, timer.action, timer.due)

    def next_deadline(self) -> float | None:
        """When the next scheduled step is due (for shells that push events in real time)."""
        return self._timers[0].due if self._timers else None

    def _arm(self, meeting: Meeting, delay: float, action: str, *, sticky: bool = False) -> None:
        self._seq += 1
        epoch = None if sticky else meeting.epoch
        base = meeting.updated_at if not sticky else meeting.created_at
        heapq.heappush(self._timers, _Timer(base + delay, self._seq, meeting.id, epoch, action))

    def _effect(self, kind: str, user_id: int, meeting: Meeting | None = None) -> None:
        effect = Effect(kind, user_id)
        if meeting is not None:
            effect = Effect(kind, user_id, meeting.id, meeting.platform, meeting.original_native_id)
        for listener in list(self.effect_listeners):
            listener(effect)

    # ------------------------------------------------------------------ users and keys

    def create_user(
        self,
        email: str | None = None,
        *,
        name: str | None = None,
        max_concurrent_bots: int = 10,
        image_url: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> User:
        user_id = self._next_user
        self._next_user += 1
        user = User(
            id=user_id,
            email=email or f"user{user_id}@example.com",
            name=name,
            image_url=image_url,
            max_concurrent_bots=max_concurrent_bots,
            created_at=self.now(),
            data=dict(data or {}),
        )
        self.users[user_id] = user
        return user

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    def create_key(
        self,
        user_id: int,
        scopes: tuple[str, ...] = SCOPES,
        *,
        token: str | None = None,
        name: str | None = None,
        expires_in: float | None = None,
    ) -> ApiKey:
        if user_id not in self.users:
            raise VexaError(404, "User not found")
        bad = sorted(set(scopes) - set(SCOPES))
        if bad or not scopes:
            raise VexaError(422, f"Invalid scope(s): {bad}. Valid: {sorted(SCOPES)}")
        now = self.now()
        if token is None:
            rng = self.random("tokens")
            token = f"vxa_{scopes[0]}_" + "".join(rng.choices(_TOKEN_ALPHABET, k=32))
        if token in self.keys:
            raise VexaError(409, "API key already exists")
        key = ApiKey(
            id=self._next_key,
            token=token,
            user_id=user_id,
            scopes=tuple(scopes),
            created_at=now,
            name=name,
            expires_at=None if expires_in is None else now + expires_in,
        )
        self._next_key += 1
        self.keys[token] = key
        return key

    def revoke_key(self, key_id: int) -> None:
        for key in self.keys.values():
            if key.id == key_id and not key.revoked:
                key.revoked = True
                return
        raise VexaError(404, "Token not found")

    def authenticate(self, token: str | None) -> tuple[User, ApiKey]:
        """The user behind an ``X-API-Key``, or Vexa's 401."""
        if not token:
            raise VexaError(401, self.profile.missing_key_detail)
        key = self.keys.get(token)
        now = self.clock.now()
        if key is None or key.revoked or (key.expires_at is not None and key.expires_at <= now):
            raise VexaError(401, "Invalid API key")
        return self.users[key.user_id], key

    def authenticate_admin(self, token: str | None) -> None:
        """Admin routes: Vexa's 500 when no admin key is configured, 403 for a wrong one."""
        if self.admin_key is None:
            raise VexaError(500, "Admin authentication is not configured on the server.")
        if token != self.admin_key:
            raise VexaError(403, "Invalid or missing admin token.")

    # ------------------------------------------------------------------ meetings: lookup

    def meetings_of(self, user_id: int) -> Iterator[Meeting]:
        return (m for m in self.meetings.values() if m.user_id == user_id)

    def newest(self, user_id: int, platform: str, native_id: str) -> Meeting | None:
        """The newest meeting of the user for the key that still carries its native id."""
        for meeting_id in reversed(self._by_key.get((user_id, platform, native_id), [])):
            meeting = self.meetings[meeting_id]
            if meeting.native_meeting_id is not None:
                return meeting
        return None

    def rows_for(self, user_id: int, platform: str, native_id: str) -> list[Meeting]:
        ids = self._by_key.get((user_id, platform, native_id), [])
        return [self.meetings[i] for i in ids]

    def owned(self, user_id: int, meeting_id: int) -> Meeting | None:
        meeting = self.meetings.get(meeting_id)
        return meeting if meeting is not None and meeting.user_id == user_id else None

    # ------------------------------------------------------------------ bots

    def create_bot(
        self,
        user: User,
        platform: str,
        native: str,
        meeting_url: str | None,
        *,
        data: dict[str, Any],
        language: str | None = None,
    ) -> Meeting:
        """``POST /bots`` after validation: dedupe, concurrency cap, then a new meeting."""
        now = self.now()
        for row in self.rows_for(user.id, platform, native):
            if row.native_meeting_id is not None and row.status in self.profile.dedupe_statuses:
                raise VexaError(
                    409,
                    "An active or requested meeting already exists for this platform and "
                    "meeting ID",
                )
        limit = user.max_concurrent_bots
        live = sum(1 for m in self.meetings_of(user.id) if m.status in LIVE_STATUSES)
        if limit <= 0:
            raise VexaError(
                403,
                "Concurrent bot quota is depleted (limit is 0). Contact your administrator to "
                "increase it.",
            )
        if live >= limit:
            raise VexaError(403, f"Concurrent bot limit reached ({live}/{limit}).")
        meeting_id = self._next_meeting
        self._next_meeting += 1
        hexes = self.random("containers")
        meeting = Meeting(
            id=meeting_id,
            user_id=user.id,
            platform=platform,
            native_meeting_id=native,
            original_native_id=native,
            constructed_meeting_url=meeting_url,
            status=Status.REQUESTED,
            bot_container_id=f"{hexes.getrandbits(48):012x}",
            container_name=f"vexa-bot-{meeting_id}-{hexes.getrandbits(32):08x}",
            created_at=now,
            updated_at=now,
            lifecycle=self.lifecycle,
            data=dict(data),
            transcript=TranscriptStream(self.seed, meeting_id, language),
        )
        self._copy_webhook(user, meeting)
        self.meetings[meeting_id] = meeting
        self._by_key.setdefault(meeting.key, []).append(meeting_id)
        self._schedule_after_entering(meeting)
        self._effect("bot_created", user.id, meeting)
        timeouts = meeting.data.get("resolved_timeouts", {})
        self._arm(
            meeting, timeouts.get("max_bot_time", 7_200_000) / 1000, "max_bot_time", sticky=True
        )
        return meeting

    def _copy_webhook(self, user: User, meeting: Meeting) -> None:
        """Vexa copies the user's webhook into meetings started later; changes don't reach back."""
        if url := user.data.get("webhook_url"):
            meeting.data["webhook_url"] = url
            if (events := user.data.get("webhook_events")) is not None:
                meeting.data["webhook_events"] = dict(events)
            meeting.webhook_secret = user.data.get("webhook_secret")

    def stop_bot(self, user: User, platform: str, native_id: str) -> str:
        """``DELETE /bots/{platform}/{id}``: returns Vexa's 202 message."""
        now = self.now()
        newest = self.newest(user.id, platform, native_id)
        if newest is None:
            raise VexaError(404, "No meeting found to stop.")
        if newest.is_terminal:
            return f"Meeting already {newest.status.value}."
        for meeting in self.rows_for(user.id, platform, native_id):
            if meeting.is_terminal or meeting.native_meeting_id is None:
                continue
            meeting.data["stop_requested"] = True
            meeting.stop_requested_by_user = True
            if meeting.status is not Status.STOPPING:
                self._move(meeting, Status.STOPPING, now, Source.USER, reason="user_stop")
                self._effect("bot_stop_requested", user.id, meeting)
        return "Stop request accepted and is being processed."

    def reconfigure(
        self, user: User, platform: str, native_id: str, language: str | None, task: str | None
    ) -> None:
        """``PUT …/config``: only an active bot can be reconfigured."""
        now = self.now()
        meeting = self.newest(user.id, platform, native_id)
        if meeting is None:
            raise VexaError(404, "No active meeting found")
        if meeting.status is not Status.ACTIVE:
            raise VexaError(409, f"Meeting found but not active (status: '{meeting.status.value}')")
        if language is not None and meeting.transcript is not None:
            self._catch_up_transcript(meeting, now)
            meeting.transcript.set_language(language)
            meeting.data["language"] = language
        if task is not None:
            meeting.data["task"] = task

    # ------------------------------------------------------------------ lifecycle controls

    def admit(self, meeting: Meeting) -> None:
        self._control(meeting, Status.ACTIVE, Source.BOT)

    def reject(self, meeting: Meeting) -> None:
        self._fail(meeting, self.now(), "awaiting_admission_rejected", stage="awaiting_admission")

    def evict(self, meeting: Meeting) -> None:
        self._fail(meeting, self.now(), "evicted")

    def end(self, meeting: Meeting, reason: str = "left_alone") -> None:
        """The meeting ends around the bot (everyone left): ``completed``."""
        now = self.now()
        if not meeting.is_terminal:
            meeting.completion_reason = reason
            self._move(meeting, Status.COMPLETED, now, Source.BOT, reason=reason)

    def fail(self, meeting: Meeting, reason: str | None = None, stage: str | None = None) -> None:
        now = self.now()
        self._fail(
            meeting,
            now,
            reason or DEFAULT_FAILURE_REASON.get(meeting.status, "join_failure"),
            stage,
        )

    def _control(self, meeting: Meeting, target: Status, source: Source) -> None:
        now = self.now()
        if not can_move(meeting.status, target):
            raise VexaError(
                409,
                f"Meeting {meeting.id} is {meeting.status.value}; cannot move to {target.value}",
            )
        self._move(meeting, target, now, source)

    def _fail(self, meeting: Meeting, at: float, reason: str, stage: str | None = None) -> None:
        if meeting.is_terminal:
            raise VexaError(409, f"Meeting {meeting.id} is already {meeting.status.value}")
        meeting.completion_reason = reason
        meeting.failure_stage = stage or self._stage_of(meeting)
        self._move(meeting, Status.FAILED, at, Source.BOT, reason=reason)

    @staticmethod
    def _stage_of(meeting: Meeting) -> str:
        status = meeting.stage_before_stop if meeting.status is Status.STOPPING else meeting.status
        if status is Status.NEEDS_HUMAN_HELP or status is None:
            return "awaiting_admission"
        return status.value if status.value in DEFAULT_FAILURE_REASON else "active"

    # ------------------------------------------------------------------ the state machine

    def _move(
        self, meeting: Meeting, target: Status, at: float, source: Source, reason: str | None = None
    ) -> None:
        old = meeting.status
        if not can_move(old, target):
            return  # Vexa silently ignores illegal transitions
        if target is Status.STOPPING:
            meeting.stage_before_stop = old
        meeting.status = target
        meeting.updated_at = at
        meeting.epoch += 1
        entry: dict[str, Any] = {
            "from": old.value,
            "to": target.value,
            "timestamp": at,
            "source": source.value,
        }
        if reason is not None:
            entry["reason"] = reason
        if target is Status.ACTIVE:
            meeting.start_time = at
        if old is Status.ACTIVE:
            meeting.active_until = at
        if target in TERMINAL_STATUSES:
            meeting.end_time = at
            meeting.data["completion_reason"] = meeting.completion_reason
            entry["completion_reason"] = meeting.completion_reason
            if target is Status.FAILED:
                meeting.data["failure_stage"] = meeting.failure_stage
                entry["failure_stage"] = meeting.failure_stage
            self._finish_transcript(meeting)
        meeting.data.setdefault("status_transition", []).append(entry)
        self._schedule_after_entering(meeting)
        change = StatusChange(meeting.id, old, target, at, source, reason)
        for listener in list(self.listeners):
            listener(meeting, change)

    def _schedule_after_entering(self, meeting: Meeting) -> None:
        life, status = meeting.lifecycle, meeting.status
        failing_here = life.fail_at == status.value
        if status is Status.REQUESTED:
            self._arm(meeting, life.join_delay, "fail" if failing_here else "join")
        elif status is Status.JOINING:
            self._arm(meeting, life.lobby_delay, "fail" if failing_here else "lobby")
        elif status is Status.AWAITING_ADMISSION:
            if failing_here:
                self._arm(meeting, life.admission_delay, "fail")
            elif life.auto_admit:
                self._arm(meeting, life.admission_delay, "admit")
            wait = meeting.data.get("resolved_timeouts", {}).get("max_wait_for_admission", 900_000)
            self._arm(meeting, wait / 1000, "admission_timeout")
        elif status is Status.ACTIVE and failing_here:
            self._arm(meeting, life.active_fail_delay, "fail")
        elif status is Status.STOPPING:
            self._arm(meeting, life.stop_delay, "stopped")

    def _fire(self, meeting: Meeting, action: str, at: float) -> None:
        if action == "join":
            self._move(meeting, Status.JOINING, at, Source.BOT)
        elif action == "lobby":
            self._move(meeting, Status.AWAITING_ADMISSION, at, Source.BOT)
        elif action == "admit":
            self._move(meeting, Status.ACTIVE, at, Source.BOT)
        elif action == "fail":
            reason = DEFAULT_FAILURE_REASON.get(meeting.status, "join_failure")
            self._fail(meeting, at, reason)
        elif action == "admission_timeout":
            self._fail(meeting, at, "awaiting_admission_timeout", stage="awaiting_admission")
        elif action == "max_bot_time" and not meeting.is_terminal:
            meeting.stop_reason = "max_bot_time_exceeded"
            if meeting.status is not Status.STOPPING:
                self._move(meeting, Status.STOPPING, at, Source.SCHEDULER, reason="max_bot_time")
        elif action == "stopped":
            self._finish_stop(meeting, at)

    def _finish_stop(self, meeting: Meeting, at: float) -> None:
        if meeting.stop_requested_by_user or meeting.stop_reason is None:
            meeting.completion_reason = "stopped"
            self._move(meeting, Status.COMPLETED, at, Source.BOT, reason="stopped")
        else:
            self._fail(meeting, at, meeting.stop_reason)

    # ------------------------------------------------------------------ transcripts

    def _catch_up_transcript(self, meeting: Meeting, now: float) -> None:
        if meeting.transcript is None or meeting.start_time is None:
            return
        until = meeting.active_until if meeting.active_until is not None else now
        meeting.transcript.advance_to(min(until, now) - meeting.start_time)

    def _finish_transcript(self, meeting: Meeting) -> None:
        if meeting.start_time is not None and meeting.active_until is not None:
            self._catch_up_transcript(meeting, meeting.active_until)

    def segments(self, meeting: Meeting) -> tuple[list[Segment], Segment | None]:
        """Completed segments so far, and the one being spoken now (if the bot is active)."""
        if meeting.transcript is None or meeting.transcript_deleted or meeting.start_time is None:
            return [], None
        now = self.now()
        self._catch_up_transcript(meeting, now)
        draft = None
        if meeting.status is Status.ACTIVE:
            draft = meeting.transcript.draft(now - meeting.start_time)
        return list(meeting.transcript.segments), draft

    # ------------------------------------------------------------------ meetings

    def update_meeting_data(
        self, user: User, platform: str, native_id: str, changes: dict[str, Any]
    ) -> Meeting:
        now = self.now()
        meeting = self.newest(user.id, platform, native_id)
        if meeting is None:
            raise VexaError(404, f"Meeting not found for platform {platform} and ID {native_id}")
        if not changes:
            raise VexaError(400, "No data provided for update.")
        meeting.data.update(changes)
        meeting.updated_at = now
        return meeting

    def delete_meeting(self, user: User, platform: str, native_id: str) -> str:
        """``DELETE /meetings/{platform}/{id}``: returns the success message."""
        self.now()
        meeting = self.newest(user.id, platform, native_id)
        if meeting is None:
            anonymised = any(
                m.native_meeting_id is None for m in self.rows_for(user.id, platform, native_id)
            )
            if anonymised and self.profile.repeat_meeting_delete_succeeds:
                return f"Meeting {platform}/{native_id} already deleted and data anonymized"
            raise VexaError(404, f"Meeting not found for platform {platform} and ID {native_id}")
        if not meeting.is_terminal:
            raise VexaError(
                409,
                "Meeting not finalized; cannot delete transcripts. Current status: "
                f"{meeting.status.value}",
            )
        meeting.data = {k: meeting.data[k] for k in _KEPT_ON_DELETE if k in meeting.data}
        meeting.data["redacted"] = True
        meeting.native_meeting_id = None
        meeting.transcript_deleted = True
        self._effect("meeting_deleted", user.id, meeting)
        return (
            f"Meeting {platform}/{native_id} transcripts and recording artifacts deleted; "
            "meeting data anonymized"
        )

    def running(self, user_id: int) -> list[Meeting]:
        self.now()
        return [m for m in self.meetings_of(user_id) if m.status in RUNNING_STATUSES]

    # ------------------------------------------------------------------ user settings

    def set_webhook(
        self,
        user: User,
        url: str,
        secret: str | None,
        secret_given: bool,
        events: dict[str, bool] | None,
        events_given: bool,
    ) -> User:
        """``PUT /user/webhook`` as v0.10 stores it (empty or null secret clears it)."""
        self.now()
        user.data["webhook_url"] = url
        if secret_given:
            if secret and secret.strip():
                user.data["webhook_secret"] = secret.strip()
            else:
                user.data.pop("webhook_secret", None)
        if events_given:
            if events is None:
                user.data.pop("webhook_events", None)
            else:
                user.data["webhook_events"] = dict(events)
        return user
