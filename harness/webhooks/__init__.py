"""Vexa's webhooks: a faithful, adversarial sender, receivers of every kind, and verdicts.

- :mod:`~harness.webhooks.events`: which events fire when, and their envelopes (pure).
- :mod:`~harness.webhooks.signing`: the headers and signature of one attempt (pure).
- :mod:`~harness.webhooks.schedule`: Vexa's retry policy on the harness clock (pure).
- :mod:`~harness.webhooks.adversary`: duplicated, reordered, concurrent and forged streams (pure).
- :mod:`~harness.webhooks.sender`: the fake's delivery worker (``fake.webhooks``).
- :mod:`~harness.webhooks.receivers`: URL, command and in-process receivers.
- :mod:`~harness.webhooks.verdicts`: the four webhook rules of RULES.md.
"""

from __future__ import annotations

from harness.webhooks.profiles import WEBHOOK_PROFILES, WebhookProfile, webhook_profile
from harness.webhooks.receivers import (
    AsgiReceiver,
    CallableReceiver,
    CommandReceiver,
    HttpReceiver,
    Receiver,
    ReceiverFactory,
    ReceiverUnavailable,
    WsgiReceiver,
    command_receiver,
)
from harness.webhooks.signing import delivery_headers, signature, verify

__all__ = [
    "WEBHOOK_PROFILES",
    "AsgiReceiver",
    "CallableReceiver",
    "CommandReceiver",
    "HttpReceiver",
    "Receiver",
    "ReceiverFactory",
    "ReceiverUnavailable",
    "WebhookProfile",
    "WsgiReceiver",
    "command_receiver",
    "delivery_headers",
    "signature",
    "verify",
    "webhook_profile",
]
