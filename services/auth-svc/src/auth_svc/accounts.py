"""What auth-svc does with accounts: log in, register, create. Plain functions, dependencies as parameters."""

import asyncio
from contextlib import nullcontext

from contracts.identity import AdminRole, Principal, UserType
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc import db, throttle
from auth_svc.domain import InvalidCredentials, UsernameTaken, validate_password, validate_username
from auth_svc.passwords import Passwords


async def login(
    engine: AsyncEngine, passwords: Passwords, username: str, password: str, *,
    limits: throttle.Limits | None = None, address: str | None = None,
) -> Principal:
    """The account's principal; `InvalidCredentials`, or `throttle.TooManyAttempts` while the (username,
    address) pair, the username or the address is locked out (checked before the password)."""
    limits = limits or throttle.Limits()
    await throttle.check(engine, limits, username, address)
    async with engine.connect() as conn:
        account = await db.find_by_username(conn, username)
    ok = await passwords.verify(account.password_hash if account else None, password)
    if account is None or not ok:
        await throttle.failed(engine, limits, username, address)
        raise InvalidCredentials()
    await throttle.succeeded(engine, username, address)
    return account.principal()


async def create_account(
    engine: AsyncEngine, passwords: Passwords, username: str, password: str, user_type: UserType, *,
    hash_slots: asyncio.Semaphore | None = None, role: AdminRole | None = None,
) -> Principal:
    """`hash_slots` bounds how many hashes run at once (registration: logins must keep cores to verify).
    An admin gets `role` (default `agent`); an end user none."""
    validate_username(username)
    validate_password(password, username)
    async with hash_slots or nullcontext():
        password_hash = await passwords.hash(password)
    async with engine.begin() as conn:
        account = await db.insert_account(conn, username, password_hash, user_type, role)
    if account is None:
        raise UsernameTaken()
    return account.principal()


async def register(
    engine: AsyncEngine, passwords: Passwords, username: str, password: str, *,
    address: str | None = None, max_per_address: int = 20, window_seconds: int = 3600,
    hash_slots: asyncio.Semaphore | None = None,
) -> Principal:
    """Open registration makes end users only; admins come from `auth-svc create-admin`. The rules are checked
    first (free), then the address's allowance (`throttle.registration_allowed`), then the password is hashed."""
    validate_username(username)
    validate_password(password, username)
    await throttle.registration_allowed(engine, address, max_per_address, window_seconds)
    return await create_account(engine, passwords, username, password, "user", hash_slots=hash_slots)
