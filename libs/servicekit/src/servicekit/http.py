"""FastAPI helpers every service shares: one JSON error shape, auth dependencies, a health route.

Every error body is `{"error": {"code": str, "message": str, "details"?: ...}}`. A `servicekit.errors.DomainError`
raised anywhere becomes that body with its class's status (and its headers), in `install_error_handlers`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Annotated, Any, Literal

try:
    from fastapi import APIRouter, Depends, FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.types import ASGIApp, Message, Receive, Scope, Send
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("servicekit.http needs FastAPI: install platform-servicekit[fastapi]") from exc

from contracts.identity import Principal
from pydantic import BaseModel, Field

from servicekit import logcontext
from servicekit.errors import (
    DatabaseUnavailable,
    DomainError,
    ErrorBody,
    Forbidden,
    Unauthorized,
    Unavailable,
)
from servicekit.jwt import TOKEN_ERROR_CODES, KeySetUnavailable, TokenError
from servicekit.openapi import raises_from

log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ServiceError(DomainError):
    """A refusal whose status is given where it is raised: ``ServiceError(409, "out_of_stock", "...")``.
    Prefer the status classes of ``servicekit.errors`` (``Conflict("...", code="out_of_stock")``)."""

    def __init__(
        self,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        *,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if status is not None:
            self.status = status
        super().__init__(message, code=code, details=details, headers=headers)


def error_response(
    status: int, code: str, message: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(ErrorBody.of(code, message, details), status_code=status, headers=dict(headers or {}))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(DomainError, _domain_error)
    # Starlette's handler for Exception runs in ServerErrorMiddleware, which re-raises afterwards (the server
    # would log the traceback a second time): catch unexpected errors in our own middleware instead.
    app.add_middleware(_InternalErrorMiddleware)


_PRIMITIVE_TAGS = frozenset({"none", "str", "int", "float", "bool", "bytes", "list", "dict", "set", "tuple"})


def _is_union_tag(part: str) -> bool:
    """pydantic names the union member that failed (`function-after[...]`, `constrained-str`, `none`); our field
    names are snake_case, so a hyphen, a bracket or a bare type name marks such a tag."""
    return "-" in part or "[" in part or part in _PRIMITIVE_TAGS


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details: list[dict[str, Any]] = []
    for err in exc.errors():
        loc = [str(part) for part in err.get("loc", ())]
        where = loc[0] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else None
        path = [part for i, part in enumerate(loc[1:] if where else loc) if i == 0 or not _is_union_tag(part)]
        field = ".".join(path) or (where or "")
        details.append({"field": field, "in": where, "message": err.get("msg", ""), "type": err.get("type")})
    # An optional field that failed also reports "should be None" for its None branch: noise next to the real reason.
    failed = {d["field"] for d in details if d["type"] != "none_required"}
    details = [d for d in details if d["type"] != "none_required" or d["field"] not in failed]
    fields = ", ".join(dict.fromkeys(d["field"] for d in details if d["field"]))
    message = f"invalid request: {fields}" if fields else "invalid request"
    return error_response(422, "validation_error", message, details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail
    if isinstance(detail, dict) and "code" in detail:
        code, message = str(detail["code"]), str(detail.get("message", detail["code"]))
    else:
        code = _STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = str(detail) if detail else code.replace("_", " ")
    if message == _phrase(exc.status_code):  # Starlette's default detail: "Not Found" -> "not found"
        message = message.lower()
    return error_response(exc.status_code, code, message, headers=exc.headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    """Every service's ``DomainError`` -> HTTP, here and nowhere else (servicekit.errors)."""
    assert isinstance(exc, DomainError)
    level = logging.WARNING if exc.status == 429 else logging.INFO  # throttling is worth a look
    log.log(level, "%s %s refused: %s %s: %s", request.method, request.url.path, exc.status, exc.code, exc.message)
    return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)


class _InternalErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise  # too late for a JSON body; the server logs it
            if _database_outage(exc):  # a restart or failover: the caller should retry, not report a bug
                log.warning("%s %s: database unavailable (%s)", scope.get("method"), scope.get("path"),
                            _root_cause(exc))
                response = error_response(DatabaseUnavailable.status, DatabaseUnavailable.code,
                                          DatabaseUnavailable.message,
                                          headers={"Retry-After": "1"})
            else:
                log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
                response = error_response(500, "internal_error", "internal server error")
            await response(scope, receive, send)


def _database_outage(exc: BaseException) -> bool:
    try:
        from servicekit.db import is_database_outage
    except ImportError:  # installed without the `db` extra: no database to be down
        return False
    return is_database_outage(exc)


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return f"{type(exc).__name__}: {exc}"


# --- auth -----------------------------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="Platform access token (JWT, EdDSA)")


_TOKEN_REFUSALS = [Unauthorized(TokenError(code).message, code=code) for code in sorted(TOKEN_ERROR_CODES)]
_KEYS_UNAVAILABLE = Unavailable("signing keys unavailable, try again", code="auth_unavailable")


@raises_from(*_TOKEN_REFUSALS, _KEYS_UNAVAILABLE)
async def _current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    verifier = request.app.state.jwt_verifier
    try:
        principal: Principal = await verifier.verify(credentials.credentials if credentials else None)
    except TokenError as exc:
        challenge = "Bearer" if exc.code == "token_missing" else f'Bearer error="invalid_token", error_description="{exc.message}"'
        raise Unauthorized(code=exc.code, message=exc.message, headers={"WWW-Authenticate": challenge}) from None
    except KeySetUnavailable:
        log.warning("token not verified: signing keys unavailable", exc_info=True)
        raise Unavailable(_KEYS_UNAVAILABLE.message, code=_KEYS_UNAVAILABLE.code) from None
    logcontext.add(user_id=principal.user_id)  # every later log line of this request names its caller
    return principal


_ADMINS_ONLY = "forbidden: admins only"


@raises_from(Forbidden(_ADMINS_ONLY))
async def _current_admin(principal: Annotated[Principal, Depends(_current_principal)]) -> Principal:
    if principal.user_type != "admin":
        raise Forbidden(_ADMINS_ONLY)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(_current_principal)]
CurrentAdmin = Annotated[Principal, Depends(_current_admin)]


# --- health ---------------------------------------------------------------------------------------------

HealthCheck = Callable[[], Awaitable[bool]]


class Health(BaseModel):
    status: Literal["ok", "fail"]
    service: str
    checks: dict[str, Literal["ok", "fail"]] = Field(description="Each check's result, by name")


async def run_checks(checks: Mapping[str, HealthCheck], *, timeout: float = 3.0,
                     log_level: int = logging.WARNING) -> dict[str, Literal["ok", "fail"]]:
    """Every check at once, each bounded by ``timeout``: ``{name: "ok" | "fail"}`` (what ``/health`` answers, and
    what servicekit.heartbeat publishes). A check that raises is logged at ``log_level`` with its traceback."""

    async def run(name: str, check: HealthCheck) -> Literal["ok", "fail"]:
        try:
            ok = await asyncio.wait_for(check(), timeout)
        except Exception:
            log.log(log_level, "health check %s failed", name, exc_info=True)
            return "fail"
        return "ok" if ok else "fail"

    names = list(checks)
    return dict(zip(names, await asyncio.gather(*(run(n, checks[n]) for n in names)), strict=True))


def health_router(service: str, checks: Mapping[str, HealthCheck], *, timeout: float = 3.0) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "A check failed"}})
    async def health() -> JSONResponse:
        results = await run_checks(checks, timeout=timeout)
        ok = all(r == "ok" for r in results.values())
        body = {"status": "ok" if ok else "fail", "service": service, "checks": results}
        return JSONResponse(body, status_code=200 if ok else 503)

    return router
