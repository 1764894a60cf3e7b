"""Vexa's admin API (``admin-api`` v0.10) as pure operations on the model.

The admin API owns users and their API tokens. Its rules, from ``admin-api/app/main.py``:

- ``POST /admin/users`` finds or creates by email. An existing email is returned unchanged
  (200, not 409), and ``data`` in the body is ignored on creation.
- Listing clamps ``skip``/``limit`` into range instead of rejecting them.
- ``PATCH`` merges ``data`` into the stored data and refuses to change the email.
- A token's scopes come from ``?scopes=a,b`` (which wins) or ``?scope=`` (default ``bot``).
  They are checked in request order, then ``expires_in`` is checked.
- ``DELETE /admin/tokens/{id}`` deletes the token: it vanishes from the user's token list, and
  a second delete is a 404.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic_core import PydanticCustomError

from harness.vexa.exceptions import VexaError
from harness.vexa.model import SCOPES, ApiKey, User, VexaModel

__all__ = [
    "MAX_TOKEN_EXPIRES_IN",
    "check_email",
    "find_or_create_user",
    "list_users",
    "mint_token",
    "patch_user",
    "tokens_of",
    "user_or_404",
]

#: ``MAX_TOKEN_EXPIRES_IN_SECONDS``: 90 days.
MAX_TOKEN_EXPIRES_IN = 60 * 60 * 24 * 90
_MAX_EMAIL_LENGTH = 2048
_MAX_PAGE = 100
_BLANK = re.compile(r"\s")


def check_email(value: str) -> str:
    """pydantic's ``EmailStr`` check with its messages, without the email-validator package.

    It covers the common mistakes (no or several ``@``, an empty side, a domain without a
    dot, whitespace) and lowercases the domain as email-validator's normalisation does.
    """
    reason = _email_problem(value)
    if reason is not None:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": reason}
        )
    local, _, domain = value.strip().rpartition("@")
    return f"{local}@{domain.lower()}"


def _email_problem(value: str) -> str | None:
    if len(value) > _MAX_EMAIL_LENGTH:
        return f"Length must not exceed {_MAX_EMAIL_LENGTH} characters"
    email = value.strip()
    if "@" not in email:
        return "An email address must have an @-sign."
    if email.count("@") > 1:
        return "The email address is not valid. It must have exactly one @-sign."
    local, _, domain = email.partition("@")
    if not local:
        return "There must be something before the @-sign."
    if not domain:
        return "There must be something after the @-sign."
    if _BLANK.search(local):
        return "The email address contains invalid characters before the @-sign: SPACE."
    if _BLANK.search(domain):
        return "The part after the @-sign contains invalid characters: SPACE."
    if "." not in domain.strip("."):
        return "The part after the @-sign is not valid. It should have a period."
    return None


def user_or_404(model: VexaModel, user_id: int) -> User:
    user = model.users.get(user_id)
    if user is None:
        raise VexaError(404, "User not found")
    return user


def find_or_create_user(
    model: VexaModel,
    email: str,
    *,
    name: str | None,
    image_url: str | None,
    max_concurrent_bots: int | None,
) -> tuple[User, bool]:
    """The user with ``email`` (unchanged), or a new one. True when it was created."""
    model.now()
    existing = model.user_by_email(email)
    if existing is not None:
        return existing, False
    limit = model.profile.admin_default_max_concurrent_bots
    user = model.create_user(
        email,
        name=name,
        image_url=image_url,
        max_concurrent_bots=limit if max_concurrent_bots is None else max_concurrent_bots,
    )
    return user, True


def list_users(model: VexaModel, skip: int, limit: int) -> list[User]:
    """One page of users in creation order; out-of-range paging is clamped, as Vexa does."""
    model.now()
    skip = max(0, skip)
    limit = max(1, min(limit, _MAX_PAGE))
    return sorted(model.users.values(), key=lambda u: u.id)[skip : skip + limit]


def patch_user(model: VexaModel, user: User, changes: dict[str, Any]) -> User:
    """Apply the fields the request set: ``data`` is merged, the email cannot change.

    An explicit ``max_concurrent_bots: null`` is ignored. Vexa would try to store it and fail
    with a 500.
    """
    model.now()
    if "email" in changes and changes["email"] != user.email:
        raise VexaError(400, "Cannot change user email via this endpoint.")
    if changes.get("data") is not None:
        user.data = {**user.data, **changes["data"]}
    if "name" in changes:
        user.name = changes["name"]
    if "image_url" in changes:
        user.image_url = changes["image_url"]
    if changes.get("max_concurrent_bots") is not None:
        user.max_concurrent_bots = changes["max_concurrent_bots"]
    return user


def mint_token(
    model: VexaModel,
    user_id: int,
    *,
    scope: str,
    scopes: str | None,
    name: str | None,
    expires_in: int | None,
) -> ApiKey:
    """``POST /admin/users/{id}/tokens``: 404, then the scopes, then ``expires_in``."""
    user_or_404(model, user_id)
    wanted = [s.strip() for s in scopes.split(",") if s.strip()] if scopes is not None else [scope]
    invalid = [s for s in wanted if s not in SCOPES]
    if invalid:
        raise VexaError(422, f"Invalid scope(s): {invalid}. Valid: {sorted(SCOPES)}")
    if expires_in is not None and expires_in <= 0:
        raise VexaError(422, "expires_in must be a positive number of seconds")
    if expires_in is not None and expires_in > MAX_TOKEN_EXPIRES_IN:
        raise VexaError(422, f"expires_in must not exceed {MAX_TOKEN_EXPIRES_IN} seconds")
    return model.create_key(user_id, tuple(wanted), name=name, expires_in=expires_in)


def tokens_of(model: VexaModel, user_id: int) -> list[ApiKey]:
    """The user's tokens that still exist (not deleted), oldest first."""
    return sorted(
        (k for k in model.keys.values() if k.user_id == user_id and not k.revoked),
        key=lambda k: k.id,
    )
