"""Alembic environment of notification-svc: all the logic is servicekit's (version table inside schema
`notification`)."""

from servicekit.migrations import run_env

from notification_svc.db import SCHEMA, metadata

run_env(metadata, SCHEMA, url_env="NOTIFICATION_DATABASE_URL")
