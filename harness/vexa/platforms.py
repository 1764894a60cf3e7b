"""Meeting platforms: Vexa's native-id rules, meeting-URL parsing and construction.

Pure functions with Vexa's own messages. They raise ``ValueError`` from inside pydantic
validators (see :mod:`bodies`), which is how Vexa reports them: a 422 ``value_error`` item
``"Value error, <message>"`` — or, under the ``docs`` profile, a 400 with the message.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = [
    "LANGUAGE_CODES",
    "CannotConstructUrl",
    "Platform",
    "check_language",
    "check_native_id",
    "check_passcode",
    "construct_meeting_url",
    "parse_meeting_url",
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
_SORTED_LANGUAGES = sorted(_LANGUAGES)

_MEET_CODE = re.compile(r"[a-z]{3}-[a-z]{4}-[a-z]{3}")
_MEET_NICKNAME = re.compile(r"[a-z0-9][a-z0-9-]{3,38}[a-z0-9]")
_TEAMS_NUMERIC = re.compile(r"\d{10,15}")
_TEAMS_HASH = re.compile(r"[0-9a-f]{16}")
_TEAMS_PASSCODE = re.compile(r"[A-Za-z0-9]{4,20}")
_ZOOM_ID = re.compile(r"\d{9,11}")
_TEAMS_MEET_PATH = re.compile(r"^/meet/(\d{10,15})/?$")
_TEAMS_HOSTS = frozenset(
    {"teams.microsoft.com", "gov.teams.microsoft.us", "dod.teams.microsoft.us"}
)

CANNOT_CONSTRUCT = "Cannot construct meeting URL"


class CannotConstructUrl(ValueError):
    """Vexa's string-detail 422 ``Cannot construct meeting URL`` (raised by the handler)."""

    def __init__(self) -> None:
        super().__init__(CANNOT_CONSTRUCT)
        self.message = CANNOT_CONSTRUCT


def check_language(code: str | None) -> str | None:
    if code and code not in _LANGUAGES:
        raise ValueError(f"Invalid language code '{code}'. Must be one of: {_SORTED_LANGUAGES}")
    return code


def check_languages(codes: list[str] | None) -> list[str] | None:
    invalid = [code for code in codes or [] if code not in _LANGUAGES]
    if invalid:
        raise ValueError(f"Invalid language codes: {invalid}. Must be one of: {_SORTED_LANGUAGES}")
    return codes


def check_native_id(platform: Platform | None, native_id: str) -> str:
    """The per-platform native-id rule (Zoom ids are checked when the URL is built)."""
    if not native_id.strip():
        raise ValueError("native_meeting_id cannot be empty")
    value = native_id.strip()
    if platform is Platform.GOOGLE_MEET:
        if not (_MEET_CODE.fullmatch(value) or _MEET_NICKNAME.fullmatch(value)):
            raise ValueError(
                "Google Meet ID must be in format 'abc-defg-hij' or a custom nickname "
                "(5-40 lowercase alphanumeric/hyphen chars)"
            )
    elif platform is Platform.TEAMS:
        if value.startswith(("http://", "https://", "teams.")):
            raise ValueError("Teams meeting ID must be the numeric ID or hash, not a full URL")
        if not (_TEAMS_NUMERIC.fullmatch(value) or _TEAMS_HASH.fullmatch(value)):
            raise ValueError(
                "Teams native_meeting_id must be a 10-15 digit numeric ID "
                "or a 16-character hex hash (for legacy /l/meetup-join/ URLs)"
            )
    return native_id


def check_passcode(platform: Platform | None, passcode: str | None) -> str | None:
    if platform is Platform.TEAMS:
        if not passcode:
            raise ValueError(
                "Passcode is required for Teams meetings. Without it, bots cannot join "
                "(lobby rejects anonymous guests)."
            )
        if not _TEAMS_PASSCODE.fullmatch(passcode):
            raise ValueError("Teams passcode must be 4-20 alphanumeric characters")
    elif platform is Platform.GOOGLE_MEET and passcode:
        raise ValueError("Passcode is not supported for Google Meet meetings")
    return passcode


@dataclass(frozen=True, slots=True)
class ParsedUrl:
    platform: str
    native_meeting_id: str
    passcode: str | None = None
    meeting_url: str | None = None
    teams_base_host: str | None = None


def _first(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[0] if values else None


def _parse_teams(
    url: str, host: str, path: str, fragment: str, query: dict[str, list[str]]
) -> ParsedUrl:
    if host.endswith("teams.live.com"):
        match = _TEAMS_MEET_PATH.match(path)
        if not match:
            raise ValueError(
                "Unsupported teams.live.com URL format. Expected /meet/<10-15 digit id>."
            )
        return ParsedUrl("teams", match.group(1), _first(query, "p"))
    if path.rstrip("/") in ("/v2", "") and fragment.startswith("/meet/"):
        inner = urlparse("https://x" + fragment)
        match = _TEAMS_MEET_PATH.match(inner.path)
        if match:
            return ParsedUrl(
                "teams", match.group(1), _first(parse_qs(inner.query), "p"), None, host
            )
    match = _TEAMS_MEET_PATH.match(path)
    if match:
        return ParsedUrl("teams", match.group(1), _first(query, "p"), None, host)
    if "/l/meetup-join/" in path:
        return ParsedUrl("teams", hashlib.sha256(url.encode()).hexdigest()[:16], None, url)
    raise ValueError(
        "Unsupported Teams URL format. Expected /meet/<id>?p=<passcode> or /l/meetup-join/..."
    )


def parse_meeting_url(url: str) -> ParsedUrl:
    """Platform, native id and passcode from a meeting link, as v0.10 derives them."""
    url = (url or "").strip()
    if not url:
        raise ValueError("meeting_url cannot be empty")
    to_parse = (
        "https://teams.microsoft.com" + url[8:] if url.lower().startswith("msteams:") else url
    )
    parsed = urlparse(to_parse)
    host, path = (parsed.hostname or "").lower(), parsed.path or ""
    query = parse_qs(parsed.query or "")
    if host == "meet.google.com":
        if path.startswith("/lookup/"):
            raise ValueError("Google Meet /lookup/ URLs cannot be joined directly.")
        code = path.strip("/").split("/")[0]
        if _MEET_CODE.fullmatch(code) or _MEET_NICKNAME.fullmatch(code):
            return ParsedUrl("google_meet", code)
        raise ValueError("Invalid Google Meet URL: expected https://meet.google.com/abc-defg-hij")
    teams_host = host in _TEAMS_HOSTS or host.endswith(
        (".teams.microsoft.us", ".teams.microsoft.com")
    )
    if host.endswith("teams.live.com") or teams_host:
        return _parse_teams(url, host, path, parsed.fragment or "", query)
    if "zoom.us" in host or "zoomgov.com" in host:
        parts = [p for p in path.split("/") if p]
        native = ""
        if len(parts) >= 2 and parts[0] in {"j", "w"}:
            native = parts[1]
        elif len(parts) >= 3 and parts[:2] == ["wc", "join"]:
            native = parts[2]
        if not _ZOOM_ID.fullmatch(native):
            raise ValueError(
                "Unsupported Zoom URL format. Expected https://zoom.us/j/<9-11 digit id>."
            )
        return ParsedUrl("zoom", native, _first(query, "pwd"))
    raise ValueError("Unsupported meeting URL (unknown provider).")


def fill_from_meeting_url(data: Any) -> Any:
    """Before validation: a ``meeting_url`` without ``native_meeting_id`` fills the gaps.

    A URL Vexa cannot parse is left alone so that the field validators report the real problem.
    """
    if not isinstance(data, dict) or not data.get("meeting_url") or data.get("native_meeting_id"):
        return data
    try:
        parsed = parse_meeting_url(str(data["meeting_url"]))
    except ValueError:
        return data
    data = dict(data)
    data.setdefault("platform", None)
    data["platform"] = data["platform"] or parsed.platform
    data["native_meeting_id"] = parsed.native_meeting_id
    if parsed.passcode and not data.get("passcode"):
        data["passcode"] = parsed.passcode
    if parsed.meeting_url:
        data["meeting_url"] = parsed.meeting_url
    if parsed.teams_base_host and not data.get("teams_base_host"):
        data["teams_base_host"] = parsed.teams_base_host
    return data


def construct_meeting_url(
    platform: Platform, native_id: str, passcode: str | None = None, base_host: str | None = None
) -> str | None:
    """The URL Vexa builds from an id, or None where it cannot (the caller then needs a URL)."""
    if platform is Platform.GOOGLE_MEET:
        if _MEET_CODE.fullmatch(native_id) or _MEET_NICKNAME.fullmatch(native_id):
            return f"https://meet.google.com/{native_id}"
        return None
    if platform is Platform.TEAMS:
        if _TEAMS_NUMERIC.fullmatch(native_id):
            url = f"https://{base_host or 'teams.live.com'}/meet/{native_id}"
            return url + (f"?p={passcode}" if passcode else "")
        return None
    if platform is Platform.ZOOM:
        if _ZOOM_ID.fullmatch(native_id):
            return f"https://zoom.us/j/{native_id}" + (f"?pwd={passcode}" if passcode else "")
        return None
    if platform is Platform.BROWSER_SESSION and native_id:
        return f"browser_session://{native_id}"
    return None
