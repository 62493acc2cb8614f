"""Alembic environment of chat-svc: all the logic is servicekit's (version table inside schema `chat`)."""

from servicekit.migrations import run_env

from chat_svc.db import SCHEMA, metadata

run_env(metadata, SCHEMA, url_env="CHAT_DATABASE_URL")
