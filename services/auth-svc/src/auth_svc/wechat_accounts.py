"""End users who log in with WeChat: each (mini program appid, openid) is bound to one account, found by its
`unionid` when WeChat gives one (the same person coming from another app of the same Open Platform account),
else made on first login.

Such an account has no password (its hash is a marker no password verifies against), so only WeChat logs it in;
its username is generated (`wx_` + 12 hex digits): people see a nickname the app keeps, not this.
"""

from __future__ import annotations

import secrets

from contracts.identity import Principal
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy import text as sql
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from auth_svc import db
from auth_svc.wechat import WeChatIdentity

NO_PASSWORD = "!wechat"
"""The password hash of a WeChat-only account: not an argon2 hash, so every password check fails."""

wechat_identities = Table(
    "wechat_identities",
    db.metadata,
    Column("appid", Text, nullable=False),
    Column("openid", Text, nullable=False),
    Column("unionid", Text, nullable=True),
    Column("account_id", BigInteger, ForeignKey("auth.accounts.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("appid", "openid"),
)
Index("wechat_identities_unionid_idx", wechat_identities.c.unionid)


async def find_or_create(engine: AsyncEngine, appid: str, identity: WeChatIdentity) -> tuple[Principal, bool]:
    """The account bound to this WeChat user, and whether it was made now. Concurrent first logins of one
    user (two taps) make one account: the transaction holds a lock on the openid."""
    async with engine.begin() as conn:
        await conn.execute(sql("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                           {"k": f"wechat:{appid}:{identity.openid}"})
        account_id = await _bound(conn, appid, identity)
        created = account_id is None
        if account_id is None:
            account_id = await _new_account(conn)
        await _bind(conn, appid, identity, account_id)
        account = await db.find_by_id(conn, account_id)
    assert account is not None  # just bound, in this transaction
    return account.principal(), created


async def _bound(conn: AsyncConnection, appid: str, identity: WeChatIdentity) -> int | None:
    t = wechat_identities.c
    found = (await conn.execute(
        select(t.account_id).where(t.appid == appid, t.openid == identity.openid)
    )).scalar_one_or_none()
    if found is None and identity.unionid is not None:
        found = (await conn.execute(
            select(t.account_id).where(t.unionid == identity.unionid).order_by(t.created_at).limit(1)
        )).scalar_one_or_none()
    return found


async def _new_account(conn: AsyncConnection) -> int:
    while True:  # 48 random bits: a clash is all but impossible, and harmless (try another name)
        account = await db.insert_account(conn, f"wx_{secrets.token_hex(6)}", NO_PASSWORD, "user")
        if account is not None:
            return account.id


async def _bind(conn: AsyncConnection, appid: str, identity: WeChatIdentity, account_id: int) -> None:
    statement = insert(wechat_identities).values(appid=appid, openid=identity.openid, unionid=identity.unionid,
                                                 account_id=account_id)
    if identity.unionid is not None:  # learnt later (the mini program was bound to an Open Platform account)
        await conn.execute(statement.on_conflict_do_update(
            index_elements=[wechat_identities.c.appid, wechat_identities.c.openid],
            set_={"unionid": statement.excluded.unionid},
        ))
    else:
        await conn.execute(statement.on_conflict_do_nothing())


async def openid_of(engine: AsyncEngine, appid: str, account_id: int) -> str | None:
    """The openid this account is bound to at the mini program `appid` (None: not a WeChat user there). Tokens
    carry it (claim `wx_openid`) so notification-svc can address WeChat subscribe messages to the user."""
    t = wechat_identities.c
    async with engine.connect() as conn:
        return (await conn.execute(
            select(t.openid).where(t.appid == appid, t.account_id == account_id).order_by(t.created_at).limit(1)
        )).scalar_one_or_none()
