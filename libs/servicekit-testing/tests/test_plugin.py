"""The servicekit_testing fixtures hand out real, isolated databases and vhosts."""

from urllib.parse import urlsplit

import aio_pika
import asyncpg
import httpx
import pytest

pytestmark = pytest.mark.integration


def _plain(url: str) -> str:
    """asyncpg wants postgresql://, the fixtures hand out SQLAlchemy's postgresql+asyncpg://."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_session_database_is_an_asyncpg_url_of_a_t_database(database_url: str) -> None:
    assert database_url.startswith("postgresql+asyncpg://")
    name = urlsplit(database_url).path.lstrip("/")
    assert name.startswith("t_")
    conn = await asyncpg.connect(_plain(database_url))
    try:
        assert await conn.fetchval("SELECT current_database()") == name
    finally:
        await conn.close()


async def test_make_database_hands_out_an_empty_database(make_database) -> None:
    # The session database is shared by every test of the session; a made one is this test's alone.
    conn = await asyncpg.connect(_plain(await make_database()))
    try:
        user_tables = (
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        assert await conn.fetchval(user_tables) == 0
    finally:
        await conn.close()


async def test_databases_from_make_database_are_distinct_and_isolated(make_database) -> None:
    first, second = await make_database(), await make_database()
    assert first != second
    a = await asyncpg.connect(_plain(first))
    b = await asyncpg.connect(_plain(second))
    try:
        await a.execute("CREATE TABLE only_here (id int)")
        await a.execute("INSERT INTO only_here VALUES (1)")
        assert await a.fetchval("SELECT count(*) FROM only_here") == 1
        assert await b.fetchval("SELECT to_regclass('only_here')") is None
    finally:
        await a.close()
        await b.close()


async def test_session_vhost_exists_and_accepts_a_connection(amqp_url: str, amqp_management_url: str) -> None:
    vhost = urlsplit(amqp_url).path.lstrip("/")
    assert vhost.startswith("t_")
    async with httpx.AsyncClient(base_url=amqp_management_url, timeout=10) as client:
        found = await client.get(f"/api/vhosts/{vhost}")
        assert found.status_code == 200
        from servicekit_testing.plugin import owner_tag

        assert found.json()["description"] == owner_tag()  # so a later session can tell it is not an orphan

    connection = await aio_pika.connect(amqp_url, timeout=10)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue("plugin-check", auto_delete=True)
        await channel.default_exchange.publish(aio_pika.Message(b"hello"), routing_key=queue.name)
        message = await queue.get(timeout=5)
        assert message.body == b"hello"
        await message.ack()


async def test_vhosts_from_make_vhost_do_not_share_queues(make_vhost, amqp_management_url: str) -> None:
    first, second = await make_vhost(), await make_vhost()
    assert first != second
    async with await aio_pika.connect(first, timeout=10) as connection:
        channel = await connection.channel()
        await channel.declare_queue("only-in-first", durable=True)
    async with httpx.AsyncClient(base_url=amqp_management_url, timeout=10) as client:
        second_vhost = urlsplit(second).path.lstrip("/")
        first_vhost = urlsplit(first).path.lstrip("/")
        assert (await client.get(f"/api/queues/{first_vhost}/only-in-first")).status_code == 200
        assert (await client.get(f"/api/queues/{second_vhost}/only-in-first")).status_code == 404


def _dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True)
    return int(child.stdout)


def _tag(pid: int) -> str:
    import socket

    return f"servicekit-testing host={socket.gethostname()} pid={pid}"


async def test_a_killed_sessions_databases_are_dropped_by_the_next_one_and_live_ones_kept(
    postgres_admin_url: str,
) -> None:
    import os
    import uuid

    from servicekit_testing.plugin import reap_orphan_databases

    orphan, alive = f"t_{uuid.uuid4().hex[:16]}", f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(postgres_admin_url)
    try:
        for name, pid in ((orphan, _dead_pid()), (alive, os.getppid())):
            await conn.execute(f'CREATE DATABASE "{name}"')
            await conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{_tag(pid)}'")
        reaped = await reap_orphan_databases(postgres_admin_url)
        remaining = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        assert orphan in reaped and orphan not in remaining
        assert alive not in reaped and alive in remaining
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{alive}"')
        await conn.execute(f'DROP DATABASE IF EXISTS "{orphan}"')
        await conn.close()


async def test_a_killed_sessions_vhosts_are_deleted_by_the_next_one_and_live_ones_kept(
    amqp_management_url: str,
) -> None:
    import os
    import uuid

    from servicekit_testing.plugin import reap_orphan_vhosts

    orphan, alive = f"t_{uuid.uuid4().hex[:16]}", f"t_{uuid.uuid4().hex[:16]}"
    async with httpx.AsyncClient(base_url=amqp_management_url, timeout=10) as client:
        try:
            for name, pid in ((orphan, _dead_pid()), (alive, os.getppid())):
                (await client.put(f"/api/vhosts/{name}", json={"description": _tag(pid)})).raise_for_status()
            reaped = await reap_orphan_vhosts(client)
            assert orphan in reaped and (await client.get(f"/api/vhosts/{orphan}")).status_code == 404
            assert alive not in reaped and (await client.get(f"/api/vhosts/{alive}")).status_code == 200
        finally:
            await client.delete(f"/api/vhosts/{alive}")
            await client.delete(f"/api/vhosts/{orphan}")


def test_only_this_hosts_dead_processes_count_as_orphans() -> None:
    import os

    from servicekit_testing.plugin import is_orphan, owner_tag

    assert is_orphan(_tag(_dead_pid()))
    assert not is_orphan(owner_tag())  # this very process
    assert not is_orphan(_tag(os.getppid()))
    assert not is_orphan(f"servicekit-testing host=another-machine pid={_dead_pid()}")
    assert not is_orphan(None) and not is_orphan("made by hand")


async def test_drop_unused_deletes_the_vhosts_no_connection_uses_and_keeps_the_used_and_the_young(
    amqp_url: str, amqp_management_url: str,
) -> None:
    import asyncio

    from servicekit_testing.plugin import VhostFactory

    base = amqp_url.rsplit("/", 1)[0] + "/"
    async with httpx.AsyncClient(base_url=amqp_management_url, timeout=10) as client:
        factory = VhostFactory(client, base, urlsplit(amqp_url).username or "guest")
        idle, used, young = [await factory() for _ in range(3)]
        name = {url: urlsplit(url).path.lstrip("/") for url in (idle, used, young)}
        connection = await aio_pika.connect(used)
        try:
            async with asyncio.timeout(30):  # the management API lists a new connection a few seconds late
                while name[used] not in {c["vhost"] for c in (
                        await client.get("/api/connections", params={"columns": "vhost"})).json()}:
                    await asyncio.sleep(0.5)
            for url in (idle, used):  # made a minute ago; `young` just now
                factory.created[name[url]] -= 60
            assert await factory.drop_unused(younger_than=30) == [name[idle]]
            assert (await client.get(f"/api/vhosts/{name[idle]}")).status_code == 404
            assert (await client.get(f"/api/vhosts/{name[used]}")).status_code == 200
            assert (await client.get(f"/api/vhosts/{name[young]}")).status_code == 200
        finally:
            await connection.close()
            await factory.drop_all()
