"""Start-up: dev seed, a second instance sharing the key, concurrent migrations, the admin CLI."""

import asyncio
import os
import sys
from pathlib import Path

import pytest
from auth_svc.seed import DEV_ACCOUNTS, DEV_PASSWORD, seed_dev
from sqlalchemy import text

from .conftest import make_app, make_settings, register, running

pytestmark = pytest.mark.integration


async def test_dev_seed_is_idempotent_and_accounts_log_in(app, client, caplog):
    await seed_dev(app.state.engine, app.state.passwords)
    assert await seed_dev(app.state.engine, app.state.passwords) == []
    assert "DEV SEED" in caplog.text
    async with app.state.engine.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT username, user_type FROM auth.accounts WHERE username ~ '^(admin|user)[0-9]$' ORDER BY id"
        ))).all()
    assert [tuple(r) for r in rows] == list(DEV_ACCOUNTS)
    response = await client.post("/api/v4/auth/login", json={"username": "admin2", "password": DEV_PASSWORD})
    assert response.json()["user"]["user_type"] == "admin"


async def test_dev_seed_runs_at_start_only_when_enabled(make_database, tmp_path):
    url = await make_database()
    async with running(make_app(make_settings(url, tmp_path / "k.pem"))) as client:
        off = await client.post("/api/v4/auth/login", json={"username": "user1", "password": DEV_PASSWORD})
    async with running(make_app(make_settings(url, tmp_path / "k.pem", dev_seed=True))) as client:
        on = await client.post("/api/v4/auth/login", json={"username": "user1", "password": DEV_PASSWORD})
    assert (off.status_code, on.status_code) == (401, 200)


async def test_second_instance_with_the_same_key_file_verifies_the_first_ones_token(settings, client, username):
    token = (await register(client, username))["access_token"]
    async with running(make_app(settings)) as second:
        response = await second.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["username"] == username


async def test_concurrent_startups_on_a_fresh_database_migrate_once(make_database, tmp_path):
    url = await make_database()
    apps = [make_app(make_settings(url, tmp_path / "shared.pem")) for _ in range(4)]

    async def start_and_register(i: int, app) -> int:
        async with running(app) as client:
            return (await register(client, f"racer{i}"))["user"]["user_id"]

    ids = await asyncio.gather(*(start_and_register(i, app) for i, app in enumerate(apps)))
    assert len(set(ids)) == 4
    kids = {app.state.signing_key.kid for app in apps}
    assert len(kids) == 1  # they also raced to generate the key file, and agreed
    async with running(make_app(make_settings(url, tmp_path / "shared.pem"))) as client, \
            client._transport.app.state.engine.connect() as conn:  # type: ignore[attr-defined]
        versions = (await conn.execute(text("SELECT version_num FROM auth.alembic_version"))).scalars().all()
    assert versions == ["0004"]


async def test_cli_creates_an_admin_from_stdin_and_refuses_a_taken_name(database_url, client, username, tmp_path):
    script = Path(sys.executable).parent / "auth-svc"
    env = {**os.environ, "AUTH_DATABASE_URL": database_url, "AUTH_SIGNING_KEY_FILE": str(tmp_path / "k.pem")}

    async def create_admin() -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            str(script), "create-admin", "--username", username, "--password-stdin",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
        )
        out, _ = await process.communicate(b"Adm1n-secret\n")
        return process.returncode, out.decode()

    code, out = await create_admin()
    assert code == 0, out
    response = await client.post("/api/v4/auth/login", json={"username": username, "password": "Adm1n-secret"})
    assert response.json()["user"]["user_type"] == "admin"
    code, out = await create_admin()
    assert code == 1 and "taken" in out
