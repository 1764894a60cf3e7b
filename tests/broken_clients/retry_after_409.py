"""Treats 409 as transient: re-sends the same request, ``POST /bots`` included."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"no-blind-post", "no-retry-non-retryable"}
ADAPTER = HttpxAdapter(replace(POLICY, retry_statuses=POLICY.retry_statuses | {409}))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
