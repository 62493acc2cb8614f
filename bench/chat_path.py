"""Cell 10: the chat path, end to end. `chat:send_message` from users' sockets (stock socket.io-client 4.7.2,
bench/node/chat_load.js) -> the gateway -> the command over RabbitMQ -> chat-svc (transaction, reply, outbox) -> the
relay -> the event stream -> the gateway -> the agent's and the sender's sockets.

A database and a RabbitMQ vhost of its own; the real chat-svc (bench/chat_host.py, one or more processes) and the
real gateway (bench/py_server.py). `USERS` users each have an open session assigned to one of `AGENTS` agents
(rows written with SQL after chat-svc migrated). The generator offers a sweep of loads (msgs/s, open loop, spread
over the users) for `--seconds` each, after a warm-up step that is not reported; the sweep stops after the first
saturated step (fewer acked per second than 90% of the offered load, or an ack p99 over a second).

Per step: ack and delivery (agent's socket, sender's own socket) p50/p99 in ms from the emit, achieved msgs/s, CPU
ms per message of chat-svc (all its processes) and of the gateway (/proc), the machine's idle share and load
average, and the correctness counts: every message acked once, delivered once to the agent and to the sender, in
order per session, and stored once (`chat.messages`, counted by content).

    .venv/bin/python bench/chat_path.py --rates 50,100,200,500,1000 --label before   # alone (JSON in bench/results)
    ./bench/run --cells 12                                                          # as a cell of the benchmark
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
from servicekit_testing.tokens import TokenMint
from unread_count import _sql

USERS = 300
"""Senders: at 2,000 msgs/s each sends under 7 a second, within the gateway's per-socket rate limit (10/s)."""
AGENTS = 30
"""Each agent holds USERS / AGENTS sessions (one socket each)."""
RATES = (50, 100, 200, 500, 1000, 1500, 2000)
SATURATED_SHARE = 0.9
SATURATED_ACK_P99_MS = 1000.0
TICK = os.sysconf("SC_CLK_TCK")
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
    try:
        return sum(int((t / "schedstat").read_text().split()[0]) for t in Path(f"/proc/{pid}/task").iterdir()) / 1e9
    except (OSError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def _box() -> tuple[int, int]:
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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class ChatPath:
    """The processes of the cell: `processes` chat-svc hosts, one gateway, the load generator."""

    def __init__(self, python: str, workdir: Path, amqp_url: str, log: Any, tag: str, *, processes: int = 1,
                 chat_src: str | None = None, gateway_src: str | None = None, log_level: str = "WARNING") -> None:
        self.log = log
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
        self.gen = subprocess.Popen([node, str(BENCH / "node" / "chat_load.js")], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1)
        users = [{"token": mint.token(100000 + i, "user"), "session_id": i} for i in range(1, USERS + 1)]
        agents = [mint.token(a, "admin", role="agent") for a in range(1, AGENTS + 1)]
        self.call("connect", url=f"http://127.0.0.1:{port}", users=users, agents=agents)

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.gen.stdin and self.gen.stdout
        self.gen.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        line = self.gen.stdout.readline()
        if not line:
            raise RuntimeError(f"the chat load generator died (see {self.log.name})")
        answer: dict[str, Any] = json.loads(line)
        if not answer.pop("ok"):
            raise RuntimeError(f"chat load generator: {cmd}: {answer['error']}")
        return answer

    def step(self, name: str, rate: float, seconds: float) -> dict[str, Any]:
        load0 = os.getloadavg()
        chat0 = sum(_cpu_seconds(p.pid) for p in self.chat)
        gw0, box0, t0 = _cpu_seconds(self.gateway.pid), _box(), time.time()
        result = self.call("step", name=name, rate=rate, seconds=seconds, drain_ms=15000)
        wall, box1 = time.time() - t0, _box()
        chat = sum(_cpu_seconds(p.pid) for p in self.chat) - chat0
        gw = _cpu_seconds(self.gateway.pid) - gw0
        stored = _sql(self.dsn, "SELECT count(*) AS n, count(DISTINCT content) AS d FROM chat.messages "
                                f"WHERE content LIKE 'b|{name}|%'")[0]
        done = max(1, stored["n"])  # CPU per message carried out (a timed-out command may still be stored)
        result.update({
            "stored": stored["n"], "stored_distinct": stored["d"], "wall_s": round(wall, 3),
            "chat_svc_cpu_s": round(chat, 4), "gateway_cpu_s": round(gw, 4),
            "chat_svc_cpu_ms_per_msg": round(chat * 1000 / done, 3),
            "gateway_cpu_ms_per_msg": round(gw * 1000 / done, 3),
            "chat_svc_cores": round(chat / wall, 3), "gateway_cores": round(gw / wall, 3),
            "box_idle_share": round((box1[0] - box0[0]) / max(1, box1[1] - box0[1]), 3),
            "loadavg_before": load0, "loadavg_after": os.getloadavg(),
        })
        result["correct"] = (result["sent"] == result["acked_ok"] == result["stored"] == result["stored_distinct"]
                             and not any(result[k] for k in ("unacked", "acked_more_than_once", "agent_missing",
                                                             "agent_duplicates", "agent_out_of_order",
                                                             "sender_missing", "sender_duplicates",
                                                             "sender_out_of_order")))
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
        """What the processes use with no message moving (sweeps, the queue publisher, heartbeats): cores' worth."""
        chat0, gw0 = sum(_cpu_seconds(p.pid) for p in self.chat), _cpu_seconds(self.gateway.pid)
        time.sleep(seconds)
        return {"chat_svc_cores": round((sum(_cpu_seconds(p.pid) for p in self.chat) - chat0) / seconds, 4),
                "gateway_cores": round((_cpu_seconds(self.gateway.pid) - gw0) / seconds, 4),
                "loadavg": os.getloadavg()}

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.call("exit")
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.gen.wait(3)
        if self.gen.poll() is None:
            self.gen.kill()
        for proc in reversed(self.procs):
            _stop(proc)
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
                   gateway_src: str | None = None, log_level: str = "WARNING", direct: int = 0) -> dict[str, Any]:
    """The sweep; then, with `direct`, that many commands straight to chat-svc (`ChatPath.direct`)."""
    cell = ChatPath(python, workdir, amqp_url, log, tag, processes=processes, chat_src=chat_src,
                    gateway_src=gateway_src, log_level=log_level)
    out: dict[str, Any] = {"users": USERS, "agents": AGENTS, "chat_svc_processes": processes, "seconds": seconds,
                           "chat_log_level": log_level, "steps": []}
    try:
        out["warm_up"] = cell.step("warm", 50, 2)
        out["idle"] = cell.idle(3)
        for i, rate in enumerate(rates):
            step = cell.step(f"s{i}", rate, seconds)
            # Net of what the processes use with nothing moving (their background work, measured just before).
            for proc in ("chat_svc", "gateway"):
                net = step[f"{proc}_cpu_s"] - out["idle"][f"{proc}_cores"] * step["wall_s"]
                step[f"{proc}_net_cpu_ms_per_msg"] = round(max(0.0, net) * 1000 / max(1, step["stored"]), 3)
            out["steps"].append(step)
            print(f"  chat path {rate:>6} msgs/s offered: {step['acked_per_s']:7.1f} acked/s, ack p50/p99 "
                  f"{step['ack_p50_ms']}/{step['ack_p99_ms']} ms, agent p50/p99 {step['agent_p50_ms']}/"
                  f"{step['agent_p99_ms']} ms, chat-svc {step['chat_svc_cpu_ms_per_msg']} ms/msg (net "
                  f"{step['chat_svc_net_cpu_ms_per_msg']}), gateway {step['gateway_cpu_ms_per_msg']} ms/msg (net "
                  f"{step['gateway_net_cpu_ms_per_msg']}), idle {step['box_idle_share']}, load "
                  f"{step['loadavg_after'][0]:.2f}, {'correct' if step['correct'] else 'INCORRECT'}", flush=True)
            if saturated(step):
                break
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
                                    log_level=args.log_level, direct=args.direct)
        finally:
            drop_vhost(vhost)
    results = {"label": args.label, "timestamp": stamp, "cells": {"12_chat_path": result}}
    out = BENCH / "results" / f"{stamp}-chat{'-' + args.label if args.label else ''}.json"
    out.write_text(json.dumps(results, indent=1))
    print(f"saturation {result['saturation_msgs_per_s']:.0f} acked msgs/s; all correct: {result['all_correct']}; "
          f"JSON: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
