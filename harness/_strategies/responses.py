"""Schema-valid but unusual Vexa answers, generated from api.v1's own component schemas.

A client's parser meets, sooner or later, everything the contract allows: ``null`` wherever a
field is nullable, fields it has never seen (api.v1 objects are open), empty lists, strings in
any script, timestamps with any offset, integers past 2**53, a transcript of a thousand
segments. Each value here validates against the api.v1 component it was drawn from, so a
client that crashes on it has a bug — not the server.

The schemas are the copy the fake ships (``harness/web/api_v1_components.json``, unmodified
from Vexa's published api.v1), read once.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any

from hypothesis import strategies as st

from harness._strategies.operations import target
from harness.faults.kinds import Status
from harness.faults.plan import Match, Rule, Schedule

__all__ = ["ANSWERS", "components", "unusual_answers", "vexa_responses"]

Schema = dict[str, Any]

#: operation → (status, api.v1 component) of its success answer, for the operations whose
#: answer a client parses into data.
ANSWERS: dict[str, tuple[int, str]] = {
    "start_bot": (202, "MeetingResponse"),
    "bot_status": (200, "BotStatusResponse"),
    "get_transcript": (200, "TranscriptionResponse"),
    "list_meetings": (200, "MeetingListResponse"),
    "update_meeting": (200, "MeetingResponse"),
}
#: Lengths of the long lists (a transcript of many segments, a long meeting list).
_LONG = (100, 1000)
_ZONES = (UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8)))


@cache
def components() -> dict[str, Schema]:
    """api.v1's component schemas, by name."""
    text = resources.files("harness.web").joinpath("api_v1_components.json").read_text("utf-8")
    schemas: dict[str, Schema] = json.loads(text)["schemas"]
    return schemas


def _text() -> st.SearchStrategy[str]:
    """Any script, emoji, combining marks and right-to-left text; no lone surrogates."""
    return st.text(st.characters(codec="utf-8"), max_size=20)


def _date_time() -> st.SearchStrategy[str]:
    """RFC 3339 date-times: ``Z`` or a numeric offset, with or without fractions of a second."""
    moments = st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    )

    def render(moment: datetime, zone: timezone, zulu: bool) -> str:
        text = moment.astimezone(zone).isoformat()
        return text.replace("+00:00", "Z") if zulu else text

    return st.builds(render, moments, st.sampled_from(_ZONES), st.booleans())


def _json() -> st.SearchStrategy[Any]:
    """A JSON value for an open object's unknown field: a scalar, or a flat list or object."""
    scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | _text()
    return scalars | st.lists(scalars, max_size=2) | st.dictionaries(_text(), scalars, max_size=2)


def _array(schema: Schema) -> st.SearchStrategy[list[Any]]:
    items = _from(schema.get("items", {}))
    few = st.lists(items, max_size=3)
    long = st.builds(
        lambda seed, n: (seed * n)[:n],
        st.lists(items, min_size=1, max_size=3),
        st.sampled_from(_LONG),
    )
    return st.one_of(few, long)


def _object(schema: Schema) -> st.SearchStrategy[dict[str, Any]]:
    properties: dict[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    fixed = st.fixed_dictionaries(
        {name: _from(sub) for name, sub in properties.items() if name in required},
        optional={name: _from(sub) for name, sub in properties.items() if name not in required},
    )
    extra_schema = schema.get("additionalProperties", True)
    if extra_schema is False:
        return fixed
    values = _json() if extra_schema is True else _from(extra_schema)
    unknown = _text().filter(lambda k: k not in properties)
    extras = st.dictionaries(unknown, values, max_size=2)
    return st.builds(lambda known, more: {**more, **known}, fixed, extras)


def _from(schema: Schema) -> st.SearchStrategy[Any]:
    """A strategy for one (sub)schema of the subset api.v1 uses."""
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return st.deferred(lambda: _from(components()[name]))
    if "anyOf" in schema:
        branches = sorted(schema["anyOf"], key=lambda s: s.get("type") != "null")
        return st.one_of([_from(branch) for branch in branches])  # null first: the usual crash
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return _date_time() if schema.get("format") == "date-time" else _text()
    if kind == "integer":
        return st.one_of(st.integers(0, 10), st.integers(-(2**63), 2**63))
    if kind == "number":
        return st.one_of(
            st.integers(-(2**31), 2**31), st.floats(allow_nan=False, allow_infinity=False)
        )
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return _array(schema)
    if kind == "object" or "properties" in schema:
        return _object(schema)
    return _json()  # an empty schema allows anything


def vexa_responses(component: str) -> st.SearchStrategy[Any]:
    """JSON bodies valid against api.v1's ``#/components/schemas/<component>``, biased to the odd.

    Nulls (tried first wherever allowed), unknown fields, empty and very long lists, any
    Unicode, any RFC 3339 offset, huge integers.
    """
    schemas = components()
    if component not in schemas:
        raise ValueError(
            f"api.v1 has no component {component!r}; it has {', '.join(sorted(schemas))}"
        )
    return _from(schemas[component])


def unusual_answers(operation: str) -> st.SearchStrategy[Rule]:
    """Fault rules that answer ``operation``'s next request with an unusual but valid body.

    The status is the operation's success status and the body validates against its api.v1
    component (:data:`ANSWERS`); the model is not consulted, so nothing is committed.
    """
    if operation not in ANSWERS:
        raise ValueError(
            f"no api.v1 answer body is known for {operation!r}; these have one: "
            f"{', '.join(ANSWERS)}"
        )
    status, component = ANSWERS[operation]
    spec = target(operation)
    bodies = vexa_responses(component).map(lambda body: json.dumps(body))
    return st.builds(
        Rule,
        fault=st.builds(Status, st.just(status), body=bodies),
        match=st.just(Match(method=spec.method, path=spec.path)),
        on=st.just(Schedule(calls=(1,))),
        phase=st.just("before_commit"),
    )
