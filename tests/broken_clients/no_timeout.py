"""Sets no timeout: a server that never answers holds it forever.

So it also never recovers from the lost answer of ``start_bot/ambiguous-timeout``.
"""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"client-timeout", "retries-transient"}
ADAPTER = HttpxAdapter(replace(POLICY, timeout=None))

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
