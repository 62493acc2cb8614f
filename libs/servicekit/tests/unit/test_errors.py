"""servicekit.errors: one DomainError hierarchy, mapped once to HTTP and once to the command error reply."""

import httpx
from fastapi import FastAPI
from servicekit.commands import refusal
from servicekit.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooMany, Unauthorized
from servicekit.http import install_error_handlers


class SessionClosed(Conflict):
    code = "session_closed"


class UsernameField(Invalid):
    field = "username"


def _app(error: DomainError) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/refuse")
    async def refuse() -> None:
        raise error

    return app


async def _answer(error: DomainError) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(_app(error)), base_url="http://t") as client:
        return await client.get("/refuse")


async def test_a_domain_error_becomes_the_error_body_with_its_status_class_and_code():
    cases = [
        (NotFound("session 7 not found"), 404, {"code": "not_found", "message": "session 7 not found"}),
        (Forbidden(), 403, {"code": "forbidden", "message": "forbidden"}),
        (SessionClosed("session 7 is closed"), 409, {"code": "session_closed", "message": "session 7 is closed"}),
        (Conflict("admin 3 is not online", code="admin_offline"), 409,
         {"code": "admin_offline", "message": "admin 3 is not online"}),
        (Unauthorized("bad password", code="invalid_credentials"), 401,
         {"code": "invalid_credentials", "message": "bad password"}),
        (UsernameField("too short"), 422, {"code": "validation_error", "message": "too short",
                                          "details": [{"field": "username", "in": "body", "message": "too short"}]}),
        (DomainError(), 400, {"code": "bad_request", "message": "bad request"}),
    ]
    for error, status, body in cases:
        response = await _answer(error)
        assert (response.status_code, response.json()) == (status, {"error": body}), error


async def test_too_many_answers_429_with_retry_after_in_whole_seconds():
    response = await _answer(TooMany("slow down", retry_after=7, code="too_many_attempts"))
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"error": {"code": "too_many_attempts", "message": "slow down"}}
    assert TooMany(retry_after=0).headers == {"Retry-After": "1"}


def test_a_domain_error_becomes_the_command_error_reply_with_the_ack_code_of_its_status_class():
    def reply(error: Exception) -> tuple[str, str] | None:
        failed = refusal(error)
        return None if failed is None else (failed.code, failed.message)

    assert reply(NotFound("notification 9 not found", code="notification_missing")) == (
        "not_found", "notification 9 not found")
    assert reply(Forbidden("not your session")) == ("forbidden", "not your session")
    assert reply(Invalid("content: too long")) == ("invalid_payload", "content: too long")
    assert reply(SessionClosed("session 7 is closed")) == ("session_closed", "session 7 is closed")
    assert reply(TooMany(retry_after=3)) == ("rate_limited", "too many requests")
    assert reply(RuntimeError("database down")) is None  # not a refusal: requeued as transient
