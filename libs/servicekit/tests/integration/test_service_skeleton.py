"""servicekit.service.build_service against a real PostgreSQL: one lifespan and one /health shape for every
service, and a place for middlewares that see every request."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from fastapi import APIRouter
from servicekit.errors import NotFound
from servicekit.outbox import outbox_table
from servicekit.service import ServiceSettings, Tables, build_service
from sqlalchemy import MetaData
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .test_migrations import write_scripts

pytestmark = pytest.mark.integration
MIGRATIONS = Path(__file__).parent / "not_needed"


class Seen:
    """A middleware that notes every HTTP path it sees (as a request-logging middleware would)."""

    paths: ClassVar[list[str]] = []

    def __init__(self, app: ASGIApp, *, tag: str) -> None:
        self.app, self.tag = app, tag

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            Seen.paths.append(f"{self.tag}:{scope['path']}")
        await self.app(scope, receive, send)


router = APIRouter()


@router.get("/things/{thing_id}")
async def thing(thing_id: int) -> dict[str, int]:
    if thing_id != 1:
        raise NotFound(f"thing {thing_id} not found")
    return {"thing_id": thing_id}


async def test_a_service_without_an_outbox_starts_with_no_broker_and_its_health_checks_only_the_database(
    make_database, tmp_path
):
    migrations = write_scripts(tmp_path / "alembic", "toy")
    settings = ServiceSettings(database_url=await make_database())
    Seen.paths = []
    app = build_service("toy-svc", settings, schema="toy", migrations=migrations, routers=[router],
                        middlewares=[Middleware(Seen, tag="outer"), Middleware(Seen, tag="inner")])
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://toy") as client:
            health = await client.get("/health")
            found = await client.get("/things/1")
            missing = await client.get("/things/2")
        assert not hasattr(app.state, "broker")
    assert (health.status_code, health.json()) == (
        200, {"status": "ok", "service": "toy-svc", "checks": {"database": "ok"}})
    assert found.json() == {"thing_id": 1}
    assert (missing.status_code, missing.json()) == (
        404, {"error": {"code": "not_found", "message": "thing 2 not found"}})
    assert Seen.paths == [f"{tag}:{path}" for path in ("/health", "/things/1", "/things/2")
                          for tag in ("outer", "inner")]


def test_a_service_with_an_outbox_must_have_broker_settings():
    with pytest.raises(TypeError, match="BrokerSettings"):
        build_service("toy-svc", ServiceSettings(), schema="toy", migrations=MIGRATIONS, routers=[],
                      tables=Tables(outbox=outbox_table(MetaData(), "toy")))
