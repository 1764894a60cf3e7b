"""Never gives up: no attempt limit, no time limit."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"bounded-retries"}
ADAPTER = HttpxAdapter(replace(POLICY, max_attempts=None, max_time=None))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
