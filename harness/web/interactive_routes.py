"""The interactive bot routes of Vexa v0.10: speak, chat, screen, avatar, events, voice agent.

Each handler finds the meeting, hands the raw body to :mod:`harness.vexa.interactive`, and
answers Vexa's 202 ``{"message", "meeting_id"}``. Vexa's meeting-api takes these bodies as a
plain ``dict``, so the body models here are open JSON objects, not typed ones: only a body
that is not a JSON object is a 422, with FastAPI's ``dict_type`` error. The 400s for a
missing field come from the store, after the meeting lookup, in Vexa's order.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, HttpUrl, RootModel

from harness.vexa.interactive import Interactions, interactions
from harness.vexa.model import Meeting
from harness.vexa.platforms import Platform
from harness.web.endpoints import Call, Endpoint, QueryInt, registrar
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = [
    "INTERACTIVE_ROUTER",
    "AvatarBody",
    "ChatSendBody",
    "ScreenBody",
    "SpeakBody",
    "VoiceAgentSettingsBody",
]

INTERACTIVE_ROUTER: Router[Endpoint] = Router(enums={"platform": Platform})

BOT = frozenset({"bot", "browser"})
_KEY = "/bots/{platform:platform}/{native_meeting_id}"
_ACCEPTED = {"202": "BotCommandAccepted"}


def _open_object(description: str, properties: dict[str, str]) -> ConfigDict:
    """A ``req: dict`` body, documented with the fields Vexa reads (types are not enforced)."""
    return ConfigDict(
        json_schema_extra={
            "description": description,
            "properties": {name: {"description": text} for name, text in properties.items()},
        }
    )


class SpeakBody(RootModel[dict[str, Any]]):
    model_config = _open_object(
        "Text to speak (TTS), or audio to play. One of text, audio_url, audio_base64.",
        {
            "text": "Text to speak (the bot does TTS)",
            "provider": "TTS provider (default piper)",
            "voice": "TTS voice (default auto)",
            "audio_url": "URL of pre-rendered audio",
            "audio_base64": "Base64-encoded audio",
            "format": "Audio format (default wav)",
            "sample_rate": "Sample rate in Hz (default 24000)",
        },
    )


class ChatSendBody(RootModel[dict[str, Any]]):
    model_config = _open_object(
        "A message for the meeting chat.", {"text": "Message text (required, non-empty)"}
    )


class ScreenBody(RootModel[dict[str, Any]]):
    model_config = _open_object(
        "Content to show through the bot's screen share.",
        {
            "type": "image, video, url or html",
            "url": "URL of the content (required unless type=html)",
            "html": "HTML to show (required for type=html)",
            "start_share": "Start sharing at once (default true)",
        },
    )


class AvatarBody(RootModel[dict[str, Any]]):
    model_config = _open_object(
        "The bot's camera avatar: an image URL or a base64 image.",
        {"url": "Image URL", "image_base64": "Image as base64 or a data URI"},
    )


class VoiceAgentSettingsBody(BaseModel):
    """Point the bot's voice agent at ``url`` (http or https), or turn it off with null."""

    model_config = ConfigDict(extra="ignore")

    url: HttpUrl | None = None


route = registrar(INTERACTIVE_ROUTER, scopes=BOT)


def _bot(call: Call) -> tuple[Interactions, Meeting]:
    """The store and the caller's active meeting for the path's key (or Vexa's 404)."""
    store = interactions(call.model)
    meeting = store.active_meeting(
        call.caller.id, call.params["platform"].value, call.params["native_meeting_id"]
    )
    return store, meeting


def _accepted(message: str, meeting: Meeting) -> Response:
    return json_response(202, {"message": message, "meeting_id": meeting.id})


@route("POST", _KEY + "/speak", body=SpeakBody, responses=_ACCEPTED, errors=(400, 404))
def speak(call: Call) -> Response:
    """Make the bot speak: text (TTS), or audio from a URL or base64."""
    store, meeting = _bot(call)
    return _accepted(store.speak(meeting, call.body.root), meeting)


@route("DELETE", _KEY + "/speak", responses=_ACCEPTED, errors=(404,))
def stop_speaking(call: Call) -> Response:
    """Interrupt the bot's speech."""
    store, meeting = _bot(call)
    return _accepted(store.stop_speaking(meeting), meeting)


@route("POST", _KEY + "/chat", body=ChatSendBody, responses=_ACCEPTED, errors=(400, 404))
def send_chat(call: Call) -> Response:
    """Send a message to the meeting chat through the bot."""
    store, meeting = _bot(call)
    return _accepted(store.send_chat(meeting, call.body.root), meeting)


@route("GET", _KEY + "/chat", responses={"200": "BotChatMessages"}, errors=(404,))
def read_chat(call: Call) -> Response:
    """The meeting chat the bot captured (newest meeting for the key, any status)."""
    store = interactions(call.model)
    meeting = store.any_meeting(
        call.caller.id, call.params["platform"].value, call.params["native_meeting_id"]
    )
    messages = [message.as_json() for message in store.chat(meeting)]
    return json_response(200, {"messages": messages, "meeting_id": meeting.id})


@route("POST", _KEY + "/screen", body=ScreenBody, responses=_ACCEPTED, errors=(400, 404))
def show_screen(call: Call) -> Response:
    """Show an image, a video, a web page or HTML through the bot's screen share."""
    store, meeting = _bot(call)
    return _accepted(store.show_screen(meeting, call.body.root), meeting)


@route("DELETE", _KEY + "/screen", responses=_ACCEPTED, errors=(404,))
def stop_screen(call: Call) -> Response:
    """Stop the bot's screen share."""
    store, meeting = _bot(call)
    return _accepted(store.stop_screen(meeting), meeting)


@route("PUT", _KEY + "/avatar", body=AvatarBody, responses=_ACCEPTED, errors=(400, 404))
def set_avatar(call: Call) -> Response:
    """Set the image the bot's camera shows."""
    store, meeting = _bot(call)
    return _accepted(store.set_avatar(meeting, call.body.root), meeting)


@route("DELETE", _KEY + "/avatar", responses=_ACCEPTED, errors=(404,))
def reset_avatar(call: Call) -> Response:
    """Reset the bot's avatar to the default."""
    store, meeting = _bot(call)
    return _accepted(store.reset_avatar(meeting), meeting)


@route(
    "GET",
    _KEY + "/events",
    query=(QueryInt("limit", ge=1, le=200, default=20),),
    responses={"200": "BotEvents"},
    errors=(404,),
)
def bot_events(call: Call) -> Response:
    """The bot's recent events, oldest first: status changes and the commands it received."""
    store, meeting = _bot(call)
    events = [event.as_json() for event in store.events(meeting, call.query["limit"])]
    return json_response(200, {"events": events, "meeting_id": meeting.id, "count": len(events)})


@route(
    "PATCH",
    _KEY + "/voice-agent-settings",
    body=VoiceAgentSettingsBody,
    responses=_ACCEPTED,
    errors=(404,),
)
def voice_agent_settings(call: Call) -> Response:
    """Point the bot's voice agent at a URL, or turn it off (url null)."""
    store, meeting = _bot(call)
    body: VoiceAgentSettingsBody = call.body
    url = None if body.url is None else str(body.url)
    return _accepted(store.set_voice_agent(meeting, url), meeting)
