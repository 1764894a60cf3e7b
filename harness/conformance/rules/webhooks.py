"""The seam for the webhook-receiver rules (another module implements them).

``webhook-fast-ack``, ``webhook-idempotent``, ``webhook-order-tolerant`` and
``webhook-signature`` judge runs against a receiver, not a client. Until their module
registers them — ``@register("webhook-fast-ack")`` from
:mod:`harness.conformance.rules.registry`, and an import in ``rules/__init__.py`` — :func:`judge`
says ``skip``: "no webhook receiver was tested" when no run feeds them, and "no rule
implementation is registered" when webhook runs exist but nothing judges them.
"""

from __future__ import annotations

from harness.conformance.verdicts import WEBHOOK_RULES

__all__ = ["NO_RECEIVER", "WEBHOOK_RULES"]

#: The skip reason while no run exercised a webhook receiver.
NO_RECEIVER = "no webhook receiver was tested"
