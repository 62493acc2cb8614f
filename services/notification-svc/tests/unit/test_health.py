import httpx
from notification_svc.main import create_app
from notification_svc.settings import Settings


async def test_health_names_the_service_and_fails_its_checks_before_the_lifespan_ran() -> None:
    app = create_app(Settings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/health")
    assert response.status_code == 503
    assert response.json() == {
        "status": "fail", "service": "notification-svc",
        "checks": {"database": "fail", "broker": "fail", "outbox_relay": "fail"},
    }


def test_settings_read_the_notification_prefix(monkeypatch) -> None:
    monkeypatch.setenv("NOTIFICATION_DATABASE_URL", "postgresql+asyncpg://u:p@db:5432/x")
    monkeypatch.setenv("NOTIFICATION_LOG_LEVEL", "debug")
    monkeypatch.setenv("NOTIFICATION_JWKS_URL", "http://auth:8001/.well-known/jwks.json")
    monkeypatch.setenv("NOTIFICATION_RELAY_MAX_BACKOFF", "0.5")
    settings = Settings()
    assert settings.database_url == "postgresql+asyncpg://u:p@db:5432/x"
    assert settings.log_level == "DEBUG"
    assert settings.jwks_url == "http://auth:8001/.well-known/jwks.json"
    assert settings.relay_max_backoff == 0.5
