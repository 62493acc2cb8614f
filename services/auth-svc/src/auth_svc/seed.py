"""Development accounts: admin1 (supervisor), admin2..admin3 (agents) and user1..user5, password `Passw0rd!`.
Never on by default."""

import logging

from contracts.identity import AdminRole, UserType
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc import db
from auth_svc.passwords import Passwords

log = logging.getLogger(__name__)

DEV_PASSWORD = "Passw0rd!"
DEV_ACCOUNTS: tuple[tuple[str, UserType], ...] = (
    *((f"admin{i}", "admin") for i in range(1, 4)),
    *((f"user{i}", "user") for i in range(1, 6)),
)
DEV_ROLES: dict[str, AdminRole] = {"admin1": "supervisor", "admin2": "agent", "admin3": "agent"}


async def seed_dev(engine: AsyncEngine, passwords: Passwords) -> list[str]:
    """Create the missing dev accounts; return the usernames created. Safe to run any number of times."""
    log.warning("DEV SEED: creating development accounts with a well-known password; never do this in production")
    created = []
    for username, user_type in DEV_ACCOUNTS:
        role = DEV_ROLES.get(username)
        async with engine.begin() as conn:
            existing = await db.find_by_username(conn, username)
            if existing is not None:
                if role is not None and existing.role != role:  # a dev database seeded before roles existed
                    await db.set_role(conn, username, role)
                continue
        password_hash = await passwords.hash(DEV_PASSWORD)
        async with engine.begin() as conn:
            if await db.insert_account(conn, username, password_hash, user_type, role) is not None:
                created.append(username)
    if created:
        log.warning("DEV SEED: created %s", ", ".join(created))
    return created
