"""Retries at once, with no wait at all (it still honours Retry-After)."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"backoff-growth", "backoff-jitter"}
ADAPTER = HttpxAdapter(replace(POLICY, base=0.0))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
