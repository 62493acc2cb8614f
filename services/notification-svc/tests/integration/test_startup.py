"""Start-up: the schema Alembic builds is the one db.py describes, and /health reports every link."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from notification_svc.db import SCHEMA, metadata
from sqlalchemy import text


async def test_migrations_build_exactly_the_tables_of_db_py_inside_schema_notification(service):
    def include_name(name, type_, parents):
        return name == SCHEMA if type_ == "schema" else name != "alembic_version"

    def diff(sync_conn):
        context = MigrationContext.configure(
            sync_conn, opts={"include_schemas": True, "include_name": include_name, "compare_type": True}
        )
        return compare_metadata(context, metadata)

    async with service.app.state.engine.connect() as conn:
        differences = await conn.run_sync(diff)
        version = (await conn.execute(text("SELECT version_num FROM notification.alembic_version"))).scalar_one()
    assert differences == []
    assert version == "0001"


async def test_health_checks_the_database_the_broker_link_and_the_relay(service):
    response = await service.client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "service": "notification-svc",
        "checks": {"database": "ok", "broker": "ok", "relay": "ok"},
    }
