"""Retries 400, 401, 403, 404 and 422 as if they were transient (not 409)."""

import sys
from dataclasses import replace

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"no-retry-non-retryable"}
ADAPTER = HttpxAdapter(
    replace(POLICY, retry_statuses=POLICY.retry_statuses | {400, 401, 403, 404, 422})
)

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
