"""Strategies for what a client sends Vexa: meeting ids, passcodes, URLs, ``POST /bots`` bodies.

Valid values follow Vexa's rules as ``reference/vexa-api.md`` states them (per-platform
native-id formats, Teams passcodes, the meeting links Vexa parses); invalid ones are built to
break exactly one of those rules each, so a test can say which rule a rejection came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "LANGUAGES",
    "MEETINGS",
    "PLATFORMS",
    "MeetingRef",
    "bot_requests",
    "invalid_bot_requests",
    "meeting_urls",
    "meetings",
    "native_meeting_ids",
    "passcodes",
]

#: api.v1's ``Platform`` enum, in its order.
PLATFORMS: tuple[str, ...] = ("google_meet", "zoom", "teams", "jitsi", "browser_session")
#: A few of the language codes Vexa accepts (faster-whisper's), common ones first.
LANGUAGES: tuple[str, ...] = ("en", "de", "fr", "es", "ja", "zh", "yue", "haw")

_MEET_CODE = r"[a-z]{3}-[a-z]{4}-[a-z]{3}"
_MEET_NICKNAME = r"[a-z0-9][a-z0-9-]{3,38}[a-z0-9]"
_TEAMS_ID = r"[1-9][0-9]{9,14}"
_TEAMS_PASSCODE = r"[A-Za-z0-9]{4,20}"
_ZOOM_ID = r"[1-9][0-9]{8,10}"
_FREE_ID = r"[A-Za-z0-9][A-Za-z0-9_-]{0,30}"


@dataclass(frozen=True, slots=True)
class MeetingRef:
    """A meeting as a client names it: platform, native id and (Teams) passcode."""

    platform: str
    native_meeting_id: str
    passcode: str | None = None

    @property
    def key(self) -> str:
        """``platform/native_meeting_id``, as the journal and the rules name a meeting."""
        return f"{self.platform}/{self.native_meeting_id}"

    def args(self) -> dict[str, Any]:
        """The command-protocol arguments that name this meeting (``start_bot`` adds none)."""
        args: dict[str, Any] = {
            "platform": self.platform,
            "native_meeting_id": self.native_meeting_id,
        }
        if self.passcode is not None:
            args["passcode"] = self.passcode
        return args


#: Three meetings on three platforms: few enough that calls collide (409s, stops of running
#: bots), different enough to exercise per-platform rules. The first is the shrink target.
MEETINGS: tuple[MeetingRef, ...] = (
    MeetingRef("google_meet", "abc-defg-hij"),
    MeetingRef("teams", "9361792827462", "Vexa2024"),
    MeetingRef("zoom", "85173924451"),
)


def _regex(pattern: str) -> st.SearchStrategy[str]:
    return st.from_regex(pattern, fullmatch=True)


def native_meeting_ids(platform: str) -> st.SearchStrategy[str]:
    """Native ids Vexa accepts for ``platform`` (Teams: the numeric form, which needs no URL)."""
    if platform == "google_meet":
        return st.one_of(_regex(_MEET_CODE), _regex(_MEET_NICKNAME))
    if platform == "teams":
        return _regex(_TEAMS_ID)
    if platform == "zoom":
        return _regex(_ZOOM_ID)
    if platform in ("jitsi", "browser_session"):
        return _regex(_FREE_ID)
    raise ValueError(f"unknown platform {platform!r}; Vexa's are {', '.join(PLATFORMS)}")


def passcodes(platform: str) -> st.SearchStrategy[str | None]:
    """Passcodes Vexa accepts: required on Teams (4-20 alphanumerics), optional on Zoom."""
    if platform == "teams":
        return _regex(_TEAMS_PASSCODE)
    if platform == "zoom":
        return st.none() | _regex(r"[A-Za-z0-9]{1,12}")
    if platform in PLATFORMS:
        return st.none()
    raise ValueError(f"unknown platform {platform!r}; Vexa's are {', '.join(PLATFORMS)}")


@st.composite
def _meeting(draw: st.DrawFn, platform: str) -> MeetingRef:
    return MeetingRef(platform, draw(native_meeting_ids(platform)), draw(passcodes(platform)))


def meetings(
    platforms: tuple[str, ...] = ("google_meet", "teams", "zoom", "browser_session"),
) -> st.SearchStrategy[MeetingRef]:
    """Meetings a client can start a bot in from the protocol's arguments alone.

    Jitsi is left out by default: Vexa cannot build a Jitsi URL from an id, so a bot needs a
    ``meeting_url``, which the command protocol does not carry.
    """
    return st.sampled_from(platforms).flatmap(_meeting)


@st.composite
def _url(draw: st.DrawFn, platform: str) -> str:
    native = draw(native_meeting_ids(platform))
    if platform == "google_meet":
        return f"https://meet.google.com/{native}"
    if platform == "teams":
        host = draw(st.sampled_from(["teams.live.com", "teams.microsoft.com"]))
        return f"https://{host}/meet/{native}?p={draw(passcodes('teams'))}"
    passcode = draw(passcodes("zoom"))
    return f"https://zoom.us/j/{native}" + (f"?pwd={passcode}" if passcode else "")


def meeting_urls(platform: str | None = None) -> st.SearchStrategy[str]:
    """Meeting links Vexa parses into a platform and id (Google Meet, Teams, Zoom)."""
    if platform is None:
        return st.sampled_from(["google_meet", "teams", "zoom"]).flatmap(_url)
    if platform not in ("google_meet", "teams", "zoom"):
        raise ValueError(
            f"Vexa parses links of google_meet, teams and zoom only (got {platform!r})"
        )
    return _url(platform)


def _extras() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {},
        optional={
            "bot_name": st.text(min_size=1, max_size=30),
            "language": st.sampled_from(LANGUAGES),
            "recording_enabled": st.booleans(),
        },
    )


@st.composite
def _by_id(draw: st.DrawFn) -> dict[str, Any]:
    platform = draw(st.sampled_from(PLATFORMS))
    body: dict[str, Any] = {
        "platform": platform,
        "native_meeting_id": draw(native_meeting_ids(platform)),
    }
    passcode = draw(passcodes(platform))
    if passcode is not None:
        body["passcode"] = passcode
    if platform == "jitsi":  # Vexa cannot construct a Jitsi URL: the client must send one
        body["meeting_url"] = f"https://meet.jit.si/{body['native_meeting_id']}"
    return body | draw(_extras())


@st.composite
def _by_url(draw: st.DrawFn) -> dict[str, Any]:
    return {"meeting_url": draw(meeting_urls())} | draw(_extras())


def bot_requests() -> st.SearchStrategy[dict[str, Any]]:
    """``POST /bots`` bodies Vexa accepts: by platform and id, or by meeting link alone."""
    return st.one_of(_by_id(), _by_url())


def _meet(**fields: Any) -> dict[str, Any]:
    return {"platform": "google_meet", "native_meeting_id": "abc-defg-hij", **fields}


def invalid_bot_requests() -> st.SearchStrategy[dict[str, Any]]:
    """``POST /bots`` bodies that each break one of Vexa's rules (a 400 or 422, never 2xx)."""
    meet_id = native_meeting_ids("google_meet")
    teams_id = native_meeting_ids("teams")
    return st.one_of(
        # a Google Meet id with an upper-case letter: neither a code nor a nickname
        meet_id.map(lambda i: _meet(native_meeting_id="X" + i[1:])),
        # a passcode on Google Meet
        meet_id.map(lambda i: _meet(native_meeting_id=i, passcode="1234")),
        # Teams without a passcode, with a malformed one, or with a full URL as its id
        teams_id.map(lambda i: {"platform": "teams", "native_meeting_id": i}),
        st.builds(
            lambda i, p: {"platform": "teams", "native_meeting_id": i, "passcode": p},
            teams_id,
            st.sampled_from(["abc", "ab#cd", "x" * 21]),
        ),
        teams_id.map(
            lambda i: {
                "platform": "teams",
                "native_meeting_id": f"https://teams.live.com/meet/{i}",
                "passcode": "Vexa2024",
            }
        ),
        # a Zoom id Vexa cannot build a link from
        _regex(r"[a-z]{3,10}|[0-9]{1,7}").map(
            lambda i: {"platform": "zoom", "native_meeting_id": i}
        ),
        # a platform api.v1 does not know
        st.sampled_from(["webex", "Google_Meet", "skype"]).map(
            lambda p: {"platform": p, "native_meeting_id": "abc-defg-hij"}
        ),
        # an empty id, a language Vexa does not know, a link from no known provider
        st.sampled_from(["", "   "]).map(lambda i: _meet(native_meeting_id=i)),
        st.sampled_from(["xx", "english", "EN"]).map(lambda lang: _meet(language=lang)),
        st.just({"meeting_url": "https://example.com/meeting/42"}),
    )
