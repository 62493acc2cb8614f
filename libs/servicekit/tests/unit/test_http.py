"""servicekit.http: one error shape for every failure, bearer auth dependencies, the health route."""

import logging
import socket
from typing import Annotated

import httpx
import pytest
from contracts.fields import OptionalId, OptionalLink
from contracts.identity import Principal
from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field
from servicekit.db import create_engine, is_database_outage
from servicekit.http import (
    CurrentAdmin,
    CurrentPrincipal,
    ServiceError,
    health_router,
    install_error_handlers,
)
from servicekit.jwt import KeySetUnavailable, TokenError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeVerifier:
    """Stands in for JwksVerifier: tokens are 'ok-admin', 'ok-user', or a TokenError code."""

    async def verify(self, token: str | None) -> Principal:
        if token is None:
            raise TokenError("token_missing")
        if token == "down":
            raise KeySetUnavailable("no keys")
        if token.startswith("ok-"):
            kind = token.removeprefix("ok-")
            return Principal(user_id=7, user_type=kind, username=f"{kind}7")
        raise TokenError(token)


class Item(BaseModel):
    name: str = Field(min_length=3)
    count: int


class Linked(BaseModel):
    link: OptionalLink = None
    target: OptionalId = None


class OutOfStock(ServiceError):
    status = 409
    code = "out_of_stock"
    message = "out of stock"


def build_app(checks=None) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    app.state.jwt_verifier = FakeVerifier()

    @app.post("/items")
    async def create(item: Item, limit: Annotated[int, Query(le=10)] = 1) -> dict:
        return {"ok": True}

    @app.post("/links")
    async def links(body: Linked) -> dict:
        return {}

    @app.get("/teapot")
    async def teapot() -> dict:
        raise HTTPException(418, "short and stout")

    @app.get("/stock")
    async def stock() -> dict:
        raise OutOfStock(details={"sku": "x"})

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("kaboom")

    @app.get("/db-down")
    async def db_down() -> dict:  # a real engine, pointed where no PostgreSQL listens
        engine = create_engine(f"postgresql://u:p@127.0.0.1:{_closed_port()}/db")
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await engine.dispose()
        return {}

    @app.get("/db-bug")
    async def db_bug() -> dict:  # a driver error that is not an outage stays a 500
        raise ProgrammingError("SELECT nope", {}, ValueError("syntax error at or near nope"))

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict:
        return principal.model_dump()

    @app.get("/admin")
    async def admin(principal: CurrentAdmin) -> dict:
        return principal.model_dump()

    app.include_router(health_router("test-svc", checks or {}))
    return app


@pytest.fixture
async def client():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(build_app()), base_url="http://t") as c:
        yield c


async def test_validation_errors_name_each_field(client):
    response = await client.post("/items?limit=99", json={"name": "x"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    fields = {(d["in"], d["field"]) for d in error["details"]}
    assert fields == {("body", "name"), ("body", "count"), ("query", "limit")}
    assert all(d["message"] for d in error["details"])
    assert "name" in error["message"]


async def test_an_optional_field_is_named_plainly_once_without_union_noise(client):
    response = await client.post("/links", json={"link": "   ", "target": "x"})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert sorted(d["field"] for d in details) == ["link", "target"]
    assert response.json()["error"]["message"] == "invalid request: link, target"


async def test_http_exception_keeps_status_and_gets_a_code(client):
    response = await client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"error": {"code": "http_418", "message": "short and stout"}}


async def test_unknown_route_is_a_json_404(client):
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "not found"}}


async def test_service_error_subclass(client):
    response = await client.get("/stock")
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "out_of_stock", "message": "out of stock", "details": {"sku": "x"}}}


async def test_a_database_that_cannot_be_reached_is_a_503_to_retry_not_a_500(client, caplog):
    with caplog.at_level(logging.WARNING):
        response = await client.get("/db-down")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json() == {"error": {"code": "database_unavailable",
                                         "message": "database unavailable, try again shortly"}}
    assert not [r for r in caplog.records if r.exc_info]  # an outage is a warning line, not a traceback
    assert any("database unavailable" in r.getMessage() and "Connect" in r.getMessage() for r in caplog.records)

    response = await client.get("/db-bug")
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal_error"


def test_database_outages_are_told_from_other_database_errors():
    import asyncpg

    assert is_database_outage(OperationalError("SELECT 1", {}, asyncpg.CannotConnectNowError("shutting down")))
    assert is_database_outage(DBAPIError("SELECT 1", {}, ConnectionResetError(), connection_invalidated=True))
    try:
        try:
            raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")
        except asyncpg.ConnectionDoesNotExistError as exc:
            raise RuntimeError("while handling it") from exc
    except RuntimeError as chained:
        assert is_database_outage(chained)  # found through the cause chain
    assert not is_database_outage(ProgrammingError("SELECT nope", {}, ValueError("syntax error")))
    assert not is_database_outage(IntegrityError("INSERT", {}, ValueError("duplicate key")))
    assert not is_database_outage(ConnectionResetError())  # an OSError off the database's path says nothing


async def test_unexpected_exception_is_a_500_logged_once(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal server error"}}
    records = [r for r in caplog.records if r.exc_info]
    assert len(records) == 1 and "kaboom" in str(records[0].exc_info[1])


async def test_current_principal_from_bearer(client):
    response = await client.get("/me", headers={"Authorization": "Bearer ok-user"})
    assert response.json() == {"user_id": 7, "user_type": "user", "username": "user7", "role": None,
                               "wx_openid": None}  # end users have no role


async def test_missing_token_is_401_with_challenge(client):
    response = await client.get("/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_missing"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("code", ["token_expired", "token_bad_signature", "token_bad_algorithm"])
async def test_refused_token_is_401_with_its_code(client, code):
    response = await client.get("/me", headers={"Authorization": f"Bearer {code}"})
    assert response.status_code == 401
    assert response.json()["error"] == {"code": code, "message": TokenError(code).message}
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


async def test_unreachable_keys_are_503(client):
    response = await client.get("/me", headers={"Authorization": "Bearer down"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "auth_unavailable"


async def test_admin_route_refuses_a_user_token(client):
    assert (await client.get("/admin", headers={"Authorization": "Bearer ok-admin"})).status_code == 200
    response = await client.get("/admin", headers={"Authorization": "Bearer ok-user"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_health_ok_and_failing():
    async def ok() -> bool:
        return True

    async def broken() -> bool:
        raise ConnectionError("db down")

    async def no() -> bool:
        return False

    app = build_app({"database": ok})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "test-svc", "checks": {"database": "ok"}}

    app = build_app({"database": ok, "broker": broken, "cache": no})
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        response = await c.get("/health")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "broker": "fail", "cache": "fail"}
