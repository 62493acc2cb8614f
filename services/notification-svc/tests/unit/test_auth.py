"""Authorization answers before anything touches the database (no lifespan: no database, no broker)."""

import httpx
import pytest
from notification_svc.main import create_app
from notification_svc.settings import Settings
from servicekit_testing.tokens import TokenMint

ROUTES = [
    ("POST", "/api/v4/notifications/send"),
    ("GET", "/api/v4/notifications"),
    ("GET", "/api/v4/notifications/unread-count"),
    ("GET", "/api/v4/notifications/1"),
    ("POST", "/api/v4/notifications/1/read"),
    ("POST", "/api/v4/notifications/1/unread"),
    ("POST", "/api/v4/notifications/read-all"),
    ("POST", "/api/v4/system/alerts"),
    ("GET", "/api/v4/system/alerts"),
    ("POST", "/api/v4/system/maintenance"),
    ("GET", "/api/v4/system/maintenance"),
    ("POST", "/api/v4/system/status"),
    ("GET", "/api/v4/system/status"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_refuses_end_users_with_403_and_strangers_with_401(method: str, path: str) -> None:
    mint = TokenMint()
    app = create_app(Settings(), jwt_verifier=mint.verifier())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        as_user = await client.request(method, path, headers=mint.headers(5, "user"), json={})
        anonymous = await client.request(method, path, json={})
    assert as_user.status_code == 403 and as_user.json()["error"]["code"] == "forbidden"
    assert anonymous.status_code == 401


async def test_openapi_documents_who_receives_what() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        spec = (await client.get("/openapi.json")).json()
        docs = await client.get("/api/v4/notifications/docs")
    assert docs.status_code == 200
    send = spec["paths"]["/api/v4/notifications/send"]["post"]
    assert "only if that user is an admin" in send["description"]
    maintenance = spec["paths"]["/api/v4/system/maintenance"]["post"]["description"]
    assert "end user" in maintenance and "admins only" in maintenance
