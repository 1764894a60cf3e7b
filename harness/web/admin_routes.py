"""Vexa's admin API (``X-Admin-API-Key``): users and their API tokens.

Every route declares ``auth="admin"``. The dispatcher then answers 500 when the fake has no
admin key (``FakeVexa(admin_key=...)``, ``serve --admin-key``) and 403 for a missing or wrong
one, as admin-api does. Handlers call :mod:`harness.vexa.admin` and render with
:mod:`harness.vexa.views`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from harness.vexa import admin, views
from harness.vexa.exceptions import VexaError
from harness.vexa.model import User
from harness.web.endpoints import Call, Endpoint, Handler, QueryInt, QueryStr, registrar
from harness.web.messages import Response, json_response
from harness.web.router import Router

__all__ = ["ADMIN_ROUTER", "UserCreate", "UserUpdate"]

ADMIN_ROUTER: Router[Endpoint] = Router()


class UserCreate(BaseModel):
    """``POST /admin/users``. admin-api ignores ``data`` when it creates a user."""

    model_config = ConfigDict(extra="ignore")

    email: str
    name: str | None = None
    image_url: str | None = None
    max_concurrent_bots: int | None = None
    data: dict[str, Any] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return admin.check_email(value)


class UserUpdate(BaseModel):
    """``PATCH /admin/users/{id}``: only the fields sent are applied; ``data`` is merged."""

    model_config = ConfigDict(extra="ignore")

    email: str | None = None
    name: str | None = None
    image_url: str | None = None
    max_concurrent_bots: int | None = None
    data: dict[str, Any] | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else admin.check_email(value)


_admin_route = registrar(ADMIN_ROUTER, auth="admin")


def route(method: str, template: str, **spec: Any) -> Callable[[Handler], Handler]:
    """Behind the admin key: every admin route can also answer 403 and 500 (no key set)."""
    errors = tuple(sorted({403, 500, *spec.pop("errors", ())}))
    decorate: Callable[[Handler], Handler] = _admin_route(method, template, errors=errors, **spec)
    return decorate


def _detail(user: User, call: Call) -> dict[str, Any]:
    """admin-api ``UserDetailResponse``: the user, its raw data, and its tokens."""
    body = views.user_response(user, call.profile)
    body["data"] = dict(user.data)
    body["api_tokens"] = [
        views.key_response(key, call.profile) for key in admin.tokens_of(call.model, user.id)
    ]
    return body


@route(
    "POST",
    "/admin/users",
    body=UserCreate,
    responses={"201": "UserResponse", "200": "UserResponse"},
    errors=(422,),
)
def create_user(call: Call) -> Response:
    """Find or create a user by email (201 created, 200 when the email exists)."""
    body: UserCreate = call.body
    user, created = admin.find_or_create_user(
        call.model,
        body.email,
        name=body.name,
        image_url=body.image_url,
        max_concurrent_bots=body.max_concurrent_bots,
    )
    return json_response(201 if created else 200, views.user_response(user, call.profile))


@route(
    "GET",
    "/admin/users",
    query=(QueryInt("skip", default=0), QueryInt("limit", default=100)),
    responses={"200": "UserResponseList"},
    errors=(422,),
)
def list_users(call: Call) -> Response:
    """List users in creation order (skip/limit are clamped to 0+ and 1-100)."""
    users = admin.list_users(call.model, call.query["skip"], call.query["limit"])
    return json_response(200, [views.user_response(u, call.profile) for u in users])


@route(
    "GET",
    "/admin/users/email/{email}",
    responses={"200": "UserResponse"},
    errors=(404,),
)
def user_by_email(call: Call) -> Response:
    """One user by email."""
    call.model.now()
    user = call.model.user_by_email(call.params["email"])
    if user is None:
        raise VexaError(404, "User not found")
    return json_response(200, views.user_response(user, call.profile))


@route(
    "GET",
    "/admin/users/{user_id:int}",
    responses={"200": "UserDetailResponse"},
    errors=(404, 422),
)
def get_user(call: Call) -> Response:
    """One user by id, with its API tokens."""
    call.model.now()
    user = admin.user_or_404(call.model, call.params["user_id"])
    return json_response(200, _detail(user, call))


@route(
    "PATCH",
    "/admin/users/{user_id:int}",
    body=UserUpdate,
    responses={"200": "UserResponse"},
    errors=(400, 404, 422),
)
def update_user(call: Call) -> Response:
    """Change a user's name, image, bot limit or data (merged); never its email."""
    body: UserUpdate = call.body
    user = admin.user_or_404(call.model, call.params["user_id"])
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    admin.patch_user(call.model, user, changes)
    return json_response(200, views.user_response(user, call.profile))


@route(
    "POST",
    "/admin/users/{user_id:int}/tokens",
    query=(
        QueryStr("scope", default="bot", description="One scope (bot, tx or browser)"),
        QueryStr("scopes", description="Comma-separated scopes; wins over scope"),
        QueryStr("name", description="A label for the token"),
        QueryInt("expires_in", description="Lifetime in seconds (1 to 7776000)"),
    ),
    responses={"201": "TokenResponse"},
    errors=(404, 422),
)
def create_token(call: Call) -> Response:
    """Mint an API token for a user (vxa_<first scope>_<32 alphanumerics>)."""
    key = admin.mint_token(
        call.model,
        call.params["user_id"],
        scope=call.query["scope"],
        scopes=call.query["scopes"],
        name=call.query["name"],
        expires_in=call.query["expires_in"],
    )
    return json_response(201, views.key_response(key, call.profile))


@route("DELETE", "/admin/tokens/{token_id:int}", responses={"204": None}, errors=(404, 422))
def delete_token(call: Call) -> Response:
    """Delete an API token: requests with it then get 401 Invalid API key."""
    call.model.now()
    call.model.revoke_key(call.params["token_id"])
    return Response(status=204)
