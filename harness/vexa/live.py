"""The live side of Vexa v0.10: who is subscribed to what on ``/ws``, and the frames they get.

Pure: no sockets, no tasks, no clock reads. Every call is handed ``now`` by the shell and
runs under the application lock (status listeners already do), so a frame is produced exactly
once, in the order the model's history happened. A transport (loopback socket or in-process)
only moves frames out of a :class:`Session`'s outbox and feeds client text in.

What v0.10 does, and what is copied here (api-gateway ``websocket_multiplex``, the collector's
``/ws/authorize-subscribe``, meeting-api ``publish_meeting_status_change``):

- The gateway accepts every upgrade. No key: ``missing_api_key`` and close 4401. The key is not
  checked at connect; the collector checks it on each subscribe, and a refusal comes back as
  ``authorization_service_error`` carrying the collector's status and raw body text.
- A subscription binds to the meeting that is newest for ``(user, platform, native_id)`` at
  that moment; the meeting id names the Redis channels. Another user's meeting is "not
  authorized or not found", exactly like a missing one.
- Data frames are Redis pub/sub: a subscriber sees what is published after it subscribed and
  nothing from before. ``meeting.status`` is published on every status change of the meeting
  (v0.10 callbacks pass no ``extra_data``, so ``payload`` is ``{"status"}`` alone).
  ``transcript`` is the collector's per-speaker bundle: newly ``confirmed`` segments and the
  one still being spoken (``pending``), each rendered exactly as ``GET /transcripts`` renders
  it (:func:`~harness.vexa.views.segment_view`) less the REST-only ``created_at``.
- Transcript text is published when the shell asks (:meth:`LiveHub.flush`) and, before each
  status frame, up to the instant of that status change: so segments spoken before a stop
  always arrive before ``stopping``, however far a virtual clock jumps in one step.

Where v0.10 would send a frame outside ws.v1 the fake stays inside the contract: a JSON value
that is not an object crashes v0.10's handler (it answers ``'list' object has no attribute
'get'`` and closes); here it is an ``unknown_action``. A binary message (v0.10 crashes on it
too) is an ``invalid_json``. v0.10's gateway does not forward ``va:meeting:{id}:chat``
(``chat.new_message``); neither does the fake.

Slow consumers: each session's outbox is bounded (:data:`DEFAULT_QUEUE_LIMIT` frames). When
it is full the *oldest* frame is dropped and counted (:attr:`Session.dropped`,
:attr:`LiveHub.dropped`); the connection stays open and the REST API never waits for a reader.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from harness.vexa.bodies import BodyError, parse_body
from harness.vexa.exceptions import VexaError
from harness.vexa.lifecycle import Status
from harness.vexa.model import Meeting, StatusChange, VexaModel
from harness.vexa.platforms import Platform, construct_meeting_url
from harness.vexa.transcripts import Segment
from harness.vexa.views import segment_view, stamp

__all__ = [
    "DEFAULT_QUEUE_LIMIT",
    "LIVE_PERIOD",
    "MISSING_KEY_CLOSE",
    "Frame",
    "LiveHub",
    "Session",
]

Frame = dict[str, Any]

#: Frames a session may hold for a reader that is not keeping up; then the oldest go.
DEFAULT_QUEUE_LIMIT = 1024
#: While a subscribed meeting is active, how often a real-time shell looks for new speech.
LIVE_PERIOD = 0.2
#: The close code v0.10 sends after ``missing_api_key``.
MISSING_KEY_CLOSE = 4401

#: (platform, native_id, user_id): how v0.10's gateway keys one socket's subscriptions.
SubscriptionKey = tuple[str, str, int]


#: What :meth:`LiveHub.receive` makes of text that is not JSON (``null`` is JSON).
_NOT_JSON: Any = object()


def _nothing() -> None:
    """The default wake-up: a session nobody waits on."""


def _error(code: str, **extra: Any) -> Frame:
    return {"type": "error", "error": code, **extra}


def _as_text(value: Any) -> str:
    """What v0.10's gateway makes of a JSON value with ``str(value).strip()``."""
    return str(value).strip()


class _MeetingRef(BaseModel):
    """The collector's ``MeetingRef``: an unknown platform is its 422."""

    platform: Platform
    native_meeting_id: str


class _AuthorizeSubscribe(BaseModel):
    meetings: list[_MeetingRef]


class Session:
    """One connected socket: its API key, its subscriptions and its bounded outbox."""

    def __init__(
        self, hub: LiveHub, api_key: str | None, wake: Callable[[], None], limit: int
    ) -> None:
        self.hub = hub
        self.api_key = api_key
        #: Subscription → the meeting id it was bound to when it was made.
        self.subscriptions: dict[SubscriptionKey, int] = {}
        #: Frames dropped from this session's outbox because its reader fell behind.
        self.dropped = 0
        #: Set when the server closes the socket (after the frames already queued).
        self.close_code: int | None = None
        self.limit = max(1, limit)
        self._outbox: deque[Frame] = deque()
        self._wake = wake

    def push(self, frame: Frame) -> None:
        """Queue a frame (dropping the oldest when full) and wake the transport."""
        if self.close_code is not None:
            return  # closing: nothing after the farewell
        while len(self._outbox) >= self.limit:
            self._outbox.popleft()
            self.dropped += 1
            self.hub.dropped += 1
        self._outbox.append(frame)
        self._wake()

    def take(self) -> list[Frame]:
        """Everything queued, oldest first; the outbox is empty afterwards."""
        frames = list(self._outbox)
        self._outbox.clear()
        return frames

    @property
    def queued(self) -> int:
        return len(self._outbox)

    def close(self, code: int) -> None:
        """Close after what is already queued; later frames are not queued."""
        self.close_code = code
        self._wake()


@dataclass(slots=True)
class _Channel:
    """What one meeting has published so far (its ``tc:`` and ``bm:`` channels)."""

    meeting_id: int
    #: How many completed segments were already published.
    published: int
    #: (segment index, text) of the pending segment last published, if any.
    pending: tuple[int, str] | None
    subscribers: list[Session] = field(default_factory=list)


class LiveHub:
    """Subscriptions and frame production for every ``/ws`` session of one model."""

    def __init__(self, model: VexaModel, *, queue_limit: int = DEFAULT_QUEUE_LIMIT) -> None:
        self.model = model
        #: Outbox bound for sessions connected from now on.
        self.queue_limit = queue_limit
        self.sessions: list[Session] = []
        #: Frames dropped across all sessions because a reader fell behind.
        self.dropped = 0
        self._channels: dict[int, _Channel] = {}
        model.listeners.append(self._on_status)

    # ------------------------------------------------------------------ connections

    def connect(self, api_key: str | None, wake: Callable[[], None] = _nothing) -> Session:
        """A socket was accepted (v0.10 accepts first); without a key it is told and closed."""
        session = Session(self, api_key or None, wake, self.queue_limit)
        self.sessions.append(session)
        if session.api_key is None:
            session.push(_error("missing_api_key"))
            session.close(MISSING_KEY_CLOSE)
        return session

    def disconnect(self, session: Session) -> None:
        for meeting_id in list(session.subscriptions.values()):
            self._leave(session, meeting_id)
        session.subscriptions.clear()
        if session in self.sessions:
            self.sessions.remove(session)

    @property
    def active(self) -> bool:
        """True while anyone is subscribed to anything (shells skip work otherwise)."""
        return bool(self._channels)

    # ------------------------------------------------------------------ client → server

    def receive(self, session: Session, text: str | None, now: float) -> None:
        """One client message (None for a binary one), answered into the session's outbox."""
        if session.close_code is not None:
            return
        try:
            message = json.loads(text) if text is not None else _NOT_JSON
        except ValueError:
            message = _NOT_JSON
        if message is _NOT_JSON:
            session.push(_error("invalid_json"))
            return
        action = message.get("action") if isinstance(message, dict) else None
        if action == "subscribe":
            self._subscribe(session, message.get("meetings"), now)
        elif action == "unsubscribe":
            self._unsubscribe(session, message.get("meetings"))
        elif action == "ping":
            session.push({"type": "pong"})
        else:
            session.push(_error("unknown_action"))

    def _subscribe(self, session: Session, meetings: Any, now: float) -> None:
        if not isinstance(meetings, list):
            session.push(
                _error("invalid_subscribe_payload", details="'meetings' must be a non-empty list")
            )
            return
        if not meetings:
            session.push(
                _error("invalid_subscribe_payload", details="'meetings' list cannot be empty")
            )
            return
        refs = [
            (_as_text(m.get("platform", "")), _as_text(m.get("native_id", "")))
            for m in meetings
            if isinstance(m, dict)
        ]
        refs = [(platform, native) for platform, native in refs if platform and native]
        if not refs:
            session.push(_error("invalid_subscribe_payload", details="no valid meeting objects"))
            return
        try:
            authorized, errors = self._authorize(session.api_key, refs)
        except VexaError as exc:
            # The gateway forwards the collector's status and its body text, unparsed.
            body = json.dumps(exc.payload(), separators=(",", ":"), ensure_ascii=False)
            session.push(_error("authorization_service_error", status=exc.status, detail=body))
            return
        if errors:
            session.push(_error("invalid_subscribe_payload", details=errors))
        acked = []
        for platform, native, meeting in authorized:
            key = (platform, native, meeting.user_id)
            if key not in session.subscriptions:
                session.subscriptions[key] = meeting.id
                self._join(session, meeting, now)
            acked.append({"platform": platform, "native_id": native})
        session.push({"type": "subscribed", "meetings": acked})

    def _authorize(
        self, api_key: str | None, refs: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str, Meeting]], list[str]]:
        """The collector's ``POST /ws/authorize-subscribe``: auth, body, then each meeting."""
        user, _ = self.model.authenticate(api_key)
        raw = {"meetings": [{"platform": p, "native_meeting_id": n} for p, n in refs]}
        try:
            body = parse_body(_AuthorizeSubscribe, json.dumps(raw).encode())
        except BodyError as exc:
            raise VexaError(422, exc.errors) from None
        authorized: list[tuple[str, str, Meeting]] = []
        errors: list[str] = []
        for index, ref in enumerate(body.meetings):
            platform, native = ref.platform.value, ref.native_meeting_id
            if construct_meeting_url(ref.platform, native) is None:
                errors.append(
                    f"meetings[{index}] invalid native_meeting_id for platform '{platform}'"
                )
                continue
            meeting = self.model.newest(user.id, platform, native)
            if meeting is None:
                errors.append(f"meetings[{index}] not authorized or not found for user")
                continue
            authorized.append((platform, native, meeting))
        return authorized, errors

    def _unsubscribe(self, session: Session, meetings: Any) -> None:
        if not isinstance(meetings, list):
            session.push(_error("invalid_unsubscribe_payload", details="'meetings' must be a list"))
            return
        done: list[dict[str, str]] = []
        errors: list[str] = []
        for index, ref in enumerate(meetings):
            if not isinstance(ref, dict):
                errors.append(f"meetings[{index}] must be an object")
                continue
            platform, native = _as_text(ref.get("platform", "")), _as_text(ref.get("native_id", ""))
            if not platform or not native:
                errors.append(f"meetings[{index}] missing 'platform' or 'native_id'")
                continue
            key = next((k for k in session.subscriptions if k[:2] == (platform, native)), None)
            if key is None:
                errors.append(f"meetings[{index}] not currently subscribed")
                continue
            self._leave(session, session.subscriptions.pop(key))
            done.append({"platform": platform, "native_id": native})
        if errors and not done:
            session.push(_error("invalid_unsubscribe_payload", details=errors))
            return
        session.push({"type": "unsubscribed", "meetings": done})

    # ------------------------------------------------------------------ channels

    def _join(self, session: Session, meeting: Meeting, now: float) -> None:
        channel = self._channels.get(meeting.id)
        if channel is None:
            # Start at what exists now: a new subscriber gets nothing published before it.
            completed, draft = self._speech(meeting, now)
            pending = (draft.index, draft.text) if draft is not None else None
            channel = _Channel(meeting.id, len(completed), pending)
            self._channels[meeting.id] = channel
        channel.subscribers.append(session)

    def _leave(self, session: Session, meeting_id: int) -> None:
        channel = self._channels.get(meeting_id)
        if channel is None:
            return
        if session in channel.subscribers:
            channel.subscribers.remove(session)
        if not channel.subscribers:
            del self._channels[meeting_id]

    def _publish(self, channel: _Channel, frames: list[Frame]) -> None:
        for session in list(channel.subscribers):
            for frame in frames:
                session.push(frame)

    # ------------------------------------------------------------------ server → client

    def flush(self, now: float) -> None:
        """Publish the speech of every subscribed meeting up to ``now``.

        The shell calls this after the model has run its timers up to ``now``
        (``model.now()`` or ``model.advance(now)``), never with a time the model has not reached.
        """
        for channel in list(self._channels.values()):
            meeting = self.model.meetings.get(channel.meeting_id)
            if meeting is not None:
                self._publish(channel, self._transcript_frames(channel, meeting, now))

    def next_wakeup(self, now: float) -> float | None:
        """When a real-time shell should flush next: the model's next step, or soon while a
        subscribed meeting is active (its speech moves continuously); None when idle."""
        if not self._channels:
            return None
        due = self.model.next_deadline()
        speaking = any(
            (m := self.model.meetings.get(c.meeting_id)) is not None and m.status is Status.ACTIVE
            for c in self._channels.values()
        )
        if speaking:
            due = now + LIVE_PERIOD if due is None else min(due, now + LIVE_PERIOD)
        return due

    def _on_status(self, meeting: Meeting, change: StatusChange) -> None:
        channel = self._channels.get(meeting.id)
        if channel is None:
            return
        frames = self._transcript_frames(channel, meeting, change.at)
        frames.append(
            {
                "type": "meeting.status",
                "meeting": {
                    "id": meeting.id,
                    "platform": meeting.platform,
                    "native_id": meeting.original_native_id,
                },
                "payload": {"status": change.new.value},
                "user_id": meeting.user_id,
                "ts": stamp(change.at, self.model.profile),
            }
        )
        self._publish(channel, frames)

    def _speech(self, meeting: Meeting, now: float) -> tuple[list[Segment], Segment | None]:
        """``model.segments`` at a given instant: completed segments and the live draft."""
        stream = meeting.transcript
        if stream is None or meeting.transcript_deleted or meeting.start_time is None:
            return [], None
        until = now if meeting.active_until is None else min(meeting.active_until, now)
        stream.advance_to(until - meeting.start_time)
        draft = None
        if meeting.status is Status.ACTIVE:
            draft = stream.draft(now - meeting.start_time)
        return stream.segments, draft

    def _transcript_frames(self, channel: _Channel, meeting: Meeting, now: float) -> list[Frame]:
        completed, draft = self._speech(meeting, now)
        fresh = completed[channel.published :]
        channel.published = len(completed)
        key = (draft.index, draft.text) if draft is not None else None
        if key == channel.pending:
            draft = None  # unchanged since it was last published
        channel.pending = key
        frames: list[Frame] = []
        start = meeting.start_time or 0.0  # set whenever there is speech
        for speaker, run in itertools.groupby(fresh, key=lambda s: s.speaker):
            segments = list(run)
            frames.append(self._bundle(meeting, speaker, segments, [], start + segments[-1].end))
        if draft is not None:
            pending = [self._segment(meeting, draft, completed=False)]
            if frames and frames[-1]["speaker"] == draft.speaker:
                frames[-1]["pending"] = pending
                frames[-1]["ts"] = stamp(now, self.model.profile)
            else:
                frames.append(self._bundle(meeting, draft.speaker, [], pending, now))
        return frames

    def _bundle(
        self,
        meeting: Meeting,
        speaker: str,
        confirmed: list[Segment],
        pending: list[Frame],
        ts: float,
    ) -> Frame:
        return {
            "type": "transcript",
            "meeting": {"id": meeting.id},
            "speaker": speaker,
            "confirmed": [self._segment(meeting, s, completed=True) for s in confirmed],
            "pending": pending,
            "ts": stamp(ts, self.model.profile),
        }

    def _segment(self, meeting: Meeting, segment: Segment, *, completed: bool) -> Frame:
        view = segment_view(meeting, segment, self.model.profile, completed=completed)
        del view["created_at"]  # REST only: the collector's live segments carry no row time
        return view
