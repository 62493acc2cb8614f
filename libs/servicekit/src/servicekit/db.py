"""The async SQLAlchemy engine every service uses (asyncpg driver)."""

from __future__ import annotations

from typing import Any, TypeAlias

from sqlalchemy import Row, event
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any columns, as SQLAlchemy types it: only for the small functions that turn a row into a typed
record (a dataclass or a contract model) right where the query is."""


def asyncpg_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` from the environment and name the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


IDLE_IN_TRANSACTION_MS = 15_000


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False) -> AsyncEngine:
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pool_pre_ping: for asyncpg it is three round trips (BEGIN, ";", ROLLBACK) before every transaction,
        # on the path of every request. `_refuse_closed_connections` keeps what it was for (a PostgreSQL restart
        # costs no failed request) for free: see there.
        pool_recycle=1800,
        pool_timeout=10,
        echo=echo,
        # A transaction stranded by a bug or a cancelled task must not hold its locks (and wedge every request
        # waiting on them) forever: PostgreSQL ends it after this long without a statement.
        connect_args={"server_settings": {"idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS)}},
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed_connections)
    return engine


def _refuse_closed_connections(dbapi_connection: Any, connection_record: Any, connection_proxy: Any) -> None:
    """Pool checkout: hand out no connection PostgreSQL has closed (a restart or pg_terminate_backend closes the
    backends' sockets; asyncpg, whose idle pooled connections stay on the event loop, marks them closed as soon as
    the loop reads that). DisconnectionError makes the pool drop it and take or open another, before the request
    uses it: no round trip. A socket that dies without the loop noticing (a silent network loss) still fails its
    first statement, after which SQLAlchemy invalidates the pool; pool_recycle bounds how old a connection gets."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("PostgreSQL closed this pooled connection")


def is_database_outage(exc: BaseException) -> bool:
    """True when ``exc``, or an exception in its cause chain, says PostgreSQL is unreachable, restarting or dropped
    the connection (or the pool had none to give): the same request may well succeed in a moment. An HTTP
    service answers 503 for these, not 500 (servicekit.http)."""
    import asyncpg

    gone = (asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
            asyncpg.ConnectionDoesNotExistError, DisconnectionError, PoolTimeout)
    chain: list[BaseException] = []
    pending: list[BaseException | None] = [exc]
    while pending and len(chain) < 20:
        current = pending.pop()
        if current is None or current in chain:
            continue
        chain.append(current)
        pending += [current.__cause__ or current.__context__, getattr(current, "orig", None)]
    return any(
        isinstance(e, gone)
        or (isinstance(e, DBAPIError) and e.connection_invalidated)
        # refused, reset, timed out: the pool lets these through unwrapped; only those raised on its path count
        or (isinstance(e, OSError) and _raised_inside(e, ("asyncpg", "sqlalchemy")))
        for e in chain
    )


def _raised_inside(exc: BaseException, packages: tuple[str, ...]) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(packages):
            return True
        tb = tb.tb_next
    return False
