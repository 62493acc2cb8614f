"""Login throttling: failed attempts are counted in `auth.login_failures` (so every auth-svc process agrees, and
a restart forgets nothing), under three keys per attempt:

- the pair (username, client address): the `login_max_failures`-th failure within `login_window_seconds` locks
  that pair for `login_lockout_seconds`, doubling with every further failure (capped at
  `login_lockout_max_seconds`). This is the lock a guesser meets, and it holds only where they guess from: the
  owner of the account, at another address, logs in as usual.
- the client address (many usernames guessed from one place): `login_max_failures_per_address`, same backoff.
- the username from everywhere (an attacker rotating addresses): from the `login_max_failures_per_username`-th
  failure within the window on, every failure locks the username for a delay that starts at
  `login_username_delay_seconds` and doubles up to `login_username_delay_max_seconds`. It is kept short on
  purpose: it slows a distributed guesser to about one guess per delay. And it does not apply at an address
  the account logged in from within `login_known_address_days` (key `k:<username>|<address>`, written at each
  successful login): there the owner logs in as usual however many addresses the guesser rotates through.

A locked key is refused BEFORE the password is checked: 429 `too_many_attempts` with `Retry-After`, so a locked
account cannot be probed and costs no password hashing. A successful login resets its pair only (not the
address: one good account must not unlock guessing at others; not the username: the owner's login must not
hand a distributed guesser a fresh allowance), and marks the address as known for that username.

The same table counts registrations per address (`registration_allowed`, key `r:<address>`): each costs a
password hash, so an address gets `register_max_per_address` per `register_window_seconds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from servicekit.errors import TooMany
from sqlalchemy import Column, DateTime, Integer, Table, Text, case, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc.db import metadata

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)


class TooManyAttempts(TooMany):
    """429 with Retry-After (servicekit.errors.TooMany)."""

    code = "too_many_attempts"
    message = "too many failed login attempts; try again later"

    def __init__(self, retry_after: int, what: str = "failed login attempts") -> None:
        super().__init__(f"too many {what}; try again in {retry_after} s", retry_after=retry_after)


@dataclass(frozen=True)
class Limits:
    max_failures: int = 5
    """per (username, address)"""
    max_failures_per_address: int = 50
    window_seconds: int = 900
    lockout_seconds: int = 30
    lockout_max_seconds: int = 900
    max_failures_per_username: int = 20
    """per username, from every address together"""
    username_delay_seconds: int = 1
    username_delay_max_seconds: int = 60
    known_address_days: int = 30


@dataclass(frozen=True)
class _Key:
    key: str
    allowed: int
    first_lock: int
    max_lock: int


def _pair(username: str, address: str | None) -> str:
    return f"p:{username.lower()}|{address or '-'}"


def _known(username: str, address: str | None) -> str:
    return f"k:{username.lower()}|{address or '-'}"


def _keys(limits: Limits, username: str, address: str | None) -> list[_Key]:
    keys = [
        _Key(_pair(username, address), limits.max_failures, limits.lockout_seconds, limits.lockout_max_seconds),
        _Key(f"u:{username.lower()}", limits.max_failures_per_username, limits.username_delay_seconds,
             limits.username_delay_max_seconds),
    ]
    if address:
        keys.append(_Key(f"a:{address}", limits.max_failures_per_address, limits.lockout_seconds,
                         limits.lockout_max_seconds))
    return keys


async def check(engine: AsyncEngine, limits: Limits, username: str, address: str | None) -> None:
    """Raise `TooManyAttempts` when the pair, the username (unless `address` is a known one) or the address is
    locked now."""
    keys = [k.key for k in _keys(limits, username, address)]
    known = _known(username, address)
    async with engine.connect() as conn:
        rows = (await conn.execute(
            select(login_failures.c.key, login_failures.c.locked_until, login_failures.c.window_started, func.now())
            .where(login_failures.c.key.in_([*keys, known]))
        )).all()
    known_here = any(
        key == known and started > now - timedelta(days=limits.known_address_days) for key, _, started, now in rows
    )
    waits = [
        (locked - now).total_seconds() for key, locked, _, now in rows
        if locked is not None and locked > now and not (known_here and key.startswith("u:"))
    ]
    if waits:
        raise TooManyAttempts(max(1, math.ceil(max(waits))))


async def failed(engine: AsyncEngine, limits: Limits, username: str, address: str | None) -> None:
    """Count a failure under each key; lock a key that reached its limit, for twice as long as last time."""
    now = datetime.now(UTC)
    async with engine.begin() as conn:
        for k in _keys(limits, username, address):
            row = (await conn.execute(
                select(login_failures.c.failures, login_failures.c.window_started)
                .where(login_failures.c.key == k.key).with_for_update()
            )).one_or_none()
            if row is None or row.window_started <= now - timedelta(seconds=limits.window_seconds):
                failures, started = 1, now  # a window that ended starts over
            else:
                failures, started = row.failures + 1, row.window_started
            locked_until = None
            if failures >= k.allowed:
                seconds = min(k.first_lock * 2 ** min(failures - k.allowed, 20), k.max_lock)
                locked_until = now + timedelta(seconds=seconds)
            values = {"failures": failures, "window_started": started, "locked_until": locked_until}
            await conn.execute(
                insert(login_failures).values(key=k.key, **values)
                .on_conflict_do_update(index_elements=[login_failures.c.key], set_=values)
            )


async def succeeded(engine: AsyncEngine, username: str, address: str | None) -> None:
    """Reset the pair; remember the address as one this username logs in from."""
    async with engine.begin() as conn:
        await conn.execute(delete(login_failures).where(login_failures.c.key == _pair(username, address)))
        if address:
            values = {"failures": 0, "window_started": func.now(), "locked_until": None}
            await conn.execute(
                insert(login_failures).values(key=_known(username, address), **values)
                .on_conflict_do_update(index_elements=[login_failures.c.key], set_=values)
            )


async def registration_allowed(engine: AsyncEngine, address: str | None, allowed: int, window_seconds: int) -> None:
    """Count one registration from `address`; raise `TooManyAttempts` past `allowed` within the window (the
    refused ones count too, so hammering does not shorten the wait). One statement: concurrent requests
    cannot both take the last place."""
    if not address:
        return
    expired = login_failures.c.window_started <= func.now() - timedelta(seconds=window_seconds)
    statement = (
        insert(login_failures)
        .values(key=f"r:{address}", failures=1, window_started=func.now(), locked_until=None)
        .on_conflict_do_update(
            index_elements=[login_failures.c.key],
            set_={
                "failures": case((expired, 1), else_=login_failures.c.failures + 1),
                "window_started": case((expired, func.now()), else_=login_failures.c.window_started),
            },
        )
        .returning(login_failures.c.failures, login_failures.c.window_started, func.now())
    )
    async with engine.begin() as conn:
        count, started, now = (await conn.execute(statement)).one()
    if count > allowed:
        wait = (started + timedelta(seconds=window_seconds) - now).total_seconds()
        raise TooManyAttempts(max(1, math.ceil(wait)), "registrations from this address")
