"""Cell 8: the latency of `GET /api/v4/notifications/unread-count` with 100,000 notifications in view of the caller,
the code before the unread counters (an anti-join over the admin's notifications) against the code after (counters
kept with each change), on the same data in the same run.

One database: the "before" notification-svc (`--unread-before-src`, e.g. /work/main/services/notification-svc/src,
put first on PYTHONPATH) creates its schema; the rows are loaded with SQL (half broadcasts, half targeted to the
caller, a quarter of them read by the caller, plus rows of other admins); it is measured and stopped; then this
checkout's notification-svc starts on the same database, its migration backfills the counters (timed), and it is
measured the same way. Each measurement: `WARM_UP` requests, then `REQUESTS` sequential requests on one keep-alive
connection, p50/p99 of the wall time per request. The machine's load average is recorded beside the numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from service_host import ServiceHost, pct

NOTIFICATIONS = 100_000
REQUESTS = 400
WARM_UP = 30
CALLER = 1
"""The bench's API token is admin 1 (benchkeys.write_mint)."""

LOAD = f"""
INSERT INTO notification.notifications (type, title, content, target_user_id, created_by)
SELECT (ARRAY['system','user','order','alert'])[1 + i % 4], 'bench ' || i, 'c',
       CASE WHEN i % 2 = 0 THEN NULL WHEN i % 10 = 1 THEN 2 + i % 50 ELSE {CALLER} END, 2
FROM generate_series(1, {NOTIFICATIONS}) AS i;
INSERT INTO notification.notification_reads (notification_id, user_id)
SELECT id, {CALLER} FROM notification.notifications
WHERE id % 4 = 0 AND (target_user_id IS NULL OR target_user_id = {CALLER});
ANALYZE notification.notifications;
ANALYZE notification.notification_reads;
"""
"""100,000 rows: 50,000 broadcasts, 40,000 targeted to the caller, 10,000 to other admins (90,000 in the caller's
view); the caller has read every fourth of theirs."""


def _sql(dsn: str, statement: str) -> list[Any]:
    import asyncpg

    async def go() -> list[Any]:
        conn = await asyncpg.connect(dsn)
        try:
            if ";" in statement.strip().rstrip(";"):
                await conn.execute(statement)
                return []
            return await conn.fetch(statement)
        finally:
            await conn.close()

    return asyncio.run(go())


def start_host(python: str, jwks: Path, database_url: str, amqp_url: str, log: Any, port: int,
               src: str | None = None) -> ServiceHost:
    """notification_host.py on `port` against `database_url`, importing notification_svc from `src` if given."""
    env = {"NOTIFICATION_DATABASE_URL": database_url, "NOTIFICATION_AMQP_URL": amqp_url}
    if src:
        env["PYTHONPATH"] = src + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    return ServiceHost(python, "notification_host.py", jwks, env, log, port, "notification-svc")


def measure(host: ServiceHost, token: str) -> dict[str, Any]:
    times, answer = host.timed_gets("/api/v4/notifications/unread-count", token, warm_up=WARM_UP, requests=REQUESTS,
                                    timeout=10)
    return {"p50_ms": round(pct(times, 50), 2), "p99_ms": round(pct(times, 99), 2),
            "max_ms": round(max(times), 2), "requests": REQUESTS, "answer": answer.decode() if answer else None,
            "loadavg_after": os.getloadavg()}


def unread_count_cell(python: str, jwks: Path, token: str, amqp_url: str, log: Any, port: int,
                      before_src: str, tag: str) -> dict[str, Any]:
    admin_dsn = os.environ.get("BENCH_DATABASE_URL", "postgresql://platform:platform@127.0.0.1:5432/postgres")
    db = f"bench_unread_{tag}"
    base = admin_dsn.rsplit("/", 1)[0]
    dsn, app_url = f"{base}/{db}", base.replace("postgresql://", "postgresql+asyncpg://") + f"/{db}"
    _sql(admin_dsn, f'CREATE DATABASE "{db}"')
    result: dict[str, Any] = {"notifications": NOTIFICATIONS, "loadavg_before": os.getloadavg()}
    try:
        before = start_host(python, jwks, app_url, amqp_url, log, port, before_src)
        try:
            _sql(dsn, LOAD)
            result["before_anti_join"] = measure(before, token)
        finally:
            before.stop()
        after = start_host(python, jwks, app_url, amqp_url, log, port)
        try:
            result["migration_and_start_seconds"] = round(after.start_seconds, 2)
            result["after_counters"] = measure(after, token)
        finally:
            after.stop()
        counted = [json.loads(result[k]["answer"])["unread_count"] for k in ("before_anti_join", "after_counters")]
        result["same_number_before_and_after"] = counted[0] == counted[1]
        rows = _sql(dsn, "SELECT count(*) AS n FROM notification.notifications")
        result["rows"] = rows[0]["n"]
    finally:
        try:
            _sql(admin_dsn, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 (a leftover database is reported, not fatal)
            result["leftover_database"] = db
    return result
