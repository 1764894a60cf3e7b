"""The fake's own OpenAPI 3.1 document, generated from the :class:`Endpoint` tables.

Nothing here is maintained per route: paths, operation ids, parameters, request bodies,
security and the statuses each operation can answer all come from the routers, so the document
cannot drift from what the fake does. Response bodies reuse Vexa's published api.v1 component
schemas (shipped trimmed in ``api_v1_components.json``, Apache-2.0) and add ours
(:mod:`harness.web._schemas`) for bodies the contract leaves untyped.

The document is per profile, because profiles differ on the wire: ``POST /bots`` answers 202
(docs) or 201 (v0.10), and v0.10 writes DB times naive (``2026-06-20T09:00:00``, no zone), which
is not an RFC 3339 ``date-time``; those fields get a plain string with a ``pattern`` instead.

How the tables map to the document:

- ``{name:int}`` → integer, ``{name:<enum converter>}`` → a ``$ref`` to the enum's component,
  ``{name}`` → a non-empty string without ``/`` (what the router captures);
- ``QueryInt``/``QueryStr`` → optional query parameters with their bounds and defaults;
- ``body`` → a required JSON request body, the pydantic model's schema (its ``$defs`` hoisted
  into ``components``);
- ``auth="user"`` → ``ApiKeyAuth`` (``X-API-Key``) and a 401; ``auth="admin"`` →
  ``AdminApiKeyAuth`` (``X-Admin-API-Key``), 403 for a wrong key and 500 when the fake has none;
  ``scopes`` → 403;
- ``responses`` → the success statuses: a component name is a JSON body of that schema, None is
  a body that is not JSON or no body at all (204, media bytes, plain text); an endpoint that
  declares none (the control API) gets a loosely typed ``2XX`` and ``4XX``;
- ``errors`` plus what the declaration implies (422 for a typed path, an integer query or a
  body; 413 and the profile's malformed-JSON status for a body) → error statuses, whose body is
  ``Error`` (a string ``detail``) or, for 422, a pydantic-style list *or* a string.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from http import HTTPStatus
from importlib import resources
from typing import Any

from pydantic import BaseModel

from harness.vexa.profiles import PROFILES, Profile
from harness.web._schemas import REF, db_time_schema, enum_schema, own_schemas, ref
from harness.web.endpoints import Endpoint, QueryInt, QueryStr
from harness.web.router import Route, Router

__all__ = ["ADMIN_TAG", "CONTROL_TAG", "VEXA_TAG", "openapi_document", "undescribed_components"]

Schema = dict[str, Any]

CONTROL_TAG = "harness-control"
ADMIN_TAG = "vexa-admin"
VEXA_TAG = "vexa"
_CONTROL_PREFIX = "/_harness/"
_JSON = "application/json"
_SECURITY = {"user": "ApiKeyAuth", "admin": "AdminApiKeyAuth"}

#: Components (from api.v1) whose ``date-time`` fields are DB columns, naive in v0.10.
_DB_TIME_COMPONENTS = ("MeetingResponse", "TranscriptionResponse")
#: A path segment as the router captures it (after percent-decoding): no slash, not empty.
_SEGMENT = "^[^/]+$"
#: Marks a component an endpoint declares but nobody has described yet (see the test).
_UNDESCRIBED = "x-undescribed"


# ---------------------------------------------------------------------------- components


@cache
def _contract_file() -> dict[str, Any]:
    text = resources.files("harness.web").joinpath("api_v1_components.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _contract_schemas(profile: Profile) -> dict[str, Schema]:
    """api.v1's component schemas, with DB ``date-time`` fields written as ``profile`` does."""
    schemas: dict[str, Schema] = copy.deepcopy(_contract_file()["schemas"])
    db_time = db_time_schema(profile)

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            if node.get("format") == "date-time":
                return {**{k: v for k, v in node.items() if k != "format"}, **db_time}
            return {key: rewrite(value) for key, value in node.items()}
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        return node

    for name in _DB_TIME_COMPONENTS:
        schemas[name] = rewrite(schemas[name])
    return schemas


def _comparable(schema: Schema) -> Schema:
    return {k: v for k, v in schema.items() if k not in ("title", "description")}


def _add_component(components: dict[str, Schema], name: str, schema: Schema) -> None:
    """Register ``name``; the same name must mean the same schema (titles aside)."""
    existing = components.get(name)
    if existing is None:
        components[name] = schema
    elif _comparable(existing) != _comparable(schema):
        raise ValueError(
            f"two different schemas are both called {name!r}: {existing!r} and {schema!r}; "
            "rename one of the models or enums"
        )


def _body_schema(model: type[BaseModel], components: dict[str, Schema]) -> Schema:
    schema = model.model_json_schema(ref_template=REF + "{model}")
    for name, definition in schema.pop("$defs", {}).items():
        _add_component(components, name, definition)
    _add_component(components, model.__name__, schema)
    return ref(model.__name__)


def undescribed_components(document: dict[str, Any]) -> list[str]:
    """Components an endpoint declares but neither api.v1 nor ``_schemas`` describes."""
    schemas = document["components"]["schemas"]
    return sorted(name for name, schema in schemas.items() if _UNDESCRIBED in schema)


# ---------------------------------------------------------------------------- operations


def _operation_id(route: Route[Endpoint]) -> str:
    words = [w.strip("_") for w in re.findall(r"\w+", route.openapi_path)]
    return "_".join([route.method.lower(), *(w for w in words if w)])


def _tag(route: Route[Endpoint]) -> str:
    if route.template.startswith(_CONTROL_PREFIX):
        return CONTROL_TAG
    return ADMIN_TAG if route.handler.auth == "admin" else VEXA_TAG


def _path_parameter(
    name: str, kind: str, enums: dict[str, type[StrEnum]], components: dict[str, Schema]
) -> Schema:
    schema: Schema
    if kind == "int":
        schema = {"type": "integer"}
    elif kind in enums:
        enum = enums[kind]
        _add_component(components, enum.__name__, {**enum_schema(enum), "title": enum.__name__})
        schema = ref(enum.__name__)
    else:
        schema = {"type": "string", "minLength": 1, "pattern": _SEGMENT}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _query_parameter(spec: QueryInt | QueryStr) -> Schema:
    schema: Schema
    if isinstance(spec, QueryInt):
        schema = {"type": "integer"}
        if spec.ge is not None:
            schema["minimum"] = spec.ge
        if spec.le is not None:
            schema["maximum"] = spec.le
    else:
        schema = {"type": "string"}
    if spec.default is not None:
        schema["default"] = spec.default
    parameter: Schema = {"name": spec.name, "in": "query", "required": False, "schema": schema}
    if spec.description:
        parameter["description"] = spec.description
    return parameter


def _success_statuses(endpoint: Endpoint, profile: Profile) -> dict[str, str | None]:
    """Declared success statuses; where profiles differ, only the one ``profile`` answers.

    An endpoint whose status depends on the profile (``POST /bots``) declares every
    alternative; the alternatives are the values of ``Profile.create_bot_status`` across
    the known profiles.
    """
    declared = dict(endpoint.responses)
    alternatives = {str(p.create_bot_status) for p in PROFILES.values()}
    alternatives.add(str(profile.create_bot_status))
    present = [status for status in declared if status in alternatives]
    if len(present) > 1:
        component = declared[present[0]]
        for status in present:
            del declared[status]
        declared[str(profile.create_bot_status)] = component
    return dict(sorted(declared.items()))


def _error_statuses(route: Route[Endpoint], endpoint: Endpoint, profile: Profile) -> set[int]:
    statuses = set(endpoint.errors)
    if endpoint.auth == "user":
        statuses.add(401)
    elif endpoint.auth == "admin":
        statuses.update({403, 500})
    if endpoint.scopes is not None:
        statuses.add(403)
    typed_path = any(kind != "str" for kind in route.converters.values())
    if typed_path or any(isinstance(q, QueryInt) for q in endpoint.query):
        statuses.add(422)
    if endpoint.body is not None:
        statuses.update({413, 422, profile.malformed_body_status})
    return statuses


def _error_body(status: int, *, loose: bool = False) -> Schema:
    if loose:  # the control API words its own problems: a `detail` of any shape
        return ref("ControlError")
    if status == 422:  # a pydantic-style list, or a string Vexa raises itself
        return {"anyOf": [ref("HTTPValidationError"), ref("Error")]}
    return ref("Error")


def _json(schema: Schema) -> Schema:
    return {_JSON: {"schema": schema}}


def _responses(
    route: Route[Endpoint], endpoint: Endpoint, profile: Profile, components: dict[str, Schema]
) -> Schema:
    responses: Schema = {}
    declared = _success_statuses(endpoint, profile)
    loose = not declared
    for status, component in declared.items():
        response: Schema = {"description": HTTPStatus(int(status)).phrase}
        if component is not None:
            if component not in components:
                components[component] = {_UNDESCRIBED: True, "description": "Not described."}
            response["content"] = _json(ref(component))
        responses[status] = response
    if loose:  # loosely typed (the control API): any success, any client error
        responses["2XX"] = {
            "description": "Success",
            "content": _json({"type": "object", "additionalProperties": True}),
        }
        responses["204"] = {"description": "No Content"}
    for error in sorted(_error_statuses(route, endpoint, profile)):
        responses[str(error)] = {
            "description": HTTPStatus(error).phrase,
            "content": _json(_error_body(error, loose=loose)),
        }
    if loose:
        responses["4XX"] = {
            "description": "Client error",
            "content": _json(_error_body(400, loose=True)),
        }
    return responses


def _operation(
    route: Route[Endpoint],
    operation_id: str,
    profile: Profile,
    enums: dict[str, type[StrEnum]],
    components: dict[str, Schema],
) -> Schema:
    endpoint = route.handler
    operation: Schema = {
        "operationId": operation_id,
        "summary": endpoint.summary,
        "tags": [_tag(route)],
    }
    doc = (endpoint.handler.__doc__ or "").strip()
    if doc and doc != endpoint.summary:
        operation["description"] = doc
    parameters = [
        _path_parameter(name, kind, enums, components) for name, kind in route.converters.items()
    ]
    parameters += [_query_parameter(spec) for spec in endpoint.query]
    if parameters:
        operation["parameters"] = parameters
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": _json(_body_schema(endpoint.body, components)),
        }
    operation["responses"] = _responses(route, endpoint, profile, components)
    scheme = _SECURITY.get(endpoint.auth)
    operation["security"] = [{scheme: []}] if scheme else []
    return operation


# ---------------------------------------------------------------------------- the document


def openapi_document(profile: Profile, routers: Iterable[Router[Endpoint]]) -> dict[str, Any]:
    """An OpenAPI 3.1 document of every route of ``routers``, as ``profile`` answers them.

    A route shadowed by an earlier router (same method and template) is unreachable, so it
    is left out, as the dispatcher leaves it out.
    """
    components: dict[str, Schema] = {}
    for name, schema in {**_contract_schemas(profile), **own_schemas(profile)}.items():
        _add_component(components, name, schema)

    routes: list[tuple[Route[Endpoint], dict[str, type[StrEnum]]]] = []
    seen: set[tuple[str, str]] = set()
    for router in routers:
        enums: dict[str, type[StrEnum]] = dict(router.enums)
        for route in router.routes:
            key = (route.method, route.openapi_path)
            if key not in seen:
                seen.add(key)
                routes.append((route, enums))

    names = [route.handler.handler.__name__ for route, _ in routes]
    paths: dict[str, dict[str, Schema]] = {}
    for (route, enums), name in zip(routes, names, strict=True):
        operation_id = name if names.count(name) == 1 else _operation_id(route)
        operation = _operation(route, operation_id, profile, enums, components)
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"vexa-harness fake Vexa ({profile.name} profile)",
            "version": "1.5.0",
            "description": (
                "What this fake Vexa really answers under the "
                f"'{profile.name}' profile, generated from its route tables. Vexa's api.v1 "
                "component schemas (Apache-2.0, Vexa-ai/vexa) are reused; the "
                f"'{CONTROL_TAG}' operations program the fake and are not part of Vexa."
            ),
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
            "x-harness-profile": profile.name,
        },
        "tags": [
            {"name": VEXA_TAG, "description": "The Vexa REST API, as this profile answers it."},
            {"name": ADMIN_TAG, "description": "Vexa's admin API (users and API tokens)."},
            {
                "name": CONTROL_TAG,
                "description": "The harness control API: program the running fake.",
            },
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {
                "ApiKeyAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-API-Key",
                    "description": "A user's API key (create one with POST /_harness/users).",
                },
                "AdminApiKeyAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Admin-API-Key",
                    "description": "The fake's admin key (FakeVexa(admin_key=...), "
                    "serve --admin-key).",
                },
            },
        },
    }
