"""Refresh tokens: opaque, rotating, stored hashed (`auth.refresh_tokens`).

A login starts a family; each `rotate` marks the token used and hands out the next one of the same family.
A used token presented again means two parties hold it (a thief and the owner): the whole family is revoked,
so both must log in again. `revoke_family` is logout. Only SHA-256 hashes are stored: a database dump hands
out no usable token (the tokens are 256-bit random, so an unsalted fast hash is enough).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from servicekit.errors import Unauthorized
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth_svc.db import Account, accounts, find_by_id, metadata

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("family_id", Text, nullable=False),
    Column("account_id", BigInteger, ForeignKey(accounts.c.id, ondelete="CASCADE"), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("family_expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)
Index("refresh_tokens_family_idx", refresh_tokens.c.family_id)


class RefreshRefused(Unauthorized):
    """401: the refresh token cannot be used (unknown, expired, revoked, or reused)."""

    code = "refresh_token_invalid"
    message = "refresh token is not valid; log in again"


class RefreshReused(RefreshRefused):
    code = "refresh_token_reused"
    message = "refresh token was already used; this login has been ended everywhere, log in again"


@dataclass(frozen=True)
class Lifetimes:
    token_seconds: int = 7 * 24 * 3600
    family_seconds: int = 30 * 24 * 3600


@dataclass(frozen=True)
class IssuedRefresh:
    token: str
    expires_in: int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_family(engine: AsyncEngine, lifetimes: Lifetimes, account_id: int) -> IssuedRefresh:
    """The first refresh token of a new login."""
    token = secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        now = (await conn.execute(select(func.now()))).scalar_one()
        # what this account's ended logins left behind goes now (the table grows with logins, not forever)
        await conn.execute(delete(refresh_tokens).where(
            refresh_tokens.c.account_id == account_id, refresh_tokens.c.family_expires_at < now
        ))
        family_ends = now + timedelta(seconds=lifetimes.family_seconds)
        expires = min(now + timedelta(seconds=lifetimes.token_seconds), family_ends)
        await conn.execute(refresh_tokens.insert().values(
            token_hash=_hash(token), family_id=uuid.uuid4().hex, account_id=account_id, issued_at=now,
            expires_at=expires, family_expires_at=family_ends,
        ))
    return IssuedRefresh(token, _seconds(expires, now))


async def rotate(engine: AsyncEngine, lifetimes: Lifetimes, token: str) -> tuple[Account, IssuedRefresh]:
    """Use `token` once: its account and the family's next token. Raises `RefreshReused` (after revoking the
    family) for a token used before, `RefreshRefused` for an unknown, expired or revoked one."""
    reused = False
    async with engine.begin() as conn:
        row = (await conn.execute(
            select(refresh_tokens, func.now().label("now"))
            .where(refresh_tokens.c.token_hash == _hash(token)).with_for_update()
        )).one_or_none()
        if row is None or row.revoked_at is not None or row.expires_at <= row.now:
            raise RefreshRefused()
        if row.used_at is not None:
            await _revoke(conn, row.family_id)
            reused = True
        else:
            found = await find_by_id(conn, row.account_id)
            if found is None:
                raise RefreshRefused()
            account = found
            await conn.execute(
                update(refresh_tokens).where(refresh_tokens.c.token_hash == row.token_hash).values(used_at=row.now)
            )
            following = secrets.token_urlsafe(32)
            expires = min(row.now + timedelta(seconds=lifetimes.token_seconds), row.family_expires_at)
            await conn.execute(refresh_tokens.insert().values(
                token_hash=_hash(following), family_id=row.family_id, account_id=row.account_id, issued_at=row.now,
                expires_at=expires, family_expires_at=row.family_expires_at,
            ))
    if reused:  # raised after the commit: the revocation must stick
        raise RefreshReused()
    return account, IssuedRefresh(following, _seconds(expires, row.now))


async def revoke_family(engine: AsyncEngine, token: str) -> bool:
    """Logout: end every token of `token`'s family. False when the token is unknown."""
    async with engine.begin() as conn:
        family = (await conn.execute(
            select(refresh_tokens.c.family_id).where(refresh_tokens.c.token_hash == _hash(token))
        )).scalar_one_or_none()
        if family is None:
            return False
        await _revoke(conn, family)
    return True


async def _revoke(conn: AsyncConnection, family_id: str) -> None:
    await conn.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


def _seconds(until: datetime, now: datetime) -> int:
    return max(0, int((until - now).total_seconds()))
