"""Vexa's webhook headers, and how a receiver checks them. Pure.

With a secret (whitespace-stripped), every attempt carries::

    Content-Type: application/json
    Authorization: Bearer <secret>
    X-Webhook-Timestamp: <unix seconds of this attempt>
    X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

Without one, only ``Content-Type``. The timestamp and signature are recomputed on every attempt;
the body is the same bytes each time. :func:`verify` is the check RULES.md asks of a receiver
(signature present and right, timestamp within 300 s of now), for receivers written in Python.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

__all__ = ["TOLERANCE", "Headers", "delivery_headers", "signature", "verify"]

#: How far a timestamp may be from the receiver's now (RULES.md ``webhook-signature``).
TOLERANCE = 300.0

Headers = tuple[tuple[str, str], ...]


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` over ``"<timestamp>." + body`` with the stripped secret."""
    signed = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.strip().encode(), signed, hashlib.sha256).hexdigest()


def delivery_headers(secret: str | None, body: bytes, at: float) -> Headers:
    """The headers of one attempt made at harness time ``at``, in Vexa's order."""
    headers: list[tuple[str, str]] = [("Content-Type", "application/json")]
    if secret and secret.strip():
        clean = secret.strip()
        timestamp = int(at)
        headers += [
            ("Authorization", f"Bearer {clean}"),
            ("X-Webhook-Signature", signature(clean, timestamp, body)),
            ("X-Webhook-Timestamp", str(timestamp)),
        ]
    return tuple(headers)


def verify(
    secret: str,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes,
    now: float,
    tolerance: float = TOLERANCE,
) -> str | None:
    """None when a delivery is authentic and fresh, else why it must be refused.

    The comparison is constant-time; the timestamp must be within ``tolerance`` seconds of
    ``now`` either way (too old is a replay, too new is a forgery).
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    found = {name.lower(): value for name, value in pairs}
    given = found.get("x-webhook-signature")
    stamp = found.get("x-webhook-timestamp")
    if not given or not stamp:
        return "missing X-Webhook-Signature or X-Webhook-Timestamp"
    if not stamp.isdigit():
        return f"X-Webhook-Timestamp {stamp!r} is not unix seconds"
    if abs(now - int(stamp)) > tolerance:
        return f"X-Webhook-Timestamp is {now - int(stamp):+.0f} s from now (limit {tolerance:g})"
    if not hmac.compare_digest(given, signature(secret, stamp, body)):
        return "X-Webhook-Signature does not match the body"
    return None
