"""Login throttling: failed attempts are counted per username and per client address in `auth.login_failures`
(so every auth-svc process agrees, and a restart forgets nothing).

- Within `login_window_seconds`, the `login_max_failures`-th failure for a username (or the
  `login_max_failures_per_address`-th for an address) locks that key for `login_lockout_seconds`, doubling with
  every further failure (capped at `login_lockout_max_seconds`).
- A locked key is refused BEFORE the password is checked: 429 `too_many_attempts` with `Retry-After`, so a
  locked account cannot be probed and costs no password hashing.
- A successful login resets its username's counter (not the address's: one good account must not unlock
  guessing at others). Other usernames and addresses are unaffected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, Table, Text, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc.db import metadata
from auth_svc.domain import DomainError

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = "too many failed login attempts; try again later"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed login attempts; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    max_failures_per_address: int = 50
    window_seconds: int = 900
    lockout_seconds: int = 30
    lockout_max_seconds: int = 900


def _keys(username: str, address: str | None) -> list[tuple[str, str]]:
    keys = [("username", f"u:{username.lower()}")]
    if address:
        keys.append(("address", f"a:{address}"))
    return keys


async def check(engine: AsyncEngine, username: str, address: str | None) -> None:
    """Raise `TooManyAttempts` when the username or the address is locked now."""
    keys = [key for _, key in _keys(username, address)]
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(login_failures.c.locked_until, func.now()).where(login_failures.c.key.in_(keys))
        )).all()
    waits = [(locked - now).total_seconds() for locked, now in rows if locked is not None and locked > now]
    if waits:
        raise TooManyAttempts(max(1, math.ceil(max(waits))))


async def failed(engine: AsyncEngine, limits: Limits, username: str, address: str | None) -> None:
    """Count a failure for the username and the address; lock a key that reached its limit."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for kind, key in _keys(username, address):
            allowed = limits.max_failures if kind == "username" else limits.max_failures_per_address
            row = (await conn.execute(
                select(login_failures.c.failures, login_failures.c.window_started)
                .where(login_failures.c.key == key).with_for_update()
            )).one_or_none()
            if row is None or row.window_started <= now - timedelta(seconds=limits.window_seconds):
                failures, started = 1, now  # a window that ended starts over
            else:
                failures, started = row.failures + 1, row.window_started
            locked_until = None
            if failures >= allowed:
                seconds = min(limits.lockout_seconds * 2 ** min(failures - allowed, 20), limits.lockout_max_seconds)
                locked_until = now + timedelta(seconds=seconds)
            values = {"failures": failures, "window_started": started, "locked_until": locked_until}
            await conn.execute(
                insert(login_failures).values(key=key, **values)
                .on_conflict_do_update(index_elements=[login_failures.c.key], set_=values)
            )


async def succeeded(engine: AsyncEngine, username: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(delete(login_failures).where(login_failures.c.key == f"u:{username.lower()}"))
