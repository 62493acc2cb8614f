"""Alembic environment of notification-svc: all the logic is servicekit's (version table inside schema
`notification`)."""

from notification_svc.db import SCHEMA, metadata
from servicekit.migrations import run_env

run_env(metadata, SCHEMA, url_env="NOTIFICATION_DATABASE_URL")
