"""Recordings: what a recorded bot session leaves behind, kept where Vexa v0.10 keeps it.

v0.10 stores recordings only in ``meeting.data["recordings"]`` (JSONB); ``/recordings`` reads
them from there, ``GET /transcripts`` returns them verbatim, and deleting the meeting's data
deletes them. The fake does the same: when a meeting whose ``recording_enabled`` is true ends
(``completed`` or ``failed``) after its bot was ``active``, :class:`Recordings` (a listener of
the model) writes one finalised recording there, with a master WAV as long as the bot was
active. The media bytes are never stored: :class:`~harness.vexa.media.WavAudio` computes them
from the media file's id and duration.

The per-user recording configuration lives in ``user.data["recording_config"]``, where Vexa's
``POST /bots`` reads it.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from harness.vexa.exceptions import VexaError
from harness.vexa.lifecycle import TERMINAL_STATUSES
from harness.vexa.media import SAMPLE_RATE, WavAudio

if TYPE_CHECKING:
    from harness.vexa.model import Meeting, StatusChange, User, VexaModel

__all__ = [
    "CAPTURE_MODES",
    "CONTENT_TYPES",
    "DEFAULT_RECORDING_CONFIG",
    "MASTER_FINALIZER",
    "Recordings",
    "media_link",
    "recording_config",
    "recording_enabled_default",
    "recording_view",
    "set_recording_config",
]

CAPTURE_MODES = ("audio", "video")
DEFAULT_RECORDING_CONFIG: dict[str, Any] = {"enabled": True, "capture_modes": ["audio"]}
#: ``finalized_by`` of a master media file: what ``/master`` looks for.
MASTER_FINALIZER = "recording_finalizer.master"
CONTENT_TYPES = {
    "wav": "audio/wav",
    "webm": "video/webm",
    "opus": "audio/opus",
    "mp3": "audio/mpeg",
}
#: The bot uploads a chunk this often; ``chunk_count`` follows from the duration.
CHUNK_SECONDS = 10
#: Presigned-URL lifetime Vexa reports (the local backend's /raw path never expires).
LINK_TTL = 3600
#: The keys of a media file that ``RecordingResponse`` keeps (the rest stay in meeting.data).
_MEDIA_VIEW_KEYS = (
    "id",
    "type",
    "format",
    "storage_backend",
    "file_size_bytes",
    "duration_seconds",
    "metadata",
    "created_at",
)


# ---------------------------------------------------------------------------- configuration


def recording_config(user: User) -> dict[str, Any]:
    """``GET /recording-config``: the stored configuration over the defaults."""
    stored = user.data.get("recording_config") or {}
    return {
        "enabled": bool(stored.get("enabled", DEFAULT_RECORDING_CONFIG["enabled"])),
        "capture_modes": list(
            stored.get("capture_modes", DEFAULT_RECORDING_CONFIG["capture_modes"])
        ),
    }


def set_recording_config(
    user: User, enabled: bool | None, capture_modes: Sequence[str] | None
) -> dict[str, Any]:
    """``PUT /recording-config``: merge the given fields; returns the new configuration."""
    config = recording_config(user)
    if enabled is not None:
        config["enabled"] = enabled
    if capture_modes is not None:
        config["capture_modes"] = list(capture_modes)
    user.data["recording_config"] = dict(config)
    return config


def recording_enabled_default(user: User) -> bool:
    """What ``POST /bots`` records when the body leaves ``recording_enabled`` out."""
    return bool(recording_config(user)["enabled"])


# ---------------------------------------------------------------------------- views


def recording_view(record: dict[str, Any]) -> dict[str, Any]:
    """v0.10 ``RecordingResponse``: the stored record without the storage-only keys."""
    return {
        "id": record["id"],
        "meeting_id": record["meeting_id"],
        "user_id": record["user_id"],
        "session_uid": record.get("session_uid"),
        "source": record.get("source", "bot"),
        "status": record.get("status", "completed"),
        "error_message": record.get("error_message"),
        "created_at": record.get("created_at"),
        "completed_at": record.get("completed_at"),
        "media_files": [
            {key: media.get(key) for key in _MEDIA_VIEW_KEYS}
            for media in record.get("media_files") or []
        ],
    }


def media_link(record: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
    """``…/media/{id}/download``: the local backend hands out the ``/raw`` path, not a URL."""
    fmt = str(media.get("format", "bin")).lower()
    url = f"/recordings/{record['id']}/media/{media['id']}/raw"
    return {
        "url": url,
        "download_url": url,
        "filename": f"{record['id']}_{media.get('type', 'audio')}.{fmt}",
        "content_type": CONTENT_TYPES.get(fmt, "application/octet-stream"),
        "file_size_bytes": media.get("file_size_bytes"),
        "expires_in": LINK_TTL,
    }


# ---------------------------------------------------------------------------- the store


class Recordings:
    """The recordings of one fake deployment; subscribes itself to the model's listeners."""

    def __init__(self, model: VexaModel) -> None:
        self._model = model
        self._issued: set[int] = set()
        #: Recordings deleted through ``DELETE /recordings/{id}``: id → owner.
        self._deleted: dict[int, int] = {}
        model.listeners.append(self._on_status_change)

    # -------------------------------------------------------------- creation

    def _on_status_change(self, meeting: Meeting, change: StatusChange) -> None:
        if change.new not in TERMINAL_STATUSES:
            return
        if meeting.start_time is None or meeting.active_until is None:
            return  # the bot was never active: nothing was captured
        if not meeting.data.get("recording_enabled"):
            return
        meeting.data["recordings"] = [
            *(meeting.data.get("recordings") or []),
            self._record(meeting, meeting.start_time, meeting.active_until, change.at),
        ]

    def _new_id(self) -> int:
        """A random 12-digit id, as v0.10's ``uuid4().int % 9e11 + 1e11`` (never repeated)."""
        rng = self._model.random("recordings")
        while (candidate := rng.randrange(100_000_000_000, 1_000_000_000_000)) in self._issued:
            pass
        self._issued.add(candidate)
        return candidate

    def _record(
        self, meeting: Meeting, started: float, stopped: float, ended: float
    ) -> dict[str, Any]:
        from harness.vexa.views import stamp  # views imports the model, which imports us

        profile = self._model.profile
        recording_id, media_id = self._new_id(), self._new_id()
        session = str(uuid.UUID(int=self._model.random("recordings").getrandbits(128), version=4))
        audio = WavAudio.lasting(self.audio_key(media_id), stopped - started)
        return {
            "id": recording_id,
            "meeting_id": meeting.id,
            "user_id": meeting.user_id,
            "session_uid": session,
            "source": "bot",
            "status": "completed",
            "created_at": stamp(started, profile),
            "completed_at": stamp(ended, profile),
            "media_files": [
                {
                    "id": media_id,
                    "type": "audio",
                    "format": "wav",
                    "storage_path": f"recordings/{meeting.user_id}/{recording_id}/{session}"
                    "/audio/master.wav",
                    "storage_backend": "local",
                    "file_size_bytes": audio.size,
                    "duration_seconds": audio.duration,
                    "chunk_count": max(1, math.ceil(audio.duration / CHUNK_SECONDS)),
                    "metadata": {"sample_rate": SAMPLE_RATE},
                    "created_at": stamp(ended, profile),
                    "is_final": True,
                    "finalized_by": MASTER_FINALIZER,
                }
            ],
            "playback_url": {
                "audio": f"/recordings/{recording_id}/master?type=audio",
                "video": None,
            },
        }

    def audio_key(self, media_id: int) -> int:
        """The tone sequence of a media file: a function of the seed and the file's id."""
        digest = hashlib.sha256(f"{self._model.seed}:{media_id}".encode()).digest()
        return int.from_bytes(digest[:8], "big")

    def audio(self, media: dict[str, Any]) -> WavAudio:
        """The bytes of a stored media file (computed on demand, never held)."""
        seconds = float(media.get("duration_seconds") or 0.0)
        return WavAudio.lasting(self.audio_key(int(media["id"])), seconds)

    # -------------------------------------------------------------- lookup

    def _owned(self, user_id: int) -> Iterator[tuple[Meeting, dict[str, Any]]]:
        for meeting in self._model.meetings_of(user_id):
            for record in meeting.data.get("recordings") or []:
                if isinstance(record, dict):
                    yield meeting, record

    def of_user(self, user_id: int, meeting_id: int | None = None) -> list[dict[str, Any]]:
        """The user's stored records, newest first (as v0.10 sorts: by ``created_at``)."""
        self._model.now()
        found = [
            record
            for meeting, record in self._owned(user_id)
            if meeting_id is None or meeting.id == meeting_id
        ]
        found.sort(key=lambda r: (str(r.get("created_at") or ""), r["meeting_id"]), reverse=True)
        return found

    def find(self, user_id: int, recording_id: int) -> tuple[Meeting, dict[str, Any]]:
        """The user's record with that id; anybody else's is the same 404 as a missing one."""
        self._model.now()
        for meeting, record in self._owned(user_id):
            if record.get("id") == recording_id:
                return meeting, record
        raise VexaError(404, "Recording not found")

    def media(
        self, user_id: int, recording_id: int, media_id: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        _, record = self.find(user_id, recording_id)
        for media in record.get("media_files") or []:
            if media.get("id") == media_id:
                return record, media
        raise VexaError(404, "Media file not found")

    def master(
        self, user_id: int, recording_id: int, kind: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The finalised master file of ``kind`` (audio or video)."""
        _, record = self.find(user_id, recording_id)
        for media in record.get("media_files") or []:
            if media.get("type") == kind and media.get("finalized_by") == MASTER_FINALIZER:
                return record, media
        raise VexaError(
            404,
            f"No master {kind} file for recording {recording_id} "
            "(still finalizing or not produced)",
        )

    # -------------------------------------------------------------- deletion

    def delete(self, user_id: int, recording_id: int) -> bool:
        """Delete a recording; False when it was already deleted and the profile forgives that."""
        try:
            meeting, _ = self.find(user_id, recording_id)
        except VexaError:
            repeat = self._deleted.get(recording_id) == user_id
            if repeat and self._model.profile.repeat_recording_delete_succeeds:
                return False
            raise
        meeting.data["recordings"] = [
            r
            for r in meeting.data.get("recordings") or []
            if not (isinstance(r, dict) and r.get("id") == recording_id)
        ]
        meeting.updated_at = self._model.clock.now()
        self._deleted[recording_id] = user_id
        return True
