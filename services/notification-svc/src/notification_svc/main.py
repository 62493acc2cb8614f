"""Builds the notification-svc ASGI app.

Start: `uvicorn --factory notification_svc.main:create_app --port 8002`. Nothing connects at import time;
connections (database, broker) will be opened in the app's lifespan when the service gets its features.
"""

from typing import Any

from fastapi import FastAPI

from notification_svc.settings import Settings

SERVICE_NAME = "notification-svc"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title=SERVICE_NAME)
    app.state.settings = settings

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": SERVICE_NAME}

    return app
