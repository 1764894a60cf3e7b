"""Request bodies as Vexa (FastAPI + pydantic v2) parses them, and its 422 error lists.

Type errors, missing fields and malformed JSON are reported exactly as FastAPI reports them
(``{"type", "loc", "msg", "input"[, "ctx"]}`` with ``loc`` starting at ``"body"``). Vexa's own
semantic rules (meeting-id formats, passcodes, language codes) live in :mod:`platforms` and are
rendered per profile by the HTTP layer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from harness.vexa.platforms import (
    Platform,
    check_language,
    check_languages,
    check_native_id,
    check_passcode,
    fill_from_meeting_url,
)

__all__ = [
    "AutomaticLeave",
    "BodyError",
    "BotConfigUpdate",
    "MeetingCreate",
    "MeetingDataUpdate",
    "MeetingUpdate",
    "WebhookUpdate",
    "parse_body",
    "validation_item",
]

Model = TypeVar("Model", bound=BaseModel)


class AutomaticLeave(BaseModel):
    """Timeouts in milliseconds; unknown keys are a 422, as in Vexa."""

    model_config = ConfigDict(extra="forbid")

    max_bot_time: int | None = None
    max_wait_for_admission: int | None = None
    max_time_left_alone: int | None = None
    no_one_joined_timeout: int | None = None
    waiting_room_timeout: int | None = None
    everyone_left_timeout: int | None = None


_TASKS = ("transcribe", "translate")
_TIERS = ("deferred", "realtime")


def _check_task(value: str | None) -> str | None:
    if value and value not in _TASKS:
        raise ValueError(f"Invalid task '{value}'. Must be one of: {sorted(_TASKS)}")
    return value


def _checked(name: str, check: Callable[[Any], Any]) -> Any:
    """A pydantic field validator that applies one of Vexa's checks to field ``name``."""

    def validate(cls: type[BaseModel], value: Any) -> Any:
        return check(value)

    return field_validator(name)(classmethod(validate))


class MeetingCreate(BaseModel):
    """``POST /bots``, with v0.10's validators in v0.10's field order."""

    model_config = ConfigDict(extra="ignore")

    platform: Platform | None = None
    native_meeting_id: str | None = None
    bot_name: str | None = None
    language: str | None = None
    task: str | None = None
    transcription_tier: str | None = "realtime"
    recording_enabled: bool | None = None
    transcribe_enabled: bool | None = None
    passcode: str | None = None
    meeting_url: str | None = None
    teams_base_host: str | None = None
    voice_agent_enabled: bool | None = False
    default_avatar_url: str | None = None
    automatic_leave: AutomaticLeave | None = None
    agent_enabled: bool | None = False
    mode: str | None = None
    video: bool | None = True
    authenticated: bool | None = False

    _fill_from_url = model_validator(mode="before")(fill_from_meeting_url)
    _language = _checked("language", check_language)
    _task = _checked("task", _check_task)

    @field_validator("transcription_tier")
    @classmethod
    def _tier(cls, value: str | None) -> str:
        if not value:
            return "realtime"
        normalized = value.strip().lower()
        if normalized not in _TIERS:
            raise ValueError(
                f"Invalid transcription_tier '{value}'. Must be one of: {list(_TIERS)}"
            )
        return normalized

    @field_validator("passcode")
    @classmethod
    def _passcode(cls, value: str | None, info: ValidationInfo) -> str | None:
        return check_passcode(info.data.get("platform"), value)

    @field_validator("native_meeting_id")
    @classmethod
    def _native_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        return check_native_id(info.data.get("platform"), value)

    @field_validator("mode")
    @classmethod
    def _mode(cls, value: str | None) -> str | None:
        if value is not None and value != "browser_session":
            raise ValueError(f"Invalid mode '{value}'. Must be one of: 'browser_session'")
        return value

    @model_validator(mode="after")
    def _meeting_or_session(self) -> MeetingCreate:
        has_meeting = self.platform is not None and self.native_meeting_id is not None
        if not has_meeting and not self.agent_enabled and self.mode != "browser_session":
            raise ValueError(
                "Either provide platform + native_meeting_id for a meeting, "
                "set agent_enabled=true, or set mode='browser_session'"
            )
        if (
            has_meeting
            and self.platform is Platform.TEAMS
            and not self.meeting_url
            and not self.passcode
        ):
            raise ValueError(
                "Teams meetings require a passcode. Without it, bots cannot join "
                "(lobby rejects anonymous guests). Provide the 'passcode' field."
            )
        return self


class BotConfigUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    language: str | None = None
    task: str | None = None
    allowed_languages: list[str] | None = None

    _language = _checked("language", check_language)
    _task = _checked("task", _check_task)
    _allowed = _checked("allowed_languages", check_languages)


class MeetingDataUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    participants: list[str] | None = None
    languages: list[str] | None = None
    notes: str | None = None

    _languages = _checked("languages", check_languages)


class MeetingUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: MeetingDataUpdate


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    webhook_url: HttpUrl
    webhook_secret: str | None = Field(default=None, max_length=512)
    webhook_events: dict[str, bool] | None = None


class BodyError(Exception):
    """The body could not be parsed. ``malformed`` is True when it was not JSON at all."""

    def __init__(self, errors: list[dict[str, Any]], *, malformed: bool) -> None:
        super().__init__(errors[0]["msg"] if errors else "invalid body")
        self.errors = errors
        self.malformed = malformed


def validation_item(
    kind: str, loc: list[str | int], msg: str, value: Any, ctx: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One FastAPI-style validation error entry."""
    item: dict[str, Any] = {"type": kind, "loc": loc, "msg": msg, "input": value}
    if ctx is not None:
        item["ctx"] = ctx
    return item


def _jsonable(value: Any) -> Any:
    """What FastAPI's encoder makes of pydantic's ctx values (exceptions become ``{}``)."""
    if isinstance(value, BaseException):
        return {}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def parse_body(model: type[Model], raw: bytes) -> Model:
    """Parse ``raw`` into ``model`` or raise :class:`BodyError` with FastAPI's error list."""
    if not raw.strip():
        raise BodyError(
            [validation_item("missing", ["body"], "Field required", None)], malformed=False
        )
    try:
        payload = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        position = getattr(exc, "pos", 0)
        reason = getattr(exc, "msg", "Invalid UTF-8")
        raise BodyError(
            [
                validation_item(
                    "json_invalid", ["body", position], "JSON decode error", {}, {"error": reason}
                )
            ],
            malformed=True,
        ) from None
    try:
        return model.model_validate(payload, from_attributes=True)
    except ValidationError as exc:
        errors = [
            validation_item(
                str(err["type"]),
                ["body", *err["loc"]],
                str(err["msg"]),
                _jsonable(err.get("input")),
                _jsonable(err["ctx"]) if "ctx" in err else None,
            )
            for err in exc.errors(include_url=False)
        ]
        raise BodyError(errors, malformed=False) from None
