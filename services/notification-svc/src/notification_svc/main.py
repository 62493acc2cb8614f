"""Builds the notification-svc ASGI app.

Start: `uvicorn --factory notification_svc.main:create_app --port 8002`. Nothing connects at import time;
connections (database, broker) will be opened in the app's lifespan when the service gets its features,
and each gets a check in the health router.
"""

from fastapi import FastAPI
from servicekit.http import health_router, install_error_handlers
from servicekit.logging import configure_logging

from notification_svc.settings import Settings

SERVICE = "notification-svc"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(SERVICE, settings.log_level)
    app = FastAPI(title=SERVICE)
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health_router(SERVICE, {}))
    return app
