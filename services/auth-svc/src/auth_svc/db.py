"""Schema `auth`: one account table, one id sequence for admins and users alike."""

from dataclasses import dataclass

from contracts.identity import Principal, UserType
from servicekit.ratelimit import rate_limit_table
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

SCHEMA = "auth"

metadata = MetaData(schema=SCHEMA)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("username", String(32), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("user_type", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("user_type IN ('admin', 'user')", name="accounts_user_type_check"),
)
Index("accounts_username_lower_key", func.lower(accounts.c.username), unique=True)


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    password_hash: str
    user_type: UserType

    def principal(self) -> Principal:
        return Principal(user_id=self.id, user_type=self.user_type, username=self.username)


_COLUMNS = (accounts.c.id, accounts.c.username, accounts.c.password_hash, accounts.c.user_type)


async def find_by_username(conn: AsyncConnection, username: str) -> Account | None:
    row = (
        await conn.execute(select(*_COLUMNS).where(func.lower(accounts.c.username) == username.lower()))
    ).one_or_none()
    return Account(*row) if row else None


async def find_by_id(conn: AsyncConnection, account_id: int) -> Account | None:
    row = (await conn.execute(select(*_COLUMNS).where(accounts.c.id == account_id))).one_or_none()
    return Account(*row) if row else None


async def insert_account(
    conn: AsyncConnection, username: str, password_hash: str, user_type: UserType
) -> Account | None:
    """The new account, or None when the username is taken (case-insensitively)."""
    statement = (
        insert(accounts)
        .values(username=username, password_hash=password_hash, user_type=user_type)
        .on_conflict_do_nothing(index_elements=[func.lower(accounts.c.username)])
        .returning(*_COLUMNS)
    )
    row = (await conn.execute(statement)).one_or_none()
    return Account(*row) if row else None


rate_limits = rate_limit_table(metadata, SCHEMA)
"""Request counts of servicekit.ratelimit (WeChat logins per client address)."""
