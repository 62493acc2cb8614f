"""Development accounts: admin1..admin3 and user1..user5, password `Passw0rd!`. Never on by default."""

import logging

from contracts.identity import UserType
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc import db
from auth_svc.passwords import Passwords

log = logging.getLogger(__name__)

DEV_PASSWORD = "Passw0rd!"
DEV_ACCOUNTS: tuple[tuple[str, UserType], ...] = (
    *((f"admin{i}", "admin") for i in range(1, 4)),
    *((f"user{i}", "user") for i in range(1, 6)),
)


async def seed_dev(engine: AsyncEngine, passwords: Passwords) -> list[str]:
    """Create the missing dev accounts; return the usernames created. Safe to run any number of times."""
    log.warning("DEV SEED: creating development accounts with a well-known password; never do this in production")
    created = []
    for username, user_type in DEV_ACCOUNTS:
        async with engine.connect() as conn:
            if await db.find_by_username(conn, username) is not None:
                continue
        password_hash = await passwords.hash(DEV_PASSWORD)
        async with engine.begin() as conn:
            if await db.insert_account(conn, username, password_hash, user_type) is not None:
                created.append(username)
    if created:
        log.warning("DEV SEED: created %s", ", ".join(created))
    return created
