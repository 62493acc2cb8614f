"""Alembic at service start: every service's migrations run the same way, under one advisory lock.

`upgrade_to_head` is what a service's lifespan awaits. `run_env` is the entire body of each service's
`alembic/env.py`; it serves both `upgrade_to_head` (a connection arrives in `config.attributes`) and the plain
`alembic` CLI (the URL comes from an environment variable or `sqlalchemy.url` in the ini file).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import weakref
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from servicekit.db import create_engine

log = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"


def advisory_lock_key(schema: str) -> int:
    """A stable signed 64-bit key per schema, so services never wait on each other's migrations."""
    digest = hashlib.blake2b(f"migrations:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# Alembic keeps its `context`/`op` proxies in module globals, and run_sync interleaves greenlets on one
# thread: two migrations in one process (two services in one test, say) must not overlap.
_process_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _process_lock() -> asyncio.Lock:
    return _process_locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())


async def upgrade_to_head(engine: AsyncEngine, script_location: Path, schema: str) -> None:
    async with _process_lock(), engine.connect() as conn:
        await _locked_upgrade(conn, schema, lambda sync_conn: _alembic_upgrade(sync_conn, script_location, schema))
    log.info("schema %s migrated to head", schema)


async def _locked_upgrade(conn: AsyncConnection, schema: str, upgrade: Any) -> None:
    """Hold a session-level advisory lock around CREATE SCHEMA + upgrade; concurrent starters wait their turn."""
    key = advisory_lock_key(schema)
    await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
    await conn.commit()
    try:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(upgrade)
        await conn.commit()
    finally:
        await conn.rollback()  # an aborted transaction would refuse the unlock
        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        await conn.commit()


def _alembic_upgrade(connection: Connection, script_location: Path, schema: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    command.upgrade(config, "head")


def run_env(target_metadata: MetaData | None, schema: str, *, url_env: str | None = None) -> None:
    """The whole of a service's `alembic/env.py`: `run_env(metadata, "auth", url_env="AUTH_DATABASE_URL")`."""
    from alembic import context

    config = context.config
    options = _configure_options(target_metadata, schema)
    connection = config.attributes.get("connection")
    if connection is not None:
        _run_migrations(connection, options)
        return
    # From here on: the plain alembic CLI.
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)-5s [%(name)s] %(message)s")
    url = (url_env and os.environ.get(url_env)) or config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():  # `--sql`: only the dialect matters
        target: dict[str, Any] = {"url": url} if url else {"dialect_name": "postgresql"}
        context.configure(literal_binds=True, dialect_opts={"paramstyle": "named"}, **target, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    if not url:
        raise RuntimeError(f"no database URL: set {url_env or 'sqlalchemy.url'} for the alembic CLI")
    asyncio.run(_run_cli(url, schema, options))


async def _run_cli(url: str, schema: str, options: dict[str, Any]) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await _locked_upgrade(conn, schema, lambda sync_conn: _run_migrations(sync_conn, options))
    finally:
        await engine.dispose()


def _run_migrations(connection: Connection, options: dict[str, Any]) -> None:
    from alembic import context

    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


def _configure_options(target_metadata: MetaData | None, schema: str) -> dict[str, Any]:
    def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
        return name == schema if type_ == "schema" else True  # autogenerate looks at our schema only

    return {
        "target_metadata": target_metadata,
        "version_table": VERSION_TABLE,
        "version_table_schema": schema,
        "include_schemas": True,
        "include_name": include_name,
        "compare_type": True,
    }
