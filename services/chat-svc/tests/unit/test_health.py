import httpx
from chat_svc.main import create_app
from chat_svc.settings import Settings
from servicekit_testing.tokens import TokenMint

MINT = TokenMint()


def client() -> httpx.AsyncClient:
    app = create_app(Settings(), jwt_verifier=MINT.verifier())  # no lifespan: nothing is connected
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_health_reports_database_broker_and_relay_and_fails_when_they_are_not_there() -> None:
    async with client() as c:
        response = await c.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "fail", "service": "chat-svc",
                               "checks": {"database": "fail", "broker": "fail", "outbox_relay": "fail"}}


async def test_a_request_without_a_token_is_401() -> None:
    async with client() as c:
        response = await c.get("/api/v4/customer-service/my/sessions")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_missing"


async def test_an_image_message_must_be_an_http_url_and_the_422_names_content() -> None:
    async with client() as c:
        response = await c.post("/api/v4/customer-service/sessions", headers=MINT.headers(7, "user"),
                                json={"content": "not a url", "message_type": "image"})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["error"]["details"]] == ["content"]


async def test_openapi_lists_the_customer_service_routes() -> None:
    async with client() as c:
        paths = (await c.get("/openapi.json")).json()["paths"]
        docs = await c.get("/api/v4/customer-service/docs")
    assert "/api/v4/customer-service/sessions/{session_id}/transfer" in paths
    assert docs.status_code == 200


def test_settings_read_the_chat_prefix(monkeypatch) -> None:
    monkeypatch.setenv("CHAT_DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/x")
    monkeypatch.setenv("CHAT_LOG_LEVEL", "debug")
    monkeypatch.setenv("CHAT_ADMIN_CAPACITY", "2")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/x"
    assert settings.log_level == "DEBUG"
    assert settings.admin_capacity == 2
    assert Settings.model_fields["admin_capacity"].default == 5
