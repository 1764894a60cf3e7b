"""Project-wide pytest setup: pytester for plugin tests, Hypothesis profiles, loop hygiene."""

from __future__ import annotations

import asyncio
import os

import pytest
from hypothesis import HealthCheck, Verbosity, settings

pytest_plugins = ["pytester"]

settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("debug", max_examples=10, deadline=None, verbosity=Verbosity.verbose)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(autouse=True)
def _no_implicit_event_loop(request: pytest.FixtureRequest) -> None:
    """looptime's plugin asks for the policy's loop even in sync tests; on Python 3.11 that
    creates a main-thread loop nobody closes, whose ResourceWarning then fails a later test."""
    if request.node.get_closest_marker("asyncio") is None:
        asyncio.set_event_loop(None)
