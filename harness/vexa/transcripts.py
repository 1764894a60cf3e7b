"""Deterministic transcript segments for a meeting while its bot is active.

A meeting's speech is a pure function of ``(seed, meeting id)``: segment *k* always has the
same speaker, text, and offsets, however often and whenever it is read. The generator only
decides *how far* the transcript has got, from the harness clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Segment", "TranscriptStream"]

SPEAKERS = ("Anna Keller", "Ben Okafor", "Chidi Mensah", "Dana Ruiz")
PHRASES = (
    "Let's get started with the weekly sync.",
    "Can everyone hear me okay?",
    "The release is on track for Thursday.",
    "I pushed the fix for the retry loop yesterday.",
    "We saw a spike of 503s from the gateway around noon.",
    "Let's make sure the client backs off with jitter.",
    "Who is taking notes today?",
    "The webhook receiver acknowledges before doing any work now.",
    "I'd like to revisit the rate limit numbers.",
    "Customers in Europe reported duplicate bots last week.",
    "We should reconcile before sending a second bot.",
    "That sounds good to me.",
    "Could you share your screen for a moment?",
    "The transcript looks complete for yesterday's call.",
    "Action item: add a timeout to every request.",
    "Let's wrap up, thanks everyone.",
)


@dataclass(frozen=True, slots=True)
class Segment:
    """One utterance; ``start``/``end`` are seconds since the bot became active."""

    index: int
    start: float
    end: float
    speaker: str
    text: str
    language: str

    def draft_at(self, offset: float) -> Segment:
        """What the live (not yet completed) segment shows ``offset`` seconds into the session."""
        span = self.end - self.start
        share = 0.0 if span <= 0 else max(0.0, min(1.0, (offset - self.start) / span))
        words = self.text.split()
        shown = max(1, round(len(words) * share))
        return Segment(
            self.index, self.start, offset, self.speaker, " ".join(words[:shown]), self.language
        )


class TranscriptStream:
    """The segments of one bot session, generated in order and on demand."""

    def __init__(self, seed: int, meeting_id: int, language: str | None) -> None:
        self._rng = random.Random(f"transcript:{seed}:{meeting_id}")
        self.language = language or "en"
        self.segments: list[Segment] = []
        self._next = self._make(0, 0.8)

    def _make(self, index: int, start: float) -> Segment:
        rng = self._rng
        speaker = SPEAKERS[rng.randrange(len(SPEAKERS))]
        text = PHRASES[rng.randrange(len(PHRASES))]
        duration = round(1.2 + 0.25 * len(text.split()) * rng.uniform(0.8, 1.3), 3)
        return Segment(
            index, round(start, 3), round(start + duration, 3), speaker, text, self.language
        )

    def advance_to(self, offset: float) -> None:
        """Complete every segment that has ended ``offset`` seconds into the session."""
        while self._next.end <= offset:
            done = self._next
            self.segments.append(done)
            gap = round(self._rng.uniform(0.2, 1.5), 3)
            self._next = self._make(done.index + 1, done.end + gap)

    def draft(self, offset: float) -> Segment | None:
        """The segment being spoken at ``offset``, if any (shown with ``completed: false``)."""
        if self._next.start <= offset < self._next.end:
            return self._next.draft_at(offset)
        return None

    def set_language(self, language: str) -> None:
        """Segments that start after this call use ``language`` (``PUT …/config``)."""
        self.language = language
        nxt = self._next
        self._next = Segment(nxt.index, nxt.start, nxt.end, nxt.speaker, nxt.text, language)
