"""Exponential backoff without jitter: every client in a fleet retries in lockstep."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"backoff-jitter"}
ADAPTER = HttpxAdapter(replace(POLICY, jitter="none"))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
