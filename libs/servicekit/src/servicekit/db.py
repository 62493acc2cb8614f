"""The async SQLAlchemy engine every service uses (asyncpg driver)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def asyncpg_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` from the environment and name the asyncpg driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


IDLE_IN_TRANSACTION_MS = 15_000


def create_engine(url: str, *, pool_size: int = 10, max_overflow: int = 10, echo: bool = False) -> AsyncEngine:
    return create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,  # survive PostgreSQL restarts without a failed request
        pool_recycle=1800,
        pool_timeout=10,
        echo=echo,
        # A transaction stranded by a bug or a cancelled task must not hold its locks (and wedge every request
        # waiting on them) forever: PostgreSQL ends it after this long without a statement.
        connect_args={"server_settings": {"idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS)}},
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
