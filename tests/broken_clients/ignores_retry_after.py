"""Backs off well, but never reads ``Retry-After``."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"honor-retry-after"}
ADAPTER = HttpxAdapter(replace(POLICY, honour_retry_after=False))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
