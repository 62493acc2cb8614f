"""Cell 9: the latency of the supervisors' report (`GET /api/v4/customer-service/reports/summary`) for 30 Beijing
days holding 100,000 sessions (about 400,000 messages, a third of the closed sessions rated, 20 agents), on this
checkout's chat-svc and its migrations (the report reads `chat.session_facts`, migration 0015, kept by triggers as
the rows are loaded). For a "before" run, put an older chat-svc first on PYTHONPATH (e.g. the services/chat-svc/src of
a checkout before 0015): this cell then vacuums only the tables that chat-svc has.

A database of its own; chat-svc starts on it (migrations), the rows are loaded with SQL and the tables vacuumed
and analyzed (what autovacuum does for a table that has stopped growing), then `WARM_UP` requests and `REQUESTS`
sequential requests on one keep-alive connection: p50/p90/p99/max of the wall time per request. The machine's load
average is recorded beside the numbers. The sweeps that would close the old open sessions are off (0), so the
measurement reads a table nobody writes.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from service_host import ServiceHost, pct
from servicekit_testing.tokens import TokenMint
from unread_count import _sql

SESSIONS = 100_000
AGENTS = 20
REQUESTS = 20
WARM_UP = 3
FROM, TO = "2026-11-01", "2026-11-30"
SPACING = 30 * 86_400 / SESSIONS
"""Seconds between two sessions' openings: 100,000 spread evenly over the 30 days."""

LOAD = f"""
INSERT INTO chat.sessions (id, user_id, admin_id, status, priority, created_at, updated_at, assigned_at, closed_at,
                           close_reason)
SELECT i, 1000000 + i,
       CASE WHEN i % 50 = 0 THEN NULL ELSE 100 + i % {AGENTS} END,
       CASE WHEN i % 50 = 0 THEN 'waiting' WHEN i % 10 = 1 THEN 'active' ELSE 'closed' END, 3, c, c,
       CASE WHEN i % 50 = 0 THEN NULL ELSE c + make_interval(secs => i % 120) END,
       CASE WHEN i % 50 = 0 OR i % 10 = 1 THEN NULL ELSE c + make_interval(secs => 600 + i % 3600) END,
       CASE WHEN i % 50 = 0 OR i % 10 = 1 THEN NULL ELSE 'agent' END
FROM (SELECT i, TIMESTAMPTZ '{FROM} 00:00:00+08' + make_interval(secs => i * {SPACING}) AS c
      FROM generate_series(1, {SESSIONS - 1}) AS i) s;
INSERT INTO chat.messages (session_id, sender_type, sender_id, content, message_type, created_at)
SELECT s.id, m.sender_type, CASE m.sender_type WHEN 'user' THEN s.user_id ELSE coalesce(s.admin_id, 1) END, 'm',
       CASE m.sender_type WHEN 'system' THEN 'system' ELSE 'text' END, s.created_at + make_interval(secs => m.at)
FROM chat.sessions s
CROSS JOIN LATERAL (VALUES ('user', 0), ('system', s.id % 120), ('admin', 5 + s.id % 300),
                           ('user', 40 + s.id % 300)) AS m(sender_type, at)
WHERE s.admin_id IS NOT NULL OR m.sender_type = 'user';
UPDATE chat.sessions s SET message_count = m.said, first_reply_at = m.first_reply_at
FROM (SELECT session_id, count(*) AS said, min(created_at) FILTER (WHERE sender_type = 'admin') AS first_reply_at
      FROM chat.messages WHERE sender_type <> 'system' GROUP BY session_id) m
WHERE m.session_id = s.id;
INSERT INTO chat.ratings (session_id, user_id, score)
SELECT id, user_id, 1 + id % 5 FROM chat.sessions WHERE status = 'closed' AND id % 3 = 0;
"""
"""99,999 sessions in the 30 days (every 50th still waiting, every 10th active, the rest closed), 4 messages each
(a user's, the assignment's system line, the agent's reply, the user's answer; 2 for the waiting ones); each
session's message count and first reply filled as chat-svc keeps them (written around it, like migration 0009's
backfill)."""


def measure(host: ServiceHost, token: str) -> dict[str, Any]:
    times, answer = host.timed_gets(f"/api/v4/customer-service/reports/summary?from={FROM}&to={TO}", token,
                                    warm_up=WARM_UP, requests=REQUESTS)
    report = json.loads(answer)
    return {"p50_ms": round(pct(times, 50), 1), "p90_ms": round(pct(times, 90), 1),
            "p99_ms": round(pct(times, 99), 1), "max_ms": round(max(times), 1),
            "requests": REQUESTS, "total": report["total"], "agents": len(report["agents"]),
            "loadavg_after": os.getloadavg()}


def report_cell(python: str, workdir: Path, amqp_url: str, log: Any, port: int, tag: str) -> dict[str, Any]:
    admin_dsn = os.environ.get("BENCH_DATABASE_URL", "postgresql://platform:platform@127.0.0.1:5432/postgres")
    db = f"bench_reports_{tag}"
    base = admin_dsn.rsplit("/", 1)[0]
    dsn, app_url = f"{base}/{db}", base.replace("postgresql://", "postgresql+asyncpg://") + f"/{db}"
    mint = TokenMint(kid="bench-reports")
    jwks = workdir / "reports-jwks.json"
    jwks.write_text(json.dumps(mint.jwks()))
    _sql(admin_dsn, f'CREATE DATABASE "{db}"')
    result: dict[str, Any] = {"sessions": SESSIONS - 1, "range": [FROM, TO], "loadavg_before": os.getloadavg()}
    try:
        host = ServiceHost(python, "chat_host.py", jwks, {
            "CHAT_DATABASE_URL": app_url, "CHAT_AMQP_URL": amqp_url, "CHAT_ATTACHMENTS_DIR": str(workdir / "files"),
            "CHAT_ABANDON_WAITING_AFTER_SECONDS": "0", "CHAT_CLOSE_INACTIVE_AFTER_SECONDS": "0",
        }, log, port, "chat-svc")
        try:
            t0 = time.time()
            _sql(dsn, LOAD)
            # The report's facts (0015) are there unless chat-svc is an older one (PYTHONPATH, for a "before" run).
            facts = _sql(dsn, "SELECT to_regclass('chat.session_facts') IS NOT NULL AS here")[0]["here"]
            for table in ("sessions", "messages", "ratings", *(("session_facts",) if facts else ())):
                _sql(dsn, f"VACUUM ANALYZE chat.{table}")  # one by one: VACUUM refuses a transaction block
            result["load_seconds"] = round(time.time() - t0, 1)
            result["messages"] = _sql(dsn, "SELECT count(*) AS n FROM chat.messages")[0]["n"]
            result["report"] = measure(host, mint.token(1, "admin", role="supervisor"))
        finally:
            host.stop()
    finally:
        try:
            _sql(admin_dsn, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 (a leftover database is reported, not fatal)
            result["leftover_database"] = db
    return result
