"""Writes each FastAPI service's OpenAPI document, as its ``create_app`` builds it (no server, no database:
the lifespan does not run), to DIR/<service>.json. Used by scripts/openapi_lint.sh.

    python scripts/openapi_dump.py DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from auth_svc.main import create_app as auth_app
from chat_svc.main import create_app as chat_app
from notification_svc.main import create_app as notification_app

APPS = {"auth-svc": auth_app, "notification-svc": notification_app, "chat-svc": chat_app}


def main(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, create_app in APPS.items():
        (directory / f"{name}.json").write_text(json.dumps(create_app().openapi(), indent=2) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
