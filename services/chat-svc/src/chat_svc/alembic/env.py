"""Alembic environment of chat-svc: all the logic is servicekit's (version table inside schema `chat`)."""

from chat_svc.db import SCHEMA, metadata
from servicekit.migrations import run_env

run_env(metadata, SCHEMA, url_env="CHAT_DATABASE_URL")
