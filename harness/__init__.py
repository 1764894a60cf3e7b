"""vexa-harness: a faithful fake Vexa, a fault engine, and verdicts on your client.

The public surface is what ``__all__`` lists; everything else may change without notice.
Names are imported on first use (PEP 562), so ``python -m harness.clients.command_client``,
run once per operation by ``vexa-harness conform``, starts without loading the fake.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOMES = {
    "Clock": "harness._clock",
    "SystemClock": "harness._clock",
    "VirtualClock": "harness._clock",
    "ConfigurationError": "harness.errors",
    "HarnessError": "harness.errors",
    "ServerError": "harness.errors",
    "Account": "harness.fake",
    "FakeVexa": "harness.fake",
    "LoopbackServer": "harness.server.loopback",
    "Lifecycle": "harness.vexa.lifecycle",
    "PROFILES": "harness.vexa.profiles",
    "Profile": "harness.vexa.profiles",
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import version

        return version("vexa-harness")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
