"""Vexa's published api.v1 contract, as validators and shape skeletons for the project's tests.

Not a test module: ``test_contract.py`` and ``test_errors.py`` import it.

- :func:`validator` builds a ``jsonschema`` Draft 2020-12 validator for one
  ``#/components/schemas/<Name>`` of the api.v1 OpenAPI document, resolving its internal
  ``$ref``s through a :class:`referencing.Registry`, with ``date-time`` format checking on.
  With ``zoned=True`` (the ``docs`` profile writes ``...Z``) a ``date-time`` must be RFC 3339,
  offset included; with ``zoned=False`` (v0.10 writes naive UTC DB times) the offset may be
  missing, but the value must still be an ISO date-time.
- :func:`shape` gives the recursive key/type skeleton of a JSON value, and
  :func:`shape_mismatches` says where a body fails to reproduce a golden example's skeleton.

The checkers are our own (a regex plus :meth:`datetime.fromisoformat`) rather than
``jsonschema``'s, whose ``date-time`` check silently passes everything unless the optional
``rfc3339-validator`` package happens to be installed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = [
    "API_V1",
    "GOLDEN",
    "SHARED",
    "allows_null",
    "component",
    "golden",
    "golden_names",
    "is_naive_iso",
    "is_rfc3339",
    "openapi",
    "shape",
    "shape_mismatches",
    "validator",
]

#: ``../shared`` next to the repository root (CI checks it out there too).
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
API_V1 = SHARED / "contracts" / "vexa" / "api.v1"
GOLDEN = API_V1 / "golden"
#: The URI the OpenAPI document is registered under; component refs resolve against it.
BASE_URI = "urn:vexa:api.v1"

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$")
_NAIVE_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?$")


# ---------------------------------------------------------------------------- the document


@cache
def openapi() -> dict[str, Any]:
    """The api.v1 OpenAPI document (``info.version`` 1.5.0)."""
    with (API_V1 / "api.schema.json").open(encoding="utf-8") as fh:
        document: dict[str, Any] = json.load(fh)
    return document


@cache
def registry() -> Registry[Any]:
    resource = Resource.from_contents(openapi(), default_specification=DRAFT202012)
    return Registry().with_resource(BASE_URI, resource)


def component(name: str) -> dict[str, Any]:
    """The raw ``#/components/schemas/<name>`` (KeyError lists what exists)."""
    schemas: dict[str, Any] = openapi()["components"]["schemas"]
    if name not in schemas:
        raise KeyError(f"api.v1 has no component {name!r}; it has {sorted(schemas)}")
    return dict(schemas[name])


def golden_names() -> list[str]:
    return sorted(p.name.removesuffix(".example.json") for p in GOLDEN.glob("*.example.json"))


def golden(name: str) -> Any:
    with (GOLDEN / f"{name}.example.json").open(encoding="utf-8") as fh:
        return json.load(fh)


# ---------------------------------------------------------------------------- formats


def is_rfc3339(value: object) -> bool:
    """RFC 3339 ``date-time``: a full date, a time and a zone (``Z`` or ``±hh:mm``)."""
    if not isinstance(value, str):
        return True  # formats only constrain strings
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_naive_iso(value: object) -> bool:
    """A zone-less ISO date-time, as v0.10 serialises its naive UTC columns."""
    if not isinstance(value, str) or not _NAIVE_ISO.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _format_checker(zoned: bool) -> FormatChecker:
    checker = FormatChecker(formats=())
    if zoned:
        checker.checks("date-time")(is_rfc3339)
    else:
        checker.checks("date-time")(
            lambda value: not isinstance(value, str) or is_rfc3339(value) or is_naive_iso(value)
        )
    return checker


@cache
def validator(name: str, *, zoned: bool = True) -> Draft202012Validator:
    """A Draft 2020-12 validator for component ``name``, ``date-time`` format checked."""
    schema = component(name)  # fail early, with a helpful message, on a bad name
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(
        {"$ref": f"{BASE_URI}#/components/schemas/{name}"},
        registry=registry(),
        format_checker=_format_checker(zoned),
    )


def errors_of(name: str, instance: Any, *, zoned: bool = True) -> list[str]:
    """Every way ``instance`` breaks component ``name``, one readable line each."""
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator(name, zoned=zoned).iter_errors(instance)
    ]


# ---------------------------------------------------------------------------- shapes


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    raise TypeError(f"not a JSON value: {value!r}")


def shape(obj: Any) -> Any:
    """The key/type skeleton: objects keep their keys, lists the skeleton of each item.

    >>> shape({"a": [1, {"b": None}], "c": 1.5})
    {'a': ['integer', {'b': 'null'}], 'c': 'number'}
    """
    if isinstance(obj, Mapping):
        return {key: shape(value) for key, value in obj.items()}
    if isinstance(obj, list):
        return [shape(item) for item in obj]
    return _json_type(obj)


def _resolve(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return component(ref.rsplit("/", 1)[1])
    return schema


def _branches(schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """A schema and every alternative it allows (``anyOf``/``oneOf``), refs resolved."""
    schema = _resolve(schema)
    yield schema
    for key in ("anyOf", "oneOf"):
        for branch in schema.get(key, []):
            yield from _branches(branch)


def _step(schemas: list[Mapping[str, Any]], part: str | int) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    for schema in schemas:
        for branch in _branches(schema):
            if isinstance(part, int):
                if isinstance(branch.get("items"), Mapping):
                    found.append(branch["items"])
            elif part in branch.get("properties", {}):
                found.append(branch["properties"][part])
    return found


def allows_null(component_name: str, path: tuple[str | int, ...]) -> bool:
    """Whether the component's schema allows ``null`` at ``path`` (ints step into arrays)."""
    schemas: list[Mapping[str, Any]] = [component(component_name)]
    for part in path:
        schemas = _step(schemas, part)
    for schema in schemas:
        for branch in _branches(schema):
            kind = branch.get("type")
            if kind == "null" or (isinstance(kind, list) and "null" in kind):
                return True
    return False


def _compatible(expected: str, actual: str) -> bool:
    # Every JSON integer is a JSON number: golden ``1.0`` is matched by ``1``.
    return expected == actual or (expected == "number" and actual == "integer")


def shape_mismatches(
    golden_value: Any, actual: Any, component_name: str, path: tuple[str | int, ...] = ()
) -> list[str]:
    """Where ``actual`` fails to reproduce ``golden_value``'s skeleton.

    Every key of a golden object must be present with the same JSON type; a ``null`` on either
    side is accepted only where the component's schema allows ``null``. Every item of an actual
    list must reproduce the golden list's first item; a golden list with items needs an actual
    list with items. Extra keys in ``actual`` are fine (the golden examples are minimal).
    """
    where = "/".join(map(str, path)) or "<root>"
    if golden_value is None or actual is None:
        if golden_value is None and actual is None:
            return []
        if allows_null(component_name, path):
            return []
        return [f"{where}: null where the schema does not allow it ({shape(actual)!r})"]
    if isinstance(golden_value, Mapping):
        if not isinstance(actual, Mapping):
            return [f"{where}: expected an object, got {shape(actual)!r}"]
        problems: list[str] = []
        for key, value in golden_value.items():
            if key not in actual:
                problems.append(f"{where}: missing key {key!r}")
            else:
                problems += shape_mismatches(value, actual[key], component_name, (*path, key))
        return problems
    if isinstance(golden_value, list):
        if not isinstance(actual, list):
            return [f"{where}: expected an array, got {shape(actual)!r}"]
        if golden_value and not actual:
            return [f"{where}: the golden array has items, the actual one is empty"]
        if not golden_value:
            return []
        problems = []
        for index, item in enumerate(actual):
            problems += shape_mismatches(golden_value[0], item, component_name, (*path, index))
        return problems
    expected, got = _json_type(golden_value), _json_type(actual)
    if not _compatible(expected, got):
        return [f"{where}: expected {expected}, got {got}"]
    return []
