"""The application: one ``Request → Response`` function in front of the Vexa model.

Every transport calls :meth:`VexaApp.handle`. It resolves the route, applies validation and
authentication in the order the profile's Vexa applies them, runs the handler under one lock
(so 16 racing threads see a serial history), and renders domain errors as Vexa renders them.
An unexpected exception is *not* turned into a 500 here: it propagates, so the transport can
record it and the test that caused it can fail with the real traceback.
"""

from __future__ import annotations

import threading
from typing import Any

from harness.vexa.bodies import BodyError, parse_body
from harness.vexa.exceptions import VexaError
from harness.vexa.model import VexaModel
from harness.vexa.platforms import CannotConstructUrl
from harness.web.endpoints import Call, Endpoint, parse_query
from harness.web.messages import Request, Response, json_response
from harness.web.router import Match, Route, Router, first_match

__all__ = ["DEFAULT_MAX_BODY", "VexaApp"]

DEFAULT_MAX_BODY = 1_048_576


class VexaApp:
    """The fake Vexa as a thread-safe callable from :class:`Request` to :class:`Response`."""

    def __init__(
        self,
        model: VexaModel,
        routers: tuple[Router[Endpoint], ...] | None = None,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY,
    ) -> None:
        if routers is None:
            from harness.web.registry import default_routers

            routers = default_routers()
        self.model = model
        self.routers = routers
        self.max_body_bytes = max_body_bytes
        self.lock = threading.RLock()
        self.extra: dict[str, Any] = {}
        self._sizes: tuple[tuple[int, int], ...] = ()
        self._by_head: dict[str, list[tuple[Router[Endpoint], Route[Endpoint]]]] = {}

    def __call__(self, request: Request) -> Response:
        return self.handle(request)

    def handle(self, request: Request) -> Response:
        if len(request.body) > self.max_body_bytes:
            return json_response(413, {"detail": "Request body too large"})
        with self.lock:
            try:
                return self._dispatch(request)
            except VexaError as exc:
                return json_response(exc.status, exc.payload(), exc.headers)

    def _resolve(self, request: Request) -> Match[Endpoint] | Response:
        """The first route of the first router that matches, as if each router were asked in
        turn — from one candidate list per path head across all routers (every request)."""
        found = first_match(request.method, request.path, self._candidates(request.path))
        if isinstance(found, Match):
            return found
        if found:
            allow = ", ".join(sorted(found))
            return json_response(405, {"detail": "Method Not Allowed"}, [("allow", allow)])
        return json_response(404, {"detail": "Not Found"})

    def _candidates(self, path: str) -> list[tuple[Router[Endpoint], Route[Endpoint]]]:
        sizes = tuple((id(router), len(router.routes)) for router in self.routers)
        if sizes != self._sizes:  # a router or a route was added since: start over
            self._sizes, self._by_head = sizes, {}
        head = path.lstrip("/").split("/", 1)[0]
        found = self._by_head.get(head)
        if found is None:
            found = [(r, route) for r in self.routers for route in r.candidates(path)]
            if len(self._by_head) < 1024:  # bounded: unknown heads come from clients
                self._by_head[head] = found
        return found

    def _dispatch(self, request: Request) -> Response:
        match = self._resolve(request)
        if isinstance(match, Response):
            return match
        endpoint = match.route.handler
        call = Call(request=request, model=self.model, params=match.params, query={})
        # admin-api (its own FastAPI service) checks the admin key before any validation.
        if self.model.profile.auth_before_validation or endpoint.auth == "admin":
            self._authenticate(call, endpoint)
        elif match.errors:
            # The v0.10 gateway validates its own path parameters before it looks at the key;
            # the body and query are validated behind it, by the service it forwards to.
            raise VexaError(422, match.errors)
        else:
            self._authenticate(call, endpoint)
        self._validate(call, endpoint, match)
        try:
            return endpoint.handler(call)
        except CannotConstructUrl as exc:
            raise VexaError(self.model.profile.semantic_validation_status, exc.message) from None

    def _authenticate(self, call: Call, endpoint: Endpoint) -> None:
        if endpoint.auth == "none":
            return
        if endpoint.auth == "admin":
            self.model.authenticate_admin(call.request.headers.get("x-admin-api-key"))
            return
        call.user, call.key = self.model.authenticate(call.request.headers.get("x-api-key"))
        if endpoint.scopes is not None and not endpoint.scopes.intersection(call.key.scopes):
            raise VexaError(403, "Insufficient scope for this endpoint")

    def _validate(self, call: Call, endpoint: Endpoint, match: Match[Endpoint]) -> None:
        errors = list(match.errors)
        call.query, query_errors = parse_query(endpoint.query, call.request)
        errors += query_errors
        if endpoint.body is not None:
            try:
                call.body = parse_body(endpoint.body, call.request.body)
            except BodyError as exc:
                raise self._body_error(exc, errors) from None
        if errors:
            raise VexaError(422, errors)

    def _body_error(self, exc: BodyError, other_errors: list[dict[str, Any]]) -> VexaError:
        """Vexa's answer to a body it could not accept, as the profile words it."""
        profile = self.model.profile
        if exc.malformed and profile.malformed_body_status == 400:
            reason = exc.errors[0].get("ctx", {}).get("error", "invalid JSON")
            return VexaError(400, f"Malformed request body: {reason}")
        semantic = all(item["type"] == "value_error" for item in exc.errors)
        if semantic and not other_errors and profile.semantic_validation_status == 400:
            return VexaError(400, exc.errors[0]["msg"].removeprefix("Value error, "))
        return VexaError(422, other_errors + exc.errors)
