"""``python -m harness.clients.command_client <operation> <args-json>``: the reference client.

The bundled client for ``vexa-harness conform --client-cmd``: the sync httpx client behind
the command protocol. It runs on real time against the harness, so its policy is scaled down
(full-jitter waits from 0.25 s, at most 5 s; a 5 s timeout per request; 7 attempts within
60 s) — the shape of the policy, not its size, is what the rules judge. A base of 0.25 s keeps
the statistical backoff rules' false-failure bound on real time at 3e-8 per group (see
``harness.conformance.rules.backoff``).
"""

from __future__ import annotations

import sys

from harness.clients.command import main
from harness.clients.policy import RetryPolicy
from harness.clients.sync_client import HttpxAdapter

__all__ = ["POLICY"]

POLICY = RetryPolicy(max_attempts=7, max_time=60.0, base=0.25, cap=5.0, timeout=5.0)

if __name__ == "__main__":
    sys.exit(main(HttpxAdapter(POLICY)))
