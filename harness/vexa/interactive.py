"""What an active bot does on request: speak, chat, share its screen, show an avatar.

Vexa v0.10 (``meeting_api/voice_agent.py``) publishes each command to the bot over Redis
and answers 202 at once. The bot's chat capture and its event log also live in Redis. Here
they are a pure record per meeting, kept by one :class:`Interactions` per model:

- **chat**: what the bot sent (``is_from_bot: true``), plus a few participant messages.
  These come from ``(seed, meeting id)`` and show up at fixed offsets while the bot is
  active, so ``GET …/chat`` looks like a real meeting and is the same on every run.
- **events**: the meeting's status changes, then every command the bot received, in order.

The status changes are read from ``meeting.data["status_transition"]``, the model's own log of
each ``StatusChange`` it gives its listeners. A listener would miss every change made before
this store first existed, which is created lazily on the first interactive call. Commands
reach only an active bot, and ``active`` leads only to terminal or stopping statuses, so a
meeting's commands always come after all of the status changes that ``GET …/events`` can see.

The checks are Vexa's, in Vexa's order: first the meeting lookup (404), then the command's own
400s. The body is a raw JSON object (``req: dict`` in Vexa), so only truthiness matters:
``{"text": ""}`` is missing, and ``{"text": 5}`` is spoken.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from harness.vexa.exceptions import VexaError
from harness.vexa.lifecycle import Status
from harness.vexa.model import Meeting, VexaModel
from harness.vexa.transcripts import SPEAKERS

__all__ = [
    "SCREEN_TYPES",
    "BotEvent",
    "ChatMessage",
    "Interactions",
    "interactions",
]

SCREEN_TYPES = ("image", "video", "url", "html")

#: What participants type into the meeting chat (two lines per meeting, picked by seed).
CHAT_LINES = (
    "Hi all, the agenda is in the meeting notes.",
    "Could someone drop the doc link here?",
    "I'll be two minutes late for the next item.",
    "+1, sounds good to me.",
    "Can the bot share the slides?",
    "Dashboard link: https://example.com/dash",
)
#: Offsets of the participant messages after the bot became active: (min, max) seconds.
_FIRST_CHAT = (8.0, 20.0)
_NEXT_CHAT = (25.0, 50.0)


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """api.v1 ``ChatMessage``: one line of the meeting chat."""

    sender: str
    text: str
    timestamp: float
    is_from_bot: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "sender": self.sender,
            "text": self.text,
            "timestamp": self.timestamp,
            "is_from_bot": self.is_from_bot,
        }


@dataclass(frozen=True, slots=True)
class BotEvent:
    """One entry of ``GET …/events``: a command the bot received, or a status change."""

    type: str
    timestamp: float
    data: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "timestamp": self.timestamp, "data": self.data}


@dataclass(slots=True)
class _BotRecord:
    chat: list[ChatMessage] = field(default_factory=list)
    commands: list[BotEvent] = field(default_factory=list)


def _text(value: Any) -> str:
    """How a non-string chat text reaches the meeting: as its JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class Interactions:
    """The interactive state of every meeting of one :class:`VexaModel`."""

    def __init__(self, model: VexaModel) -> None:
        self.model = model
        self._records: dict[int, _BotRecord] = {}

    # ------------------------------------------------------------------ finding the bot

    def active_meeting(self, user_id: int, platform: str, native_id: str) -> Meeting:
        """The user's newest *active* meeting for the key (Vexa's ``_find_active_meeting``)."""
        self.model.now()
        for meeting in reversed(self.model.rows_for(user_id, platform, native_id)):
            if meeting.status is Status.ACTIVE and meeting.native_meeting_id is not None:
                return meeting
        raise VexaError(404, f"No active meeting found for {platform}/{native_id}")

    def any_meeting(self, user_id: int, platform: str, native_id: str) -> Meeting:
        """The user's newest meeting for the key, in any status (``GET …/chat``)."""
        self.model.now()
        meeting = self.model.newest(user_id, platform, native_id)
        if meeting is None:
            raise VexaError(404, f"No meeting found for {platform}/{native_id}")
        return meeting

    # ------------------------------------------------------------------ commands

    def speak(self, meeting: Meeting, body: dict[str, Any]) -> str:
        if body.get("text"):
            data = {
                "text": body["text"],
                "provider": body.get("provider", "piper"),
                "voice": body.get("voice", "auto"),
            }
        elif body.get("audio_url") or body.get("audio_base64"):
            data = {
                "audio_url": body.get("audio_url"),
                "audio_base64": body.get("audio_base64"),
                "format": body.get("format", "wav"),
                "sample_rate": body.get("sample_rate", 24000),
            }
        else:
            raise VexaError(400, "Must provide one of: text, audio_url, or audio_base64")
        self._record(meeting, "speak.started", data)
        return "Speak command sent"

    def stop_speaking(self, meeting: Meeting) -> str:
        self._record(meeting, "speak.stopped", {})
        return "Speak stop command sent"

    def send_chat(self, meeting: Meeting, body: dict[str, Any]) -> str:
        text = body.get("text")
        if not text:
            raise VexaError(400, "text is required")
        now = self.model.now()
        sender = str(meeting.data.get("bot_name") or "Vexa Bot")
        self._state(meeting).chat.append(ChatMessage(sender, _text(text), now, True))
        self._record(meeting, "chat.sent", {"text": text})
        return "Chat message sent"

    def show_screen(self, meeting: Meeting, body: dict[str, Any]) -> str:
        kind = body.get("type")
        if kind not in SCREEN_TYPES:
            raise VexaError(400, "type must be one of: image, video, url, html")
        if kind == "html" and not body.get("html"):
            raise VexaError(400, "html content is required for type=html")
        if kind != "html" and not body.get("url"):
            raise VexaError(400, f"url is required for type={kind}")
        data = {
            "type": kind,
            "url": body.get("url"),
            "html": body.get("html"),
            "start_share": body.get("start_share", True),
        }
        self._record(meeting, "screen.started", data)
        return "Screen content command sent"

    def stop_screen(self, meeting: Meeting) -> str:
        self._record(meeting, "screen.stopped", {})
        return "Screen stop command sent"

    def set_avatar(self, meeting: Meeting, body: dict[str, Any]) -> str:
        if not body.get("url") and not body.get("image_base64"):
            raise VexaError(400, "Either 'url' or 'image_base64' must be provided")
        data = {"url": body.get("url"), "image_base64": body.get("image_base64")}
        self._record(meeting, "avatar.set", data)
        return "Avatar set command sent"

    def reset_avatar(self, meeting: Meeting) -> str:
        self._record(meeting, "avatar.reset", {})
        return "Avatar reset command sent"

    def set_voice_agent(self, meeting: Meeting, url: str | None) -> str:
        """Point the voice agent at ``url``, or turn it off; Vexa saves this in meeting data."""
        now = self.model.now()
        if url:
            meeting.data["voice_agent_enabled"] = True
            meeting.data["camera_enabled"] = True
            meeting.data["voice_agent_settings"] = {"url": url}
            self._record(meeting, "voice_agent.updated", {"url": url})
        else:
            meeting.data["voice_agent_enabled"] = False
            meeting.data.pop("voice_agent_settings", None)
            self._record(meeting, "voice_agent.stopped", {})
        meeting.updated_at = now
        return "Voice agent settings command sent"

    # ------------------------------------------------------------------ reading

    def chat(self, meeting: Meeting) -> list[ChatMessage]:
        """The meeting chat as the bot captured it, oldest first."""
        now = self.model.now()
        messages = self._participants(meeting, now) + self._state(meeting).chat
        return sorted(messages, key=lambda m: m.timestamp)

    def events(self, meeting: Meeting, limit: int) -> list[BotEvent]:
        """The last ``limit`` events, oldest first: the status changes, then the commands."""
        self.model.now()
        statuses = [
            BotEvent(
                "meeting.status",
                entry["timestamp"],
                {k: v for k, v in entry.items() if k != "timestamp"},
            )
            for entry in meeting.data.get("status_transition") or []
        ]
        return [*statuses, *self._state(meeting).commands][-limit:]

    # ------------------------------------------------------------------ internals

    def _state(self, meeting: Meeting) -> _BotRecord:
        return self._records.setdefault(meeting.id, _BotRecord())

    def _record(self, meeting: Meeting, kind: str, data: dict[str, Any]) -> None:
        self._state(meeting).commands.append(BotEvent(kind, self.model.now(), data))

    def _participants(self, meeting: Meeting, now: float) -> list[ChatMessage]:
        """The participant lines typed so far while the bot was in the meeting."""
        if meeting.start_time is None:
            return []
        if meeting.status is Status.ACTIVE:
            until = now
        else:
            until = meeting.active_until if meeting.active_until is not None else now
        rng = self.model.random.derive(f"chat:{meeting.id}")
        senders = rng.sample(SPEAKERS, 2)
        lines = rng.sample(CHAT_LINES, 2)
        first = rng.uniform(*_FIRST_CHAT)
        offsets = (first, first + rng.uniform(*_NEXT_CHAT))
        messages = [
            ChatMessage(sender, line, round(meeting.start_time + offset, 3), False)
            for sender, line, offset in zip(senders, lines, offsets, strict=True)
        ]
        return [m for m in messages if m.timestamp <= until]


_BY_MODEL: WeakKeyDictionary[VexaModel, Interactions] = WeakKeyDictionary()


def interactions(model: VexaModel) -> Interactions:
    """The interactive state of ``model``, created on first use and dropped with the model."""
    found = _BY_MODEL.get(model)
    if found is None:
        found = _BY_MODEL[model] = Interactions(model)
    return found
