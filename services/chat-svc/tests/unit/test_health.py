import httpx

from chat_svc.main import create_app
from chat_svc.settings import Settings


async def test_health_names_the_service() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "chat-svc", "checks": {}}


def test_settings_read_the_chat_prefix(monkeypatch) -> None:
    monkeypatch.setenv("CHAT_DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/x")
    monkeypatch.setenv("CHAT_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/x"
    assert settings.log_level == "DEBUG"
