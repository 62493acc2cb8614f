"""Cell 10: the chat path, end to end. `chat:send_message` from users' sockets (stock socket.io-client 4.7.2,
bench/node/chat_load.js) -> the gateway -> the command over RabbitMQ -> chat-svc (transaction, reply, outbox) -> the
relay -> the event stream -> the gateway -> the agent's and the sender's sockets.

A database and a RabbitMQ vhost of its own; the real chat-svc (bench/chat_host.py, one or more processes) and the
real gateway (bench/py_server.py). `USERS` users each have an open session assigned to one of `AGENTS` agents
(rows written with SQL after chat-svc migrated). The generator offers a sweep of loads (msgs/s, open loop, spread
over the users) for `--seconds` each, after a warm-up step that is not reported; the sweep stops after the first
saturated step (fewer acked per second than 90% of the offered load, or an ack p99 over a second).

Per step: ack and delivery (agent's socket, sender's own socket) p50/p99 in ms from the emit, achieved msgs/s, CPU
ms per message of chat-svc (all its processes), of the gateway, of the RabbitMQ node (its beam.smp: the process
listening on the AMQP URL's port), of PostgreSQL (the whole server: the postmaster listening on the database URL's
port and all its children; and the backends connected to the bench's database alone) and of the load generator
itself (/proc, bench/box_cpu.py), the box's busy CPU per message and what none of those account for, PostgreSQL's
transactions and WAL per message, the machine's idle share and load average, and the correctness counts: every
message acked once, delivered once to the agent and to the sender, in order per session, and stored once
(`chat.messages`, counted by content); each session's `chat:session_update`s after the message they name as last, the
final one (naming the session's last message) at the agent's and the sender's sockets, and how many came. After the sweep: the queues of the bench's vhost, with what each carried per
chat message.

    .venv/bin/python bench/chat_path.py --rates 50,100,200,500,1000 --label before   # alone (JSON in bench/results)
    BENCH_AMQP_URL=amqp://guest:guest@127.0.0.1:5682/ BENCH_AMQP_MANAGEMENT_URL=http://guest:guest@127.0.0.1:15682 \
      BENCH_DATABASE_URL=postgresql://platform:platform@127.0.0.1:5442/postgres .venv/bin/python bench/chat_path.py
                                     # against a broker and a server of its own: their CPU is then the bench's alone
    ./bench/run --cells 12                                                          # as a cell of the benchmark
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from box_cpu import CpuSample, children, cpu_seconds, listener_pid
from procs import ask, stop_process
from servicekit_testing.tokens import TokenMint
from unread_count import _sql

USERS = 300
"""Senders: at 2,000 msgs/s each sends under 7 a second, within the gateway's per-socket rate limit (10/s)."""
AGENTS = 30
"""Each agent holds USERS / AGENTS sessions (one socket each)."""
RATES = (50, 100, 200, 500, 1000, 1500, 2000)
SATURATED_SHARE = 0.9
SATURATED_ACK_P99_MS = 1000.0
_PROFILED = ("import cProfile, runpy, sys, time\np = cProfile.Profile(time.process_time)\nsys.argv = sys.argv[1:]\n"
             "p.enable()\ntry:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nfinally:\n"
             "    p.disable()\n    p.dump_stats(OUT)\n")
"""`python -c` this, then the script and its arguments: the script under cProfile, timed in CPU seconds."""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_seconds(pid: int) -> float:
    return cpu_seconds(pid) or 0.0


COMPONENTS = ("chat_svc", "gateway", "rabbitmq", "postgres", "postgres_bench_backends", "load_generator")
"""What each step measures the CPU of: `postgres` is the whole server (shared with whatever else uses it), its
`postgres_bench_backends` the connections to the bench's database; `rabbitmq` the node's whole beam.smp."""
LABELS = {"chat_svc": "chat-svc", "gateway": "gateway", "rabbitmq": "rabbitmq", "postgres": "postgresql",
          "postgres_bench_backends": "of which bench backends", "load_generator": "load generator"}


TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") * 1.0


def _box() -> tuple[int, int]:
    """The box's (idle + iowait, all) jiffies since boot, summed over its cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


def _wait_http(url: str, proc: subprocess.Popen[bytes], what: str, log: Any, check: Any = None) -> None:
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as res:
                body = json.loads(res.read())
                if check is None or check(body):
                    return
        except (OSError, ValueError):
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{what} did not start (see {log.name})")
        time.sleep(0.2)


def _management_list(kind: str, amqp_url: str) -> list[dict[str, Any]]:
    """The management API's list of `kind` ("queues", "exchanges") of the vhost `amqp_url` names
    (BENCH_AMQP_MANAGEMENT_URL)."""
    import base64
    from urllib.parse import quote

    mgmt = urlsplit(os.environ.get("BENCH_AMQP_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672"))
    vhost = urlsplit(amqp_url).path.lstrip("/") or "/"
    auth = base64.b64encode(f"{mgmt.username}:{mgmt.password}".encode()).decode()
    url = f"{mgmt.scheme}://{mgmt.hostname}:{mgmt.port}/api/{kind}/{quote(vhost, safe='')}"
    request = urllib.request.Request(url, headers={"authorization": "Basic " + auth})
    with urllib.request.urlopen(request, timeout=10) as res:
        listed: list[dict[str, Any]] = json.loads(res.read())
    return listed


class ChatPath:
    """The processes of the cell: `processes` chat-svc hosts, one gateway, the load generator."""

    def __init__(self, python: str, workdir: Path, amqp_url: str, log: Any, tag: str, *, processes: int = 1,
                 chat_src: str | None = None, gateway_src: str | None = None, log_level: str = "WARNING",
                 generator: Path = BENCH / "node" / "chat_load.js", client_msg_ids: bool = True) -> None:
        self.log = log
        self.client_msg_ids = client_msg_ids
        admin_dsn = os.environ.get("BENCH_DATABASE_URL", "postgresql://platform:platform@127.0.0.1:5432/postgres")
        self.admin_dsn, self.db = admin_dsn, f"bench_chat_{tag}"
        base = admin_dsn.rsplit("/", 1)[0]
        self.dsn = f"{base}/{self.db}"
        app_url = base.replace("postgresql://", "postgresql+asyncpg://") + f"/{self.db}"
        mint = TokenMint(kid="bench-chat")
        jwks = workdir / "chat-jwks.json"
        jwks.write_text(json.dumps(mint.jwks()))
        _sql(admin_dsn, f'CREATE DATABASE "{self.db}"')
        self.procs: list[subprocess.Popen[bytes]] = []
        env = {**os.environ, "CHAT_DATABASE_URL": app_url, "CHAT_AMQP_URL": amqp_url,
               "CHAT_ATTACHMENTS_DIR": str(workdir / "files"), "CHAT_ABANDON_WAITING_AFTER_SECONDS": "0",
               "CHAT_CLOSE_INACTIVE_AFTER_SECONDS": "0", "CHAT_ATTACHMENT_URL_SECRET": "bench-secret"}
        if chat_src:
            env["PYTHONPATH"] = chat_src
        self.chat: list[subprocess.Popen[bytes]] = []
        for _ in range(processes):
            port = _free_port()
            proc = subprocess.Popen([python, str(BENCH / "chat_host.py"), "--port", str(port), "--jwks", str(jwks),
                                     "--log-level", log_level], env=env, stdout=subprocess.DEVNULL, stderr=log)
            self.chat.append(proc)
            self.procs.append(proc)
            _wait_http(f"http://127.0.0.1:{port}/health", proc, "chat-svc", log,
                       lambda b: b.get("status") == "ok")
        port = _free_port()
        genv = {**os.environ, **({"PYTHONPATH": gateway_src} if gateway_src else {})}
        profile = os.environ.get("BENCH_GATEWAY_PROFILE")  # a file: cProfile (CPU time) of the gateway's run
        prefix = ["-c", _PROFILED.replace("OUT", repr(profile))] if profile else []
        self.gateway = subprocess.Popen([python, *prefix, str(BENCH / "py_server.py"), "--port", str(port), "--jwks", str(jwks),
                                         "--amqp", amqp_url], env=genv, stdout=subprocess.DEVNULL, stderr=log)
        self.procs.append(self.gateway)
        _wait_http(f"http://127.0.0.1:{port}/bench/stats", self.gateway, "gateway", log, lambda b: b.get("broker"))
        _sql(self.dsn, f"""
            INSERT INTO chat.sessions (id, user_id, admin_id, status, priority, assigned_at)
            SELECT i, 100000 + i, 1 + (i - 1) % {AGENTS}, 'active', 3, now() FROM generate_series(1, {USERS}) AS i;
            SELECT setval(pg_get_serial_sequence('chat.sessions', 'id'), {USERS});
        """)
        node = shutil.which("node") or "node"
        # BENCH_LOADGEN_NODE_ARGS: node flags for the generator, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" (its profile)
        node_args = os.environ.get("BENCH_LOADGEN_NODE_ARGS", "").split()
        self.gen = subprocess.Popen([node, *node_args, str(generator)], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        users = [{"token": mint.token(100000 + i, "user"), "session_id": i} for i in range(1, USERS + 1)]
        agents = [mint.token(a, "admin", role="agent") for a in range(1, AGENTS + 1)]
        self.call("connect", url=f"http://127.0.0.1:{port}", users=users, agents=agents)
        # The rest of the box: the broker's and the database server's processes, found by the port each listens on.
        self.broker_pid = listener_pid(urlsplit(amqp_url).port or 5672)
        self.postmaster_pid = listener_pid(urlsplit(admin_dsn).port or 5432)
        if self.broker_pid is None or self.postmaster_pid is None:
            print(f"  chat path: RabbitMQ pid {self.broker_pid}, PostgreSQL pid {self.postmaster_pid} (None: not on this "
                  "machine or not readable by this user; their CPU is left out)", file=sys.stderr, flush=True)

    def _pids(self) -> dict[str, list[int]]:
        backends = [r["pid"] for r in _sql(self.admin_dsn, "SELECT pid FROM pg_stat_activity "
                                                           f"WHERE datname = '{self.db}'")]
        server = [self.postmaster_pid, *children(self.postmaster_pid)] if self.postmaster_pid else []
        chat = [p.pid for p in self.chat]  # with their children: a relay process (CHAT_RELAY_MODE=process)
        return {"chat_svc": [*chat, *(c for pid in chat for c in children(pid))], "gateway": [self.gateway.pid],
                "rabbitmq": [self.broker_pid] if self.broker_pid else [], "postgres": server,
                "postgres_bench_backends": backends, "load_generator": [self.gen.pid]}

    def pg_counters(self) -> dict[str, float]:
        """PostgreSQL's work counters: the bench database's transactions, and the server's WAL (records, full-page
        images, bytes, writes and fsyncs; server-wide, so shared with whatever else uses that server)."""
        row = _sql(self.admin_dsn, "SELECT d.xact_commit + d.xact_rollback AS transactions, w.wal_records, w.wal_fpi, "
                                   "w.wal_bytes, w.wal_write, w.wal_sync FROM pg_stat_database d, pg_stat_wal w "
                                   f"WHERE d.datname = '{self.db}'")[0]
        return {k: float(v) for k, v in dict(row).items()}

    def sample(self) -> dict[str, CpuSample]:
        """CPU seconds so far of each of COMPONENTS (the box's idle/total jiffies beside, in `_box`)."""
        return {name: CpuSample(pids) for name, pids in self._pids().items()}

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        return ask(self.gen, "the chat load generator", self.log.name, cmd, **args)

    def step(self, name: str, rate: float, seconds: float) -> dict[str, Any]:
        load0, pg0 = os.getloadavg(), self.pg_counters()
        cpu0, box0, t0 = self.sample(), _box(), time.time()
        result = self.call("step", name=name, rate=rate, seconds=seconds, drain_ms=15000,
                           client_msg_ids=self.client_msg_ids)
        wall, box1, cpu1 = time.time() - t0, _box(), self.sample()
        time.sleep(1.1)  # backends report their counters to the statistics at most once a second
        pg1 = self.pg_counters()
        used = {k: cpu1[k].since(cpu0[k]) for k in COMPONENTS}
        waited = {k: cpu1[k].waited_since(cpu0[k]) for k in COMPONENTS}
        stored = _sql(self.dsn, "SELECT count(*) AS n, count(DISTINCT content) AS d FROM chat.messages "
                                f"WHERE content LIKE 'b|{name}|%'")[0]
        done = max(1, stored["n"])  # CPU per message carried out (a timed-out command may still be stored)
        busy = (box1[1] - box0[1] - (box1[0] - box0[0])) / TICKS_PER_SECOND
        result.update({"stored": stored["n"], "stored_distinct": stored["d"], "wall_s": round(wall, 3)})
        # What PostgreSQL did per message: counts, not time, so they hold on a loaded box (WAL: server-wide).
        result["postgres_per_msg"] = {k: round((pg1[k] - pg0[k]) / done, 3) for k in pg1}
        for k in COMPONENTS:
            result.update({f"{k}_cpu_s": round(used[k], 4), f"{k}_cpu_ms_per_msg": round(used[k] * 1000 / done, 3),
                           f"{k}_cores": round(used[k] / wall, 3),
                           # time its threads were ready to run but had no CPU (per message, and per CPU second)
                           f"{k}_runqueue_wait_ms_per_msg": round(waited[k] * 1000 / done, 3),
                           f"{k}_runqueue_wait_per_cpu_s": round(waited[k] / used[k], 3) if used[k] else None})
        # Everything the box ran (all cores, user + system + irq), and what none of the processes above account for:
        # the kernel's own work (softirq for loopback traffic), other programs on a shared box.
        accounted = sum(used[k] for k in COMPONENTS if k != "postgres_bench_backends")
        result.update({
            "box_busy_cpu_ms_per_msg": round(busy * 1000 / done, 3), "box_busy_cores": round(busy / wall, 3),
            "unaccounted_cpu_ms_per_msg": round((busy - accounted) * 1000 / done, 3),
            "box_idle_share": round((box1[0] - box0[0]) / max(1, box1[1] - box0[1]), 3),
            "loadavg_before": load0, "loadavg_after": os.getloadavg(),
        })
        result["correct"] = (result["sent"] == result["acked_ok"] == result["stored"] == result["stored_distinct"]
                             and not any(result[k] for k in ("unacked", "acked_more_than_once", "agent_missing",
                                                             "agent_duplicates", "agent_out_of_order",
                                                             "sender_missing", "sender_duplicates",
                                                             "sender_out_of_order",
                                                             "agent_session_updates_before_their_message",
                                                             "sender_session_updates_before_their_message",
                                                             "agent_final_session_update_missing",
                                                             "sender_final_session_update_missing")))
        return result

    def direct(self, amqp_url: str, count: int) -> dict[str, Any]:
        """chat-svc alone: `count` `chat.send_message` commands published at once straight to RabbitMQ (no gateway,
        no sockets; this process is the caller), spread over the sessions; the time and chat-svc's CPU until the
        last reply: what chat-svc drains per second when it is the only thing to wait for."""
        import asyncio

        result = asyncio.run(_direct(amqp_url, count, self))
        result["stored"] = _sql(self.dsn, "SELECT count(*) AS n FROM chat.messages WHERE content LIKE 'b|direct|%'")[0]["n"]
        return result

    def idle(self, seconds: float) -> dict[str, Any]:
        """What the processes use with no message moving (sweeps, the queue publisher, heartbeats; the broker's and
        the database server's timers and, on a shared box, everyone else's traffic): cores' worth."""
        cpu0 = self.sample()
        time.sleep(seconds)
        cpu1 = self.sample()
        out: dict[str, Any] = {f"{k}_cores": round(cpu1[k].since(cpu0[k]) / seconds, 4) for k in COMPONENTS}
        out["loadavg"] = os.getloadavg()
        return out

    def broker_census(self, amqp_url: str, messages: int) -> list[dict[str, Any]]:
        """Each queue of the bench's vhost (type, durable, arguments) and the messages published into it and
        delivered from it over the whole run, per chat message stored (`messages`): which queues and streams a chat
        message crosses. From the management API (BENCH_AMQP_MANAGEMENT_URL), whose counters lag up to its
        statistics interval (5 s by default): call it after a pause."""
        queues = _management_list("queues", amqp_url)
        per = max(1, messages)
        out = []
        for q in queues:
            stats = q.get("message_stats") or {}
            out.append({"queue": q["name"], "type": q.get("type"), "durable": q.get("durable"),
                        "exclusive": q.get("exclusive"), "arguments": q.get("arguments"),
                        "published_per_msg": round(stats.get("publish", 0) / per, 3),
                        "delivered_per_msg": round(stats.get("deliver_get", 0) / per, 3),
                        "acked_per_msg": round(stats.get("ack", 0) / per, 3)})
        return sorted(out, key=lambda q: -q["published_per_msg"])

    def exchange_census(self, amqp_url: str, messages: int) -> dict[str, float]:
        """Messages published into each exchange of the bench's vhost over the whole run, per chat message stored:
        `platform.commands` counts the gateway's command messages (single or batched), the default exchange the
        services' replies (direct reply-to) among others. Lags like `broker_census`."""
        exchanges = _management_list("exchanges", amqp_url)
        per = max(1, messages)
        return {(x["name"] or "(default)"): round((x.get("message_stats") or {}).get("publish_in", 0) / per, 3)
                for x in exchanges if (x.get("message_stats") or {}).get("publish_in")}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("exit")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.gen.wait(3)
        if self.gen.poll() is None:
            self.gen.kill()
        for proc in reversed(self.procs):
            stop_process(proc)
        with contextlib.suppress(Exception):
            _sql(self.admin_dsn, f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')


async def _direct(amqp_url: str, count: int, cell: ChatPath) -> dict[str, Any]:
    import asyncio

    import aio_pika
    from contracts.events.commands import CHAT_SEND_MESSAGE, CommandReply, new_command
    from contracts.events.topology import COMMANDS_EXCHANGE
    from contracts.identity import Principal
    from contracts.socketio.client import SendMessagePayload

    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=False)
        replies = await channel.declare_queue(exclusive=True, auto_delete=True)
        got: dict[str, CommandReply] = {}
        done = asyncio.Event()

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            got[message.correlation_id or ""] = CommandReply.model_validate_json(message.body)
            if len(got) >= count:
                done.set()

        await replies.consume(on_reply, no_ack=True)
        exchange = await channel.get_exchange(COMMANDS_EXCHANGE)
        bodies = []
        for i in range(count):
            user = i % USERS + 1
            command = new_command(CHAT_SEND_MESSAGE, Principal(user_id=100000 + user, user_type="user",
                                                               username=f"u{user}"),
                                  SendMessagePayload(session_id=user, content=f"b|direct|{user}|{i}"))
            bodies.append((command.routing_key, str(command.command_id), command.to_bytes()))
        chat0, load0, t0 = sum(_cpu_seconds(p.pid) for p in cell.chat), os.getloadavg(), time.time()
        for key, cid, body in bodies:
            await exchange.publish(aio_pika.Message(body, correlation_id=cid, reply_to=replies.name,
                                                    content_type="application/json"), key)
        published = time.time() - t0
        await asyncio.wait_for(done.wait(), 120)
        wall = time.time() - t0
        chat = sum(_cpu_seconds(p.pid) for p in cell.chat) - chat0
    finally:
        await connection.close()
    return {"commands": count, "ok": sum(r.ok for r in got.values()),
            "publish_s": round(published, 3), "wall_s": round(wall, 3), "msgs_per_s": round(count / wall, 1),
            "chat_svc_cpu_ms_per_msg": round(chat * 1000 / count, 3), "chat_svc_cores": round(chat / wall, 3),
            "loadavg_before": load0, "loadavg_after": os.getloadavg()}


def saturated(step: dict[str, Any]) -> bool:
    return (step["acked_per_s"] < SATURATED_SHARE * step["offered_per_s"]
            or (step["ack_p99_ms"] or 0) > SATURATED_ACK_P99_MS)


def chat_path_cell(python: str, workdir: Path, amqp_url: str, log: Any, tag: str, *, rates: tuple[float, ...] = RATES,
                   seconds: float = 5, processes: int = 1, chat_src: str | None = None,
                   gateway_src: str | None = None, log_level: str = "WARNING", direct: int = 0,
                   generator: Path = BENCH / "node" / "chat_load.js", client_msg_ids: bool = True) -> dict[str, Any]:
    """The sweep; then, with `direct`, that many commands straight to chat-svc (`ChatPath.direct`)."""
    cell = ChatPath(python, workdir, amqp_url, log, tag, processes=processes, chat_src=chat_src,
                    gateway_src=gateway_src, log_level=log_level, generator=generator, client_msg_ids=client_msg_ids)
    out: dict[str, Any] = {"users": USERS, "agents": AGENTS, "chat_svc_processes": processes, "seconds": seconds,
                           "load_generator": generator.name, "client_msg_ids": client_msg_ids,
                           "chat_log_level": log_level, "steps": []}
    try:
        out["warm_up"] = cell.step("warm", 50, 2)
        out["idle"] = cell.idle(3)
        for i, rate in enumerate(rates):
            step = cell.step(f"s{i}", rate, seconds)
            # Net of what the processes use with nothing moving (their background work, measured just before).
            for proc in COMPONENTS:
                net = step[f"{proc}_cpu_s"] - out["idle"][f"{proc}_cores"] * step["wall_s"]
                step[f"{proc}_net_cpu_ms_per_msg"] = round(max(0.0, net) * 1000 / max(1, step["stored"]), 3)
            out["steps"].append(step)
            print(f"  chat path {rate:>6} msgs/s offered: {step['acked_per_s']:7.1f} acked/s, ack p50/p99 "
                  f"{step['ack_p50_ms']}/{step['ack_p99_ms']} ms, agent p50/p99 {step['agent_p50_ms']}/"
                  f"{step['agent_p99_ms']} ms, idle {step['box_idle_share']}, load {step['loadavg_after'][0]:.2f}, "
                  f"{'correct' if step['correct'] else 'INCORRECT'}, session updates per msg "
                  f"{step['agent_session_updates'] / max(1, step['sent']):.2f}\n    ms CPU/msg (net of idle): " + ", ".join(
                      f"{LABELS[k]} {step[f'{k}_cpu_ms_per_msg']} ({step[f'{k}_net_cpu_ms_per_msg']})"
                      for k in COMPONENTS) + f"; box {step['box_busy_cpu_ms_per_msg']}, unaccounted "
                  f"{step['unaccounted_cpu_ms_per_msg']}\n    ms waiting for a CPU per msg (per CPU second): " + ", ".join(
                      f"{LABELS[k]} {step[f'{k}_runqueue_wait_ms_per_msg']} ({step[f'{k}_runqueue_wait_per_cpu_s']})"
                      for k in COMPONENTS) + "\n    postgresql per msg: " + ", ".join(
                      f"{k} {v}" for k, v in step["postgres_per_msg"].items()), flush=True)
            if saturated(step):
                break
        with contextlib.suppress(OSError, ValueError, KeyError):
            time.sleep(6)  # the management API's statistics interval
            total = _sql(cell.dsn, "SELECT count(*) AS n FROM chat.messages")[0]["n"]
            out["broker_queues"] = cell.broker_census(amqp_url, total)
            print("  queues per chat message (published/delivered): " + ", ".join(
                f"{q['queue']} [{q['type']}{'' if q['durable'] else ', transient'}] {q['published_per_msg']}/"
                f"{q['delivered_per_msg']}" for q in out["broker_queues"] if q["published_per_msg"] >= 0.01), flush=True)
            out["broker_exchanges"] = cell.exchange_census(amqp_url, total)
            print("  exchanges per chat message (published in): " + ", ".join(
                f"{name} {n}" for name, n in out["broker_exchanges"].items()), flush=True)
        if direct:
            out["direct_burst"] = cell.direct(amqp_url, direct)
            print(f"  chat-svc alone, {direct} commands at once: {out['direct_burst']['msgs_per_s']} msgs/s, "
                  f"{out['direct_burst']['chat_svc_cpu_ms_per_msg']} ms CPU/msg, load "
                  f"{out['direct_burst']['loadavg_after'][0]:.2f}", flush=True)
    finally:
        cell.close()
    ok = [s for s in out["steps"] if not saturated(s)]
    out["saturation_msgs_per_s"] = max((s["acked_per_s"] for s in out["steps"]), default=None)
    out["highest_unsaturated_offered"] = max((s["offered_per_s"] for s in ok), default=None)
    out["all_correct"] = all(s["correct"] for s in out["steps"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default=",".join(str(r) for r in RATES), help="offered msgs/s, in order")
    parser.add_argument("--seconds", type=float, default=5, help="seconds per step")
    parser.add_argument("--processes", type=int, default=1, help="chat-svc processes")
    parser.add_argument("--label", default="")
    parser.add_argument("--chat-src", help="PYTHONPATH for chat-svc (e.g. another checkout's services/chat-svc/src"
                        ":libs/servicekit/src for a 'before' run)")
    parser.add_argument("--gateway-src", help="PYTHONPATH for the gateway")
    parser.add_argument("--log-level", default="WARNING", help="chat-svc's log level (INFO: as deployed)")
    parser.add_argument("--direct", type=int, default=0, help="after the sweep, this many commands straight to "
                        "chat-svc at once (no gateway): its own throughput and CPU per message")
    parser.add_argument("--generator", type=Path, default=BENCH / "node" / "chat_load.js",
                        help="the load generator script (another version of chat_load.js, in bench/node/ for its "
                        "node_modules: a 'before' run)")
    parser.add_argument("--no-client-msg-id", dest="client_msg_ids", action="store_false",
                        help="send without `client_msg_id` (the SDK, the pages and the mini program always send one)")
    args = parser.parse_args()
    from run import drop_vhost, ensure_vhost

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    vhost = f"bench-chat-{stamp}"
    with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp, \
            open(Path(tempfile.gettempdir()) / f"bench-chat-{stamp}.log", "w") as log:
        try:
            result = chat_path_cell(sys.executable, Path(tmp), ensure_vhost(vhost), log, stamp.replace("-", "_"),
                                    rates=tuple(float(r) for r in args.rates.split(",")), seconds=args.seconds,
                                    processes=args.processes, chat_src=args.chat_src, gateway_src=args.gateway_src,
                                    log_level=args.log_level, direct=args.direct, generator=args.generator,
                                    client_msg_ids=args.client_msg_ids)
        finally:
            drop_vhost(vhost)
    results = {"label": args.label, "timestamp": stamp, "cells": {"12_chat_path": result}}
    out = BENCH / "results" / f"{stamp}-chat{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"saturation {result['saturation_msgs_per_s']:.0f} acked msgs/s; all correct: {result['all_correct']}; "
          f"JSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
