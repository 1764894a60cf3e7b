"""The HTTP application: request/response values, routing, Vexa routes, control API."""
