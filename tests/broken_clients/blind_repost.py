"""Re-sends ``POST /bots`` after a lost answer without reading whether the bot started.

The ambiguous POST may have created the bot: the blind retry gets a 409 (or, after the first
bot ended, creates a second one), so the operation also fails to recover.
"""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"no-blind-post", "retries-transient"}
ADAPTER = HttpxAdapter(replace(POLICY, reconcile=False))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
