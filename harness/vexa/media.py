"""Recording media: real, deterministic WAV bytes computed on demand, and HTTP byte ranges.

A recording's audio is a pure function of ``(key, number of samples)``: a 44-byte RIFF header
followed by 16-bit mono PCM at 8 kHz, a sequence of half-second tones (and silences) chosen by
hashing ``key`` with the tone's index. Any byte range is computed from its offsets alone, so a
two-hour recording costs nothing until it is read, and reading its last kilobyte costs a
kilobyte. Every tone period divides the half-second block, so each block starts and ends at
phase zero and the waveform has no clicks where tones meet.
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from dataclasses import dataclass
from functools import cache

__all__ = [
    "HEADER_SIZE",
    "SAMPLE_RATE",
    "ByteRange",
    "RangeNotSatisfiable",
    "WavAudio",
    "parse_range",
]

SAMPLE_RATE = 8000
HEADER_SIZE = 44
_SAMPLE_BYTES = 2
#: Samples per tone block: half a second.
_BLOCK_SAMPLES = SAMPLE_RATE // 2
_BLOCK_BYTES = _BLOCK_SAMPLES * _SAMPLE_BYTES
#: Tone frequencies in Hz (0 = silence); ``SAMPLE_RATE / f`` divides ``_BLOCK_SAMPLES``.
_TONES = (0, 200, 250, 320, 400, 500, 800, 1000)
_AMPLITUDE = 9000
_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64's finaliser: a cheap, well-spread hash of a 64-bit integer."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


@cache
def _tone_block(frequency: int) -> bytes:
    """Half a second of one tone as little-endian 16-bit PCM (computed once per tone)."""
    samples = array(
        "h",
        (
            round(_AMPLITUDE * math.sin(2 * math.pi * frequency * i / SAMPLE_RATE))
            for i in range(_BLOCK_SAMPLES)
        ),
    )
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


@dataclass(frozen=True, slots=True)
class WavAudio:
    """One WAV file, never materialised: :meth:`read` computes any slice of it."""

    key: int
    samples: int

    @classmethod
    def lasting(cls, key: int, seconds: float) -> WavAudio:
        return cls(key, max(0, round(seconds * SAMPLE_RATE)))

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def duration(self) -> float:
        """Exactly what a WAV reader computes: frames / rate."""
        return self.samples / SAMPLE_RATE

    @property
    def data_size(self) -> int:
        return self.samples * _SAMPLE_BYTES

    @property
    def size(self) -> int:
        return HEADER_SIZE + self.data_size

    def header(self) -> bytes:
        return struct.pack(
            "<4sI4s4sIHHIIHH4sI",
            b"RIFF",
            36 + self.data_size,
            b"WAVE",
            b"fmt ",
            16,
            1,  # PCM
            1,  # mono
            SAMPLE_RATE,
            SAMPLE_RATE * _SAMPLE_BYTES,
            _SAMPLE_BYTES,
            8 * _SAMPLE_BYTES,
            b"data",
            self.data_size,
        )

    def tone(self, block: int) -> int:
        """The frequency (Hz, 0 = silence) of half-second block ``block``."""
        return _TONES[_mix((self.key << 32) ^ block) % len(_TONES)]

    def read(self, start: int = 0, stop: int | None = None) -> bytes:
        """Bytes ``[start, stop)`` of the file, clamped to it."""
        stop = self.size if stop is None else min(stop, self.size)
        start = max(0, start)
        if start >= stop:
            return b""
        parts: list[bytes] = []
        if start < HEADER_SIZE:
            parts.append(self.header()[start : min(stop, HEADER_SIZE)])
        low, high = max(start, HEADER_SIZE) - HEADER_SIZE, stop - HEADER_SIZE
        if high > low:
            for block in range(low // _BLOCK_BYTES, (high - 1) // _BLOCK_BYTES + 1):
                base = block * _BLOCK_BYTES
                data = _tone_block(self.tone(block))
                parts.append(data[max(low - base, 0) : min(high - base, _BLOCK_BYTES)])
        return b"".join(parts)


# ---------------------------------------------------------------------------- byte ranges


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive byte range ``first..last`` of a file of ``total`` bytes."""

    first: int
    last: int
    total: int

    @property
    def length(self) -> int:
        return self.last - self.first + 1

    @property
    def content_range(self) -> str:
        return f"bytes {self.first}-{self.last}/{self.total}"


class RangeNotSatisfiable(Exception):
    """A well-formed ``Range`` that selects nothing: answered 416 ``bytes */total``."""

    def __init__(self, total: int) -> None:
        super().__init__(f"no byte of a {total}-byte file is selected")
        self.total = total


def parse_range(header: str | None, total: int) -> ByteRange | None:
    """The first range of a ``Range: bytes=...`` header, or None to send the whole file.

    ``a-b``, ``a-`` and ``-n`` are honoured (an end past the file is clamped, a suffix longer
    than the file means all of it). A header that does not parse is ignored (None), as HTTP
    allows; one that parses but selects nothing (``a`` past the end, ``a > b``, ``-0``) raises
    :class:`RangeNotSatisfiable`. Only the first range of a multi-range header counts.
    """
    if header is None:
        return None
    unit, sep, ranges = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    first_text, dash, last_text = ranges.split(",", 1)[0].strip().partition("-")
    first_text, last_text = first_text.strip(), last_text.strip()
    if not dash or not (first_text or last_text):
        return None
    if not all(part.isdigit() and part.isascii() for part in (first_text, last_text) if part):
        return None
    if not first_text:  # suffix: the last n bytes
        suffix = int(last_text)
        if suffix == 0:
            raise RangeNotSatisfiable(total)
        return ByteRange(max(0, total - suffix), total - 1, total)
    first = int(first_text)
    last = int(last_text) if last_text else total - 1
    if first >= total or first > last:
        raise RangeNotSatisfiable(total)
    return ByteRange(first, min(last, total - 1), total)
