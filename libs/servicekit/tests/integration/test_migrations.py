"""upgrade_to_head on real PostgreSQL: version table in the service schema, safe under concurrent starts."""

import asyncio
import uuid
from pathlib import Path

import pytest
from servicekit.db import create_engine
from servicekit.migrations import upgrade_to_head
from sqlalchemy import text

pytestmark = pytest.mark.integration


def write_scripts(root: Path, schema: str, *, broken: bool = False) -> Path:
    """A minimal Alembic script directory whose env.py is servicekit's run_env, like every service's."""
    versions = root / "versions"
    versions.mkdir(parents=True)
    (root / "env.py").write_text(f"from servicekit.migrations import run_env\nrun_env(None, {schema!r})\n")
    (root / "script.py.mako").write_text("")
    body = ["op.execute('SELECT broken FROM nowhere')"] if broken else [
        f"op.execute('CREATE TABLE {schema}.things (id bigserial PRIMARY KEY)')",
        "op.execute('SELECT pg_sleep(0.2)')  # widen the race window",
    ]
    lines = ["from alembic import op", 'revision = "0001"', "down_revision = None", "branch_labels = None",
             "depends_on = None", "def upgrade():", *(f"    {b}" for b in body), "def downgrade():", "    pass"]
    (versions / "0001_things.py").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture
def schema() -> str:
    return f"s_{uuid.uuid4().hex[:10]}"


async def test_concurrent_upgrades_apply_each_migration_once(database_url, schema, tmp_path):
    scripts = write_scripts(tmp_path / "alembic", schema)
    engines = [create_engine(database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(upgrade_to_head(e, scripts, schema) for e in engines))
        await upgrade_to_head(engines[0], scripts, schema)  # and again: nothing to do
        async with engines[0].connect() as conn:
            versions = (await conn.execute(text(f"SELECT version_num FROM {schema}.alembic_version"))).scalars()
            assert list(versions) == ["0001"]
            tables = (await conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s ORDER BY 1"),
                {"s": schema},
            )).scalars()
            assert list(tables) == ["alembic_version", "things"]
            public = (await conn.execute(text("SELECT to_regclass('public.alembic_version')"))).scalar()
            assert public is None
    finally:
        for e in engines:
            await e.dispose()


async def test_a_failed_migration_releases_the_lock(database_url, schema, tmp_path):
    broken = write_scripts(tmp_path / "broken", schema, broken=True)
    fixed = write_scripts(tmp_path / "fixed", schema)
    engine = create_engine(database_url)
    try:
        with pytest.raises(Exception, match="nowhere"):
            await upgrade_to_head(engine, broken, schema)
        await asyncio.wait_for(upgrade_to_head(engine, fixed, schema), timeout=10)
    finally:
        await engine.dispose()


async def test_two_schemas_migrate_concurrently_in_one_process(database_url, tmp_path):
    schemas = [f"s_{uuid.uuid4().hex[:10]}" for _ in range(3)]
    engine = create_engine(database_url)
    try:
        await asyncio.gather(*(upgrade_to_head(engine, write_scripts(tmp_path / s, s), s) for s in schemas))
        async with engine.connect() as conn:
            for s in schemas:
                assert (await conn.execute(text(f"SELECT version_num FROM {s}.alembic_version"))).scalar() == "0001"
    finally:
        await engine.dispose()
