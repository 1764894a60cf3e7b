"""Seeded randomness with independent named streams.

Each consumer asks for its own stream by name (``"tokens"``, ``"transcripts"``,
``"faults:rule-3"``…). A stream's sequence depends only on the seed and its name, so adding
a consumer never reshuffles another one's draws — the property that keeps a fault plan's
decisions stable when a user adds an unrelated rule.
"""

from __future__ import annotations

import hashlib
import random

__all__ = ["Streams"]


class Streams:
    """A family of ``random.Random`` streams derived from one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._streams: dict[str, random.Random] = {}

    def __call__(self, name: str) -> random.Random:
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = self.derive(name)
        return stream

    def derive(self, name: str) -> random.Random:
        """A fresh stream for ``name``, independent of any state drawn so far."""
        digest = hashlib.sha256(f"{self.seed}:{name}".encode()).digest()
        return random.Random(int.from_bytes(digest[:16], "big"))

    def __repr__(self) -> str:
        return f"Streams(seed={self.seed})"
