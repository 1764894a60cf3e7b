"""Waits about the same interval before every retry (jittered, but it never grows)."""

import random
import sys
from dataclasses import dataclass

from harness.clients.command import main
from harness.clients.command_client import POLICY
from harness.clients.policy import RetryPolicy
from harness.clients.sync_client import HttpxAdapter

BREAKS = {"backoff-growth"}


@dataclass(frozen=True, slots=True)
class FixedInterval(RetryPolicy):
    def backoff(self, retry: int) -> float:
        return random.uniform(0.8, 1.0) * self.base


ADAPTER = HttpxAdapter(
    FixedInterval(
        max_attempts=POLICY.max_attempts,
        max_time=POLICY.max_time,
        base=0.5,
        timeout=POLICY.timeout,
    )
)

if __name__ == "__main__":
    sys.exit(main(ADAPTER))
