"""Builds the chat-svc ASGI app.

Start: `uvicorn --factory chat_svc.main:create_app --port 8003`. Nothing connects at import time;
connections (database, broker) will be opened in the app's lifespan when the service gets its features.
"""

from typing import Any

from fastapi import FastAPI

from chat_svc.settings import Settings

SERVICE_NAME = "chat-svc"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = FastAPI(title=SERVICE_NAME)
    app.state.settings = settings

    @app.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "service": SERVICE_NAME}

    return app
