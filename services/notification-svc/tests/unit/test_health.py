import httpx

from notification_svc.main import create_app
from notification_svc.settings import Settings


async def test_health_names_the_service() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "notification-svc", "checks": {}}


def test_settings_read_the_notification_prefix(monkeypatch) -> None:
    monkeypatch.setenv("NOTIFICATION_DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/x")
    monkeypatch.setenv("NOTIFICATION_LOG_LEVEL", "debug")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/x"
    assert settings.log_level == "DEBUG"
