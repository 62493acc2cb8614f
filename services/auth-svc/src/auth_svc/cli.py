"""`auth-svc serve | create-admin --username NAME [--role agent|supervisor] [--password-stdin]
| set-role --username NAME --role agent|supervisor | seed-dev`."""

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar, get_args

from contracts.identity import AdminRole
from servicekit.db import create_engine
from servicekit.logging import configure_logging
from servicekit.migrations import upgrade_to_head
from sqlalchemy.ext.asyncio import AsyncEngine

from auth_svc import accounts, db
from auth_svc.db import SCHEMA
from auth_svc.domain import DomainError
from auth_svc.passwords import Passwords
from auth_svc.seed import seed_dev
from auth_svc.settings import Settings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="auth-svc", description="auth-svc: accounts and access tokens")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP server (AUTH_HOST, AUTH_PORT)")
    admin = commands.add_parser("create-admin", help="create an admin account (never possible by registration)")
    admin.add_argument("--username", required=True)
    admin.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    admin.add_argument("--role", choices=get_args(AdminRole), default="agent",
                       help="agent (default) or supervisor (also sets priorities, agents' capacity and availability)")
    role = commands.add_parser("set-role", help="change an admin's role (tokens already issued keep the old one)")
    role.add_argument("--username", required=True)
    role.add_argument("--role", choices=get_args(AdminRole), required=True)
    commands.add_parser("seed-dev", help="create the development accounts (idempotent)")
    args = parser.parse_args(argv)

    settings = Settings()
    if args.command == "serve":
        serve(settings)
    elif args.command == "create-admin":
        password = _read_password(args.password_stdin)
        sys.exit(asyncio.run(_create_admin(settings, args.username, password, args.role)))
    elif args.command == "set-role":
        sys.exit(asyncio.run(_set_role(settings, args.username, args.role)))
    elif args.command == "seed-dev":
        configure_logging("auth-svc", settings.log_level, settings.log_format)
        created = asyncio.run(_with_engine(settings, lambda engine: seed_dev(engine, Passwords())))
        print(f"created: {', '.join(created) or 'nothing (all dev accounts exist)'}")


def serve(settings: Settings) -> None:
    import uvicorn

    from auth_svc.main import create_app

    # proxy_headers=False: AUTH_FORWARDED_ALLOW_IPS (servicekit.forwarded) alone decides whose X-Forwarded-For counts
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_config=None, proxy_headers=False)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != password:
        sys.exit("passwords do not match")
    return password


async def _create_admin(settings: Settings, username: str, password: str, role: AdminRole = "agent") -> int:
    try:
        principal = await _with_engine(
            settings, lambda engine: accounts.create_account(engine, Passwords(), username, password, "admin",
                                                             role=role)
        )
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"created admin {principal.username} (id {principal.user_id}, {principal.role})")
    return 0


async def _set_role(settings: Settings, username: str, role: AdminRole) -> int:
    async def change(engine: AsyncEngine) -> db.Account | None:
        async with engine.begin() as conn:
            return await db.set_role(conn, username, role)

    account = await _with_engine(settings, change)
    if account is None:
        print(f"error: no admin named {username!r}", file=sys.stderr)
        return 1
    print(f"admin {account.username} (id {account.id}) is now {role}")
    return 0


T = TypeVar("T")


async def _with_engine(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from auth_svc.main import MIGRATIONS

    engine = create_engine(settings.database_url)
    try:
        await upgrade_to_head(engine, MIGRATIONS, SCHEMA)
        return await action(engine)
    finally:
        await engine.dispose()
