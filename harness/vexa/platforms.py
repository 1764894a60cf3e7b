"""Meeting platforms: Vexa's native-id rules, meeting-URL parsing and construction.

Pure functions. A rule that fails raises :class:`InvalidField` carrying Vexa's own message;
the HTTP layer decides (per profile) whether that becomes a 422 list or a 400 string.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "LANGUAGE_CODES",
    "CannotConstructUrl",
    "InvalidField",
    "Platform",
    "Target",
    "check_language",
    "constructed_url",
    "resolve_target",
]


class Platform(StrEnum):
    """api.v1's ``Platform`` enum, in its order (the order appears in 422 messages)."""

    GOOGLE_MEET = "google_meet"
    ZOOM = "zoom"
    TEAMS = "teams"
    JITSI = "jitsi"
    BROWSER_SESSION = "browser_session"


#: faster-whisper's language codes: what v0.10 accepts for ``language``.
LANGUAGE_CODES: tuple[str, ...] = tuple(
    (
        "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha "
        "haw he hi hr ht hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr "
        "ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th "
        "tk tl tr tt uk ur uz vi yi yo zh yue"
    ).split()
)
_LANGUAGES = frozenset(LANGUAGE_CODES)

_MEET_CODE = re.compile(r"^[a-z]{3}-[a-z]{4}-[a-z]{3}$")
_MEET_NICKNAME = re.compile(r"^[a-z0-9][a-z0-9-]{3,38}[a-z0-9]$")
_TEAMS_NUMERIC = re.compile(r"^\d{10,15}$")
_TEAMS_HASH = re.compile(r"^[0-9a-f]{16}$")
_TEAMS_PASSCODE = re.compile(r"^[A-Za-z0-9]{4,20}$")
_ZOOM_ID = re.compile(r"^\d{9,11}$")
_ZOOM_DIGITS = re.compile(r"\d{9,11}")

MEET_ID_MESSAGE = (
    "Google Meet ID must be in format 'abc-defg-hij' or a custom nickname "
    "(5-40 lowercase alphanumeric/hyphen chars)"
)
MEET_PASSCODE_MESSAGE = "Passcode is not supported for Google Meet meetings"
TEAMS_ID_MESSAGE = "Teams meeting ID must be 10-15 digits or a 16-character hex ID (not a full URL)"
TEAMS_PASSCODE_REQUIRED = (
    "Teams meetings require a passcode: pass 'passcode' (the p= value of the meeting link) "
    "or the full 'meeting_url'"
)
TEAMS_PASSCODE_MESSAGE = "Teams passcode must be 4-20 alphanumeric characters"
CANNOT_CONSTRUCT = "Cannot construct meeting URL"


class InvalidField(ValueError):
    """A value Vexa's validators reject. ``field`` is the body field, or None for the body."""

    def __init__(self, message: str, field: str | None, value: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.value = value


class CannotConstructUrl(ValueError):
    """Vexa's string-detail 422 ``Cannot construct meeting URL``."""

    def __init__(self) -> None:
        super().__init__(CANNOT_CONSTRUCT)
        self.message = CANNOT_CONSTRUCT


@dataclass(frozen=True, slots=True)
class Target:
    """Where a bot goes, after validation."""

    platform: Platform
    native_meeting_id: str
    passcode: str | None
    meeting_url: str | None


def check_language(code: str | None, field: str = "language") -> None:
    if code is not None and code not in _LANGUAGES:
        raise InvalidField(
            f"Invalid language code '{code}'. Must be one of: {sorted(_LANGUAGES)}", field, code
        )


def check_native_id(platform: Platform, native_id: str) -> None:
    """The per-platform native-id rule (raises :class:`InvalidField`)."""
    if platform is Platform.GOOGLE_MEET:
        if not (_MEET_CODE.match(native_id) or _MEET_NICKNAME.match(native_id)):
            raise InvalidField(MEET_ID_MESSAGE, "native_meeting_id", native_id)
    elif platform is Platform.TEAMS:
        if not (_TEAMS_NUMERIC.match(native_id) or _TEAMS_HASH.match(native_id)):
            raise InvalidField(TEAMS_ID_MESSAGE, "native_meeting_id", native_id)
    elif platform is Platform.ZOOM:
        if not _ZOOM_ID.match(native_id):
            raise CannotConstructUrl()
    elif platform is Platform.JITSI and not native_id:
        raise CannotConstructUrl()


def _check_passcode(platform: Platform, passcode: str | None, from_url: bool) -> None:
    if platform is Platform.GOOGLE_MEET and passcode:
        raise InvalidField(MEET_PASSCODE_MESSAGE, "passcode", passcode)
    if platform is Platform.TEAMS:
        if passcode is None:
            if not from_url:
                raise InvalidField(TEAMS_PASSCODE_REQUIRED, "passcode", passcode)
        elif not _TEAMS_PASSCODE.match(passcode):
            raise InvalidField(TEAMS_PASSCODE_MESSAGE, "passcode", passcode)


def resolve_target(
    platform: Platform | None,
    native_meeting_id: str | None,
    passcode: str | None,
    meeting_url: str | None,
) -> Target:
    """Validate and complete what ``POST /bots`` was given, as v0.10 does."""
    from_url = meeting_url is not None
    if meeting_url is not None:
        parsed = parse_meeting_url(meeting_url, platform)
        platform = platform or parsed.platform
        native_meeting_id = native_meeting_id or parsed.native_meeting_id
        passcode = passcode if passcode is not None else parsed.passcode
    if platform is None:
        raise InvalidField("Field 'platform' is required unless 'meeting_url' is given", "platform")
    if platform is Platform.BROWSER_SESSION:
        native_meeting_id = native_meeting_id or "browser-session"
    if native_meeting_id is None:
        raise InvalidField(
            "Field 'native_meeting_id' is required unless 'meeting_url' is given",
            "native_meeting_id",
        )
    check_native_id(platform, native_meeting_id)
    _check_passcode(platform, passcode, from_url)
    return Target(platform, native_meeting_id, passcode, meeting_url)


def parse_meeting_url(url: str, platform: Platform | None) -> Target:
    """Derive platform, id and passcode from a meeting link (v0.10's accepted shapes)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidField("meeting_url must be an http(s) URL with a host", "meeting_url", url)
    query = parse_qs(parts.query)
    passcode = next(
        iter(query.get("pwd", []) or query.get("p", []) or query.get("password", [])), None
    )
    segments = [s for s in parts.path.split("/") if s]
    if host == "meet.google.com" and segments and segments[0] != "lookup":
        return Target(Platform.GOOGLE_MEET, segments[0], None, url)
    if host.endswith(("teams.live.com", "teams.microsoft.com")):
        if "meetup-join" in segments:
            digest = hashlib.sha256(url.encode()).hexdigest()[:16]
            return Target(Platform.TEAMS, digest, passcode, url)
        digits = next((s for s in reversed(segments) if s.isdigit()), None)
        digits = digits or next(iter(re.findall(r"meet/(\d{10,15})", parts.fragment)), None)
        if digits:
            return Target(Platform.TEAMS, digits, passcode, url)
    if host.endswith(("zoom.us", "zoomgov.com")):
        match = _ZOOM_DIGITS.search(parts.path)
        if match:
            return Target(Platform.ZOOM, match.group(0), passcode, url)
    if host == "meet.jit.si" and segments:
        return Target(Platform.JITSI, segments[0], None, url)
    if platform is None:
        raise InvalidField(
            "Could not derive the platform from meeting_url; pass 'platform' too",
            "meeting_url",
            url,
        )
    if platform is Platform.ZOOM:
        match = _ZOOM_DIGITS.search(url)
        if match is None:
            raise CannotConstructUrl()
        return Target(platform, match.group(0), passcode, url)
    digest = hashlib.sha256(url.encode()).hexdigest()[:10]
    return Target(platform, f"url-{digest}", passcode, url)


def constructed_url(target: Target) -> str | None:
    """The ``constructed_meeting_url`` Vexa stores for a meeting."""
    if target.meeting_url is not None:
        return target.meeting_url
    native, passcode = target.native_meeting_id, target.passcode
    match target.platform:
        case Platform.GOOGLE_MEET:
            return f"https://meet.google.com/{native}"
        case Platform.TEAMS:
            return f"https://teams.live.com/meet/{native}" + (f"?p={passcode}" if passcode else "")
        case Platform.ZOOM:
            return f"https://zoom.us/j/{native}" + (f"?pwd={passcode}" if passcode else "")
        case Platform.JITSI:
            return f"https://meet.jit.si/{native}"
        case _:
            return None
