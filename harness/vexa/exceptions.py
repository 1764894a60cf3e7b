"""Errors the Vexa model raises: each one is an HTTP answer Vexa would give."""

from __future__ import annotations

from typing import Any

__all__ = ["VexaError"]


class VexaError(Exception):
    """Vexa answers ``status`` with ``{"detail": detail}`` (plus ``extra`` keys and headers)."""

    def __init__(
        self,
        status: int,
        detail: Any,
        *,
        headers: tuple[tuple[str, str], ...] = (),
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.headers = headers
        self.extra = extra or {}

    def payload(self) -> dict[str, Any]:
        return {"detail": self.detail, **self.extra}
