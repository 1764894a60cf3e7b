"""How an endpoint is declared: its auth, its scopes, its query and body, and its handler.

Declaring these as data (instead of parsing inside each handler) lets the dispatcher apply
them in the order the chosen Vexa version applies them, and lets the OpenAPI document be
generated from the same table, so it describes what the fake really does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from harness.vexa.model import ApiKey, User, VexaModel
from harness.vexa.profiles import Profile
from harness.web.messages import Request, Response
from harness.web.router import Router

__all__ = [
    "Call",
    "Endpoint",
    "Handler",
    "QueryInt",
    "QueryStr",
    "Registrar",
    "parse_query",
    "registrar",
]

Auth = Literal["none", "user", "admin"]


@dataclass(frozen=True, slots=True)
class QueryInt:
    """An integer query parameter with FastAPI's ``ge``/``le`` bounds."""

    name: str
    ge: int | None = None
    le: int | None = None
    default: int | None = None
    description: str = ""


@dataclass(frozen=True, slots=True)
class QueryStr:
    name: str
    default: str | None = None
    description: str = ""


@dataclass(slots=True)
class Call:
    """What a handler gets: the request, converted parameters, and who is calling."""

    request: Request
    model: VexaModel
    params: dict[str, Any]
    query: dict[str, Any]
    body: Any = None
    user: User | None = None
    key: ApiKey | None = None

    @property
    def profile(self) -> Profile:
        return self.model.profile

    @property
    def caller(self) -> User:
        assert self.user is not None, "handler declared auth='user'"
        return self.user


Handler = Callable[[Call], Response]


@dataclass(frozen=True, slots=True)
class Endpoint:
    handler: Handler
    summary: str
    auth: Auth = "user"
    #: The caller's key must hold at least one of these scopes (None: no scope check).
    scopes: frozenset[str] | None = None
    query: tuple[QueryInt | QueryStr, ...] = ()
    body: type[BaseModel] | None = None
    #: Success statuses and the api.v1 schema (component name) of each body, for OpenAPI.
    responses: dict[str, str | None] = field(default_factory=dict)
    #: Error statuses this endpoint can answer, for OpenAPI.
    errors: tuple[int, ...] = ()


Registrar = Callable[..., Callable[[Handler], Handler]]


def registrar(router: Router[Endpoint], prefix: str = "", **defaults: Any) -> Registrar:
    """A ``route(method, template, **spec)`` decorator that declares endpoints on ``router``.

    The first line of the handler's docstring becomes the summary (the OpenAPI document shows
    it); ``defaults`` fill in the spec fields a route leaves out (e.g. ``scopes`` or ``auth``).
    """

    def route(method: str, template: str, **spec: Any) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            summary = (handler.__doc__ or "").strip().splitlines()[0]
            endpoint = Endpoint(handler=handler, summary=summary, **{**defaults, **spec})
            router.add(method, prefix + template)(endpoint)
            return handler

        return register

    return route


def _int_issue(spec: QueryInt, raw: str) -> dict[str, Any] | None:
    loc = ["query", spec.name]
    try:
        value = int(raw)
    except ValueError:
        return {
            "type": "int_parsing",
            "loc": loc,
            "msg": "Input should be a valid integer, unable to parse string as an integer",
            "input": raw,
        }
    if spec.ge is not None and value < spec.ge:
        return {
            "type": "greater_than_equal",
            "loc": loc,
            "msg": f"Input should be greater than or equal to {spec.ge}",
            "input": raw,
            "ctx": {"ge": spec.ge},
        }
    if spec.le is not None and value > spec.le:
        return {
            "type": "less_than_equal",
            "loc": loc,
            "msg": f"Input should be less than or equal to {spec.le}",
            "input": raw,
            "ctx": {"le": spec.le},
        }
    return None


def parse_query(
    specs: tuple[QueryInt | QueryStr, ...], request: Request
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Convert declared query parameters; unknown ones are ignored, as FastAPI does."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for spec in specs:
        raw = request.query_param(spec.name)
        if raw is None:
            values[spec.name] = spec.default
        elif isinstance(spec, QueryInt):
            issue = _int_issue(spec, raw)
            if issue is None:
                values[spec.name] = int(raw)
            else:
                errors.append(issue)
        else:
            values[spec.name] = raw
    return values, errors
