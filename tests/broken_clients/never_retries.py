"""One attempt, whatever happens."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"retries-transient"}
ADAPTER = HttpxAdapter(replace(POLICY, max_attempts=1))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
