"""Alembic environment of auth-svc: all the logic is servicekit's (version table inside schema `auth`)."""

from auth_svc.db import SCHEMA, metadata
from servicekit.migrations import run_env

run_env(metadata, SCHEMA, url_env="AUTH_DATABASE_URL")
