"""Each service's OpenAPI document tells the truth about its refusals (servicekit.openapi): every error it
documents has the one error schema, and the refusals a route really answers are among its documented responses.
No server, no database: the apps are built and asked without their lifespan."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from auth_svc.main import create_app as auth_app
from chat_svc.main import create_app as chat_app
from notification_svc.main import create_app as notification_app
from servicekit_testing.tokens import TokenMint

ERROR_REF = "#/components/schemas/ErrorBody"
PUBLIC = {("post", "/api/v4/auth/login"), ("post", "/api/v4/auth/register"), ("post", "/api/v4/auth/refresh"),
          ("post", "/api/v4/auth/logout"), ("post", "/api/v4/auth/wechat/login"), ("get", "/.well-known/jwks.json"),
          ("get", "/health"),
          # a picture's bytes: an <img> sends no bearer header; the short-lived signature in the URL is the proof
          ("get", "/api/v4/customer-service/attachments/{attachment_id}/{variant}")}
MINT = TokenMint()


def _documents() -> dict[str, dict[str, Any]]:
    return {"auth-svc": auth_app().openapi(), "notification-svc": notification_app(jwt_verifier=MINT.verifier()).openapi(),
            "chat-svc": chat_app(jwt_verifier=MINT.verifier()).openapi()}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in document["paths"].items() for method, op in ops.items()]


@pytest.mark.parametrize("service", ["auth-svc", "notification-svc", "chat-svc"])
def test_every_documented_error_has_the_error_body_schema_and_public_routes_say_so(service: str) -> None:
    document = _documents()[service]
    assert "HTTPValidationError" not in str(document), "FastAPI's 422 schema is never what the service answers"
    assert set(document["components"]["schemas"]["ErrorBody"]["properties"]) == {"error"}
    for method, path, op in _operations(document):
        errors = {status: r for status, r in op["responses"].items() if int(status) >= 400}
        if path != "/health":  # /health's 503 is its own body (a failed check)
            for status, response in errors.items():
                assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (method, path, status)
        takes_input = bool(op.get("parameters") or op.get("requestBody"))
        assert ("422" in errors) == takes_input, (method, path)
        if (method, path) in PUBLIC:
            assert op["security"] == [], (method, path)
        else:
            assert op["security"] == [{"HTTPBearer": []}], (method, path)
            assert {"401", "503"} <= set(errors), (method, path)


def _url(path: str) -> str:
    return path.replace("{session_id}", "1").replace("{notification_id}", "1")


@pytest.mark.parametrize("service", ["notification-svc", "chat-svc"])
async def test_the_401_and_403_a_route_answers_are_in_its_documented_responses(service: str) -> None:
    app = {"notification-svc": notification_app, "chat-svc": chat_app}[service](jwt_verifier=MINT.verifier())
    document = app.openapi()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        for method, path, op in _operations(document):
            if op["security"] == []:
                continue
            anonymous = await client.request(method, _url(path), json={})
            assert anonymous.status_code == 401 and str(anonymous.status_code) in op["responses"], (method, path)
            assert set(anonymous.json()["error"]) >= {"code", "message"}
            if service == "notification-svc" and not path.startswith("/api/v4/notifications/wechat/"):
                # every route but the end users' WeChat subscriptions is for admins: an end user's token is refused
                as_user = await client.request(method, _url(path), json={}, headers=MINT.headers(5, "user"))
                assert as_user.status_code == 403 and "403" in op["responses"], (method, path)
