"""Routes about the fake itself: ``GET /openapi.json``, the document of what it answers."""

from __future__ import annotations

from harness.web.endpoints import Call, Endpoint
from harness.web.messages import Response, json_response
from harness.web.openapi import openapi_document
from harness.web.registry import default_routers
from harness.web.router import Router

__all__ = ["META_ROUTER"]

META_ROUTER: Router[Endpoint] = Router()


def openapi_json(call: Call) -> Response:
    """This fake's OpenAPI 3.1 document, for its profile (Vexa, admin and control routes).

    It describes the default routers (:func:`harness.web.registry.default_routers`).
    """
    return json_response(200, openapi_document(call.profile, default_routers()))


META_ROUTER.add("GET", "/openapi.json")(
    Endpoint(
        handler=openapi_json,
        summary="This fake's OpenAPI 3.1 document, for its profile.",
        auth="none",
        responses={"200": "OpenApiDocument"},
    )
)
