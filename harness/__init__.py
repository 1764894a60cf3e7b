"""vexa-harness: a faithful fake Vexa, a fault engine, and verdicts on your client.

The public surface is what ``__all__`` lists; everything else may change without notice.
"""

from __future__ import annotations

from harness._clock import Clock, SystemClock, VirtualClock
from harness.errors import ConfigurationError, HarnessError, ServerError
from harness.fake import Account, FakeVexa
from harness.server.loopback import LoopbackServer
from harness.vexa.lifecycle import Lifecycle
from harness.vexa.profiles import PROFILES, Profile

__all__ = [
    "PROFILES",
    "Account",
    "Clock",
    "ConfigurationError",
    "FakeVexa",
    "HarnessError",
    "Lifecycle",
    "LoopbackServer",
    "Profile",
    "ServerError",
    "SystemClock",
    "VirtualClock",
    "__version__",
]


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version

        return version("vexa-harness")
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
