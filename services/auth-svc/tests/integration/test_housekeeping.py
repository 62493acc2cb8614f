"""auth-svc deletes what no longer counts (auth_svc.housekeeping, run by servicekit.retention): failed-login
counters long past their window and lock, refresh tokens of families that have ended; live ones stay."""

import asyncio
import uuid

import pytest
from servicekit.db import create_engine
from sqlalchemy import text

from .conftest import make_app, make_settings, register, running

pytestmark = pytest.mark.integration


async def _rows(engine, sql: str) -> list:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql))).scalars())


async def test_old_login_counters_and_ended_refresh_families_are_deleted_while_live_ones_stay(make_database, tmp_path):
    database_url = await make_database()
    settings = make_settings(database_url, tmp_path / "key.pem", retention_interval_seconds=0.2)
    engine = create_engine(database_url)
    try:
        async with running(make_app(settings)) as client:
            name = f"u_{uuid.uuid4().hex[:12]}"
            await register(client, name)
            for _ in range(2):  # two logins: two refresh-token families
                answer = await client.post("/api/v4/auth/login", json={"username": name, "password": "Passw0rd!"})
                assert answer.status_code == 200, answer.text
            async with engine.begin() as conn:
                families = list((await conn.execute(text(
                    "SELECT DISTINCT family_id FROM auth.refresh_tokens ORDER BY family_id"))).scalars())
                assert len(families) >= 2
                ended, live = families[0], families[1:]
                await conn.execute(text("UPDATE auth.refresh_tokens SET family_expires_at = now() - interval '2 days',"
                                        " expires_at = now() - interval '2 days' WHERE family_id = :f"), {"f": ended})
                await conn.execute(text(
                    "INSERT INTO auth.login_failures (key, failures, window_started, locked_until) VALUES "
                    "('stale', 5, now() - interval '3 days', now() - interval '3 days'), "
                    "('counting', 2, now(), NULL), ('locked', 5, now() - interval '20 minutes', now() + interval '5 minutes')"))
            async with asyncio.timeout(10):  # the next passes (every 0.2 s) take the old rows
                while "stale" in await _rows(engine, "SELECT key FROM auth.login_failures") or ended in await _rows(
                        engine, "SELECT family_id FROM auth.refresh_tokens"):
                    await asyncio.sleep(0.1)
            kept = await _rows(engine, "SELECT key FROM auth.login_failures")
            assert "stale" not in kept and {"counting", "locked"} <= set(kept)
            assert sorted(set(await _rows(engine, "SELECT family_id FROM auth.refresh_tokens"))) == sorted(live)
    finally:
        await engine.dispose()
