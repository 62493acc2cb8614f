"""The OpenAPI document of every service, telling the truth about its refusals (one place, servicekit).

Every error a route can answer is documented with the one error schema (``servicekit.errors.ErrorBody``):

- derived from the route: 422 ``validation_error`` when it takes parameters or a body (replacing FastAPI's
  ``HTTPValidationError``, which the service never returns: servicekit.http answers validation errors in our
  shape), 400 ``bad_request`` when it takes a body (not JSON at all), and 503 ``database_unavailable`` when it
  has dependencies of its own, unmarked (its engine, units of work, use cases: servicekit.http's outage answer);
- declared by its dependencies: a dependency callable marked with ``@raises_from(...)`` adds its errors to every
  route that depends on it, directly or not (``CurrentPrincipal``: 401 + 503 ``auth_unavailable``;
  ``CurrentAdmin``: 403; ``per_user_rate_limit``: 429 with Retry-After);
- declared by the route: ``responses=raises(NotFound, SessionClosed, ...)`` for what its use case raises.

Routes with the bearer scheme keep FastAPI's ``security``; the others declare ``security: []`` (public).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from servicekit.errors import BadRequest, DatabaseUnavailable, DomainError, ErrorBody, Invalid

ErrorSpec = type[DomainError] | DomainError
"""A class (its ``code`` and ``message``) or an instance (``Conflict("...", code="admin_offline")``)."""

_SCHEMA = "ErrorBody"
_REF = {"$ref": f"#/components/schemas/{_SCHEMA}"}
_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"description": "The Bearer challenge (RFC 6750)", "schema": {"type": "string"}}},
    429: {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}},
}
_VALIDATION = Invalid("invalid request: <fields>")
_MALFORMED = BadRequest("There was an error parsing the body")
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

F = TypeVar("F", bound=Callable[..., Any])


def _status_code_message(error: ErrorSpec) -> tuple[int, str, str]:
    return error.status, error.code, error.message


def raises(*errors: ErrorSpec) -> dict[int | str, dict[str, Any]]:
    """Route-level ``responses=``: each status the errors have, with the error schema and one example per code."""
    responses: dict[int | str, dict[str, Any]] = {}
    for status, code, message in map(_status_code_message, errors):
        entry = responses.setdefault(status, {"description": "", "content": {"application/json": {
            "schema": _REF, "examples": {}}}})
        entry["content"]["application/json"]["examples"][code] = {"value": {"error": {"code": code,
                                                                                      "message": message}}}
        entry["description"] = _describe(entry["content"]["application/json"]["examples"])
        if status in _HEADERS:
            entry["headers"] = _HEADERS[status]
    return responses


def raises_from(*errors: ErrorSpec) -> Callable[[F], F]:
    """Marks a dependency callable: every route depending on it documents ``errors``."""

    def mark(dependency: F) -> F:
        dependency.__raises__ = errors  # type: ignore[attr-defined]
        return dependency

    return mark


def _describe(examples: dict[str, Any]) -> str:
    return "Refused: " + ", ".join(f"`{code}`" for code in examples)


def _dependency_errors(dependant: Dependant) -> Iterator[ErrorSpec]:
    for sub in dependant.dependencies:
        yield from getattr(sub.call, "__raises__", ())
        yield from _dependency_errors(sub)


def _takes_input(dependant: Dependant) -> bool:
    if dependant.path_params or dependant.query_params or dependant.header_params or dependant.cookie_params:
        return True
    if dependant.body_params:
        return True
    return any(_takes_input(sub) for sub in dependant.dependencies)


class _Route(Protocol):
    """An API route as the document sees it (FastAPI's route context: a router's prefix and dependencies
    applied)."""

    dependant: Dependant


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route of ``app`` in its document (path, methods, dependencies as included)."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def route_errors(route: _Route) -> list[ErrorSpec]:
    """What ``route`` can answer besides its own ``raises(...)``: from its input and its dependencies."""
    errors: list[ErrorSpec] = []
    if _takes_input(route.dependant):
        errors.append(_VALIDATION)
    if route.dependant.body_params:  # a body that is not JSON at all: FastAPI's 400, in our shape
        errors.append(_MALFORMED)
    errors.extend(_dependency_errors(route.dependant))
    if any(not hasattr(sub.call, "__raises__") for sub in route.dependant.dependencies):
        errors.append(DatabaseUnavailable)  # the route's own dependencies (engine, units of work, use cases)
    return errors


def _merge(operation: dict[str, Any], derived: Iterable[ErrorSpec]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, entry in raises(*derived).items():
        key = str(status)
        current = responses.get(key)
        content = (current or {}).get("content", {}).get("application/json", {})
        if current is None or content.get("schema", {}).get("$ref", "").endswith(_FASTAPI_VALIDATION_SCHEMAS[0]):
            responses[key] = entry
            continue
        own = content.get("examples") or {}
        if "examples" not in content:  # a description-only declaration: keep its words, add our schema
            current.setdefault("content", {})["application/json"] = {"schema": _REF, "examples": own}
            content = current["content"]["application/json"]
        for code, example in entry["content"]["application/json"]["examples"].items():
            content["examples"].setdefault(code, example)
        if not current.get("description") or current["description"].startswith("Refused: "):
            current["description"] = _describe(content["examples"])
        if "headers" in entry:
            current.setdefault("headers", entry["headers"])


def _uses(document: dict[str, Any], name: str) -> bool:
    return f'"#/components/schemas/{name}"' in json.dumps(document)


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The app's document: FastAPI's, with every route's errors, ``security`` on every operation, one server."""
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes,
                           tags=app.openapi_tags)
    for route in api_routes(app):
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            _merge(operation, route_errors(route))
            for status, response in operation["responses"].items():
                if status[0] in "45" and "content" not in response:  # declared in words only: the one shape
                    response["content"] = {"application/json": {"schema": _REF}}
            operation.setdefault("security", [])  # no bearer dependency: public
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas[_SCHEMA] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in schemas[_SCHEMA].pop("$defs", {}).items():
        schemas[name] = definition
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    if any(_uses(document, name) for name in _FASTAPI_VALIDATION_SCHEMAS):  # pragma: no cover - a bug here
        raise RuntimeError("a route still documents FastAPI's HTTPValidationError")
    document["servers"] = [{"url": "/", "description": "this service, or the edge in front of it"}]
    return document


def install_openapi(app: FastAPI) -> None:
    """``app.openapi()`` answers ``build_openapi(app)``, built once."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
