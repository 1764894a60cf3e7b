"""Errors the harness raises at its users.

    HarnessError
    ├── ConfigurationError (also ValueError)   bad arguments, profiles, options
    └── ServerError                            the fake failed inside; re-raised in the test

Every message says what was wrong and what to do instead.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "HarnessError", "ServerError"]


class HarnessError(Exception):
    """Root of every error vexa-harness raises on purpose."""


class ConfigurationError(HarnessError, ValueError):
    """The harness was asked for something it cannot do (unknown profile, bad option...)."""


class ServerError(HarnessError):
    """The fake Vexa itself crashed while answering; the original error is the ``__cause__``."""
