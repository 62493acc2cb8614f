"""The gateway benchmark: the Python gateway against its Node socket.io 4.7.2 twin, in the same run.

Every cell runs both servers, alternating, `--runs` times (cell 5: at least STORM_RUNS; median reported),
each on a fresh server process pinned to core 0 (`taskset -c 0`) and a fresh load generator pinned to core 1.
Server CPU comes from /proc/PID/task/*/schedstat (or /proc/PID/stat's utime+stime), memory from
/proc/PID/statm. Prints a table with Python/Node ratios and writes JSON to bench/results/<timestamp>.json. Start it with `./bench/run` (installs the Node packages first).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable
NODE = shutil.which("node") or "node"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SERVER_CORE, LOADGEN_CORE = "0", "1"

sys.path.insert(0, str(BENCH))
from benchkeys import write_mint
from chat_path import chat_path_cell
from procs import ask, stop_process
from report_latency import report_cell
from unread_count import unread_count_cell


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pinned(core: str, argv: list[str]) -> list[str]:
    return ["taskset", "-c", core, *argv] if shutil.which("taskset") else argv


def user_sys_seconds(pid: int) -> tuple[float, float]:
    """utime, stime of the process (/proc/PID/stat fields 14, 15, in clock ticks of 10 ms): where a storm's CPU
    goes (Python or the kernel)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


def cpu_seconds(pid: int) -> float:
    """CPU time of the process, all threads. /proc/PID/stat's utime+stime count in clock ticks (10 ms);
    /proc/PID/task/*/schedstat has the same time in ns, so it is used when the kernel provides it."""
    try:
        return sum(int((t / "schedstat").read_text().split()[0]) for t in Path(f"/proc/{pid}/task").iterdir()) / 1e9
    except (OSError, ValueError):
        return sum(user_sys_seconds(pid))


def box_cpu() -> tuple[int, int]:
    """(idle, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)  # idle + iowait


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def http_json(url: str, method: str = "GET", timeout: float = 10) -> Any:
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=timeout) as res:
        return json.loads(res.read())


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100 * len(s)))]


class Server:
    """One fresh server process, pinned to the server core."""

    def __init__(self, kind: str, ctx: Context, *, amqp: str | None = None, env: dict[str, str] | None = None) -> None:
        self.kind = kind
        self.port = free_port()
        if kind == "python":
            argv = [PYTHON, str(BENCH / "py_server.py"), "--port", str(self.port), "--jwks", str(ctx.jwks),
                    "--amqp", amqp or ctx.amqp_url]
        elif kind == "floor":
            argv = [PYTHON, str(BENCH / "floor_server.py"), "--port", str(self.port)]
        else:
            argv = [NODE, str(BENCH / "node" / "server.js"), "--port", str(self.port)]
            if amqp:
                argv += ["--amqp", amqp]
        extra = dict(env or {})
        if kind == "python":
            # No platform service beats here: a gateway watching them would push status changes to the bench's
            # admin sockets (an older gateway ignores the variable)
            extra.setdefault("GATEWAY_STATUS_SERVICES", "[]")
        if kind == "python" and ctx.gateway_src:
            extra["PYTHONPATH"] = ctx.gateway_src
        env = {**os.environ, **extra} if extra else None
        self.proc = subprocess.Popen(pinned(SERVER_CORE, argv), stdout=subprocess.DEVNULL, stderr=ctx.log, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 30
        while True:
            try:
                stats = http_json(f"{self.base}/bench/stats", timeout=1)
                if stats.get("broker", True):
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{kind} server did not start (see {ctx.log.name})")
            time.sleep(0.1)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/socket.io/?EIO=4&transport=websocket"

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss(self) -> int:
        return rss_bytes(self.proc.pid)

    def broadcast(self, count: int, rate: float = 0, room: str = "admins") -> float:
        q = urllib.parse.urlencode({"count": count, "rate": rate, "room": room})
        return http_json(f"{self.base}/bench/broadcast?{q}", method="POST")["t_start"]

    def wait_done(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = http_json(f"{self.base}/bench/done")
            if job["done"]:
                return job
            time.sleep(0.02)
        raise RuntimeError("broadcasts did not finish")

    def sockets(self) -> int:
        return http_json(f"{self.base}/bench/stats")["sockets"]

    def stop(self) -> None:
        stop_process(self.proc, grace=5)


class LoadGen:
    """bench/node/loadgen.js on the load core, driven by JSON lines."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.proc = subprocess.Popen(
            pinned(LOADGEN_CORE, [NODE, str(BENCH / "node" / "loadgen.js")]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=ctx.log, text=True, bufsize=1,
        )

    def call(self, cmd: str, **args: Any) -> dict[str, Any]:
        return ask(self.proc, "load generator", self.ctx.log.name, cmd, **args)

    @staticmethod
    def line(cmd: str, args: dict[str, Any]) -> str:
        """One command as the JSON line loadgen.js reads (for callers that write several before reading)."""
        return json.dumps({"cmd": cmd, **args})

    def connect(self, server: Server, n: int, tokens: list[str] | None = None) -> dict[str, Any]:
        return self.call("connect", url=server.ws_url, tokens=tokens or self.ctx.tokens, n=n, deflate=True)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call("exit")
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Context:
    def __init__(self, workdir: Path, amqp_url: str, log: Any, gateway_src: str | None = None) -> None:
        self.jwks, self.tokens, self.api_token = write_mint(workdir, 2000)
        self.workdir = workdir
        self.gateway_src = gateway_src
        self.amqp_url = amqp_url
        self.log = log


@contextlib.contextmanager
def pair(kind: str, ctx: Context, **kw: Any) -> Iterator[tuple[Server, LoadGen]]:
    server = Server(kind, ctx, **kw)
    gen = LoadGen(ctx)
    try:
        yield server, gen
    finally:
        gen.stop()
        server.stop()


# ---------------------------------------------------------------- cells


def warm_up(server: Server, gen: LoadGen, n: int, count: int = 3) -> None:
    gen.call("reset")
    server.broadcast(count)
    gen.call("wait", total=count * n, timeout_ms=20000)
    server.wait_done()


def saturation(kind: str, ctx: Context, n: int, k: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    with pair(kind, ctx, env=env) as (server, gen):
        gen.connect(server, n)
        warm_up(server, gen, n)
        gen.call("reset")
        cpu0 = server.cpu()
        t_start = server.broadcast(k)
        got = gen.call("wait", total=k * n, timeout_ms=60000)
        cpu1 = server.cpu()
        total = k * n
        seconds = (got["last_at"] - t_start) / 1000
        result = {
            "delivered": got["received"], "expected": total, "in_order": got["out_of_order"] == 0,
            "msgs_per_s": got["received"] / seconds if seconds > 0 else 0,
            "cpu_us_per_msg": (cpu1 - cpu0) * 1e6 / max(1, got["received"]),
        }
        fanout = http_json(f"{server.base}/bench/stats").get("fanout")
        if fanout is not None:  # the Python gateway: how many deliveries took the direct path (warm-up included)
            result["fanout"] = fanout
        return result


def latency(kind: str, ctx: Context, n: int, rate: float, seconds: float) -> dict[str, Any]:
    with pair(kind, ctx) as (server, gen):
        gen.connect(server, n)
        warm_up(server, gen, n)
        count = int(rate * seconds)
        gen.call("reset", latency=True)
        cpu0 = server.cpu()
        server.broadcast(count, rate)
        got = gen.call("wait", total=count * n, timeout_ms=int(seconds * 1000) + 20000)
        cpu1 = server.cpu()
        return {"delivered": got["received"], "expected": count * n, "in_order": got["out_of_order"] == 0,
                "p50_ms": got.get("lat_p50"), "p99_ms": got.get("lat_p99"),
                "cpu_share": (cpu1 - cpu0) / seconds}


def memory(kind: str, ctx: Context, n1: int, n2: int) -> dict[str, Any]:
    with pair(kind, ctx) as (server, gen):
        first = gen.connect(server, n1)
        warm_up(server, gen, n1)
        time.sleep(0.5)
        rss1 = server.rss()
        gen.connect(server, n2 - n1)
        warm_up(server, gen, n2)
        time.sleep(0.5)
        rss2 = server.rss()
        return {"rss_at_n1_mib": rss1 / 2**20, "rss_at_n2_mib": rss2 / 2**20,
                "kib_per_conn": (rss2 - rss1) / (n2 - n1) / 1024, "extensions": first["extensions"]}


def storm(kind: str, ctx: Context, n: int) -> dict[str, Any]:
    with pair(kind, ctx) as (server, gen):
        gen.connect(server, n)
        time.sleep(0.5)
        cpu0, (user0, sys0) = server.cpu(), user_sys_seconds(server.proc.pid)
        t0 = time.time()
        gen.call("drop")
        deadline = time.time() + 30
        while server.sockets() > 0 and time.time() < deadline:
            time.sleep(0.05)
        left = server.sockets()
        user1, sys1 = user_sys_seconds(server.proc.pid)
        return {"cpu_s": server.cpu() - cpu0, "user_s": round(user1 - user0, 2), "sys_s": round(sys1 - sys0, 2),
                "wall_s": time.time() - t0, "left": left}


# ---- cell 4: POST /api/v4/notifications/send -> outbox -> RabbitMQ -> server -> N admin sockets


class EndToEnd:
    """PostgreSQL database + RabbitMQ vhost of its own, and notification-svc (on the load core: it is the
    upstream, not under test)."""

    def __init__(self, ctx: Context, tag: str) -> None:
        import asyncpg  # noqa: F401 (checked early: cell 4 needs it)

        self.ctx = ctx
        self.db = f"bench_{tag}"
        self.admin_dsn = os.environ.get("BENCH_DATABASE_URL", "postgresql://platform:platform@127.0.0.1:5432/postgres")
        self._sql(f'CREATE DATABASE "{self.db}"')
        self.port = free_port()
        base = self.admin_dsn.rsplit("/", 1)[0]
        env = {**os.environ, "NOTIFICATION_DATABASE_URL": base.replace("postgresql://", "postgresql+asyncpg://")
               + f"/{self.db}", "NOTIFICATION_AMQP_URL": ctx.amqp_url,
               # One admin sends every notification of the cell, far beyond the per-user REST limit (which this
               # cell is not about): lifted, as the fault tests do.
               "NOTIFICATION_SEND_RATE_LIMIT": '{"requests": 100000, "per_seconds": 1}'}
        # Not pinned: the upstream is not under test, and the load core is busy with the generator.
        self.proc = subprocess.Popen(
            [PYTHON, str(BENCH / "notification_host.py"), "--port", str(self.port), "--jwks", str(ctx.jwks)],
            env=env, stdout=subprocess.DEVNULL, stderr=ctx.log,
        )
        deadline = time.time() + 60
        while True:
            try:
                if http_json(f"http://127.0.0.1:{self.port}/health", timeout=1).get("status") == "ok":
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"notification-svc did not start (see {ctx.log.name})")
            time.sleep(0.2)

    def _sql(self, statement: str, dsn: str | None = None) -> list[Any]:
        import asyncio

        import asyncpg

        async def go() -> list[Any]:
            conn = await asyncpg.connect(dsn or self.admin_dsn)
            try:
                return await conn.fetch(statement)
            finally:
                await conn.close()

        return asyncio.run(go())

    def published_at(self) -> dict[int, float]:
        rows = self._sql(
            "SELECT aggregate_id, extract(epoch from published_at) * 1000 AS t FROM notification.outbox "
            "WHERE event_type = 'notification.created' AND published_at IS NOT NULL",
            self.admin_dsn.rsplit("/", 1)[0] + f"/{self.db}",
        )
        return {int(r["aggregate_id"]): float(r["t"]) for r in rows}

    def close(self) -> None:
        stop_process(self.proc)
        with contextlib.suppress(Exception):
            self._sql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def _post(self, gen: LoadGen, n: int, count: int, rate: float) -> dict[str, Any]:
        gen.call("reset", title_seq=True)
        gen.call("post", url=f"http://127.0.0.1:{self.port}/api/v4/notifications/send",
                 token=self.ctx.api_token, count=count, rate=rate)
        return gen.call("wait", total=count * n, timeout_ms=20000)

    def run(self, kind: str, n: int, rate: float, seconds: float, warm_up_seconds: float = 1.0) -> dict[str, Any]:
        """`warm_up_seconds` of the same load first, through the same path, not measured: the first second of
        a fresh pipeline (the generator loading its HTTP client, cold code paths in every process) queues
        ~100-300 ms for both servers and would decide p99 by itself. Its p99 is reported as `warm_up_p99_ms`."""
        count = int(rate * seconds)
        with pair(kind, self.ctx, amqp=self.ctx.amqp_url) as (server, gen):
            gen.connect(server, n)
            time.sleep(0.3)
            warm = self._post(gen, n, int(rate * warm_up_seconds), rate)
            warm_p99 = warm["e2e_p99"]
            procs = {"server": server.proc.pid, "loadgen": gen.proc.pid, "notification-svc": self.proc.pid}
            cpu0, box0, t0 = {k: cpu_seconds(pid) for k, pid in procs.items()}, box_cpu(), time.time()
            got = self._post(gen, n, count, rate)
            wall, box1 = time.time() - t0, box_cpu()
            # Where the box's CPU went while the cell ran (cores' worth; the rest is PostgreSQL, RabbitMQ, kernel).
            shares = {k: round((cpu_seconds(pid) - cpu0[k]) / wall, 3) for k, pid in procs.items()}
            shares["box_idle_share"] = round((box1[0] - box0[0]) / max(1e-9, box1[1] - box0[1]), 3)
        published = self.published_at()
        api, commit, relay, deliver = [], [], [], []
        for p in got["posted"]:
            if "created_at" not in p:
                raise RuntimeError(f"a POST of cell 4 was not accepted: {p}")
            created = datetime.fromisoformat(p["created_at"]).timestamp() * 1000
            api.append(created - p["t_post"])
            commit.append(p["t_resp"] - created)
            pub = published.get(p["notification_id"])
            if pub is not None:
                relay.append(pub - created)
                if p["recv_p50"] is not None:
                    deliver.append(p["recv_p50"] - pub)
        spread = [p["recv_max"] - p["recv_min"] for p in got["posted"] if p["recv_n"]]
        return {
            # No order check here: concurrent POSTs commit in any order (the relay keeps commit order).
            "delivered": got["received"], "expected": count * n,
            # Over every delivery (a socket receiving a notification), as the latency cell counts.
            "p50_ms": got["e2e_p50"], "p99_ms": got["e2e_p99"],
            # Stricter: per notification, its last socket (the whole fan-out done); p99 over notifications.
            "last_socket_p99_ms": pct([p["recv_max"] - p["t_post"] for p in got["posted"] if p["recv_n"]], 99),
            "stages_p50_ms": {"post->created_at": pct(api, 50), "created_at->response": pct(commit, 50),
                              "created_at->relay_published": pct(relay, 50),
                              "published->client(median socket)": pct(deliver, 50)},
            "cpu_cores": shares, "warm_up_p99_ms": warm_p99,
            "stages_p99_ms": {"post->created_at": pct(api, 99), "created_at->response": pct(commit, 99),
                              "created_at->relay_published": pct(relay, 99),
                              "first->last socket": pct(spread, 99)},
        }


def correctness(kind: str, ctx: Context, clients: int = 12, count: int = 300) -> dict[str, Any]:
    """socket.io-client 4.7.2 (websocket, polling, polling->websocket upgrade): every broadcast, in order."""
    server = Server(kind, ctx)
    try:
        proc = subprocess.Popen(
            pinned(LOADGEN_CORE, [NODE, str(BENCH / "node" / "correctness.js"), server.base, str(clients),
                                  str(count)]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=ctx.log, text=True,
        )
        assert proc.stdin and proc.stdout
        proc.stdin.write(json.dumps(ctx.tokens[:clients]) + "\n")
        proc.stdin.flush()
        ready = json.loads(proc.stdout.readline() or "{}")
        if not ready.get("connected"):
            raise RuntimeError(f"correctness: clients did not connect: {ready}")
        server.broadcast(count)
        result = json.loads(proc.stdout.readline() or "{}")
        proc.wait(10)
        return result
    finally:
        server.stop()


# ---------------------------------------------------------------- driver


def alternate(runs: int, fn: Callable[[str], dict[str, Any]],
              kinds: tuple[str, ...] = ("python", "node")) -> dict[str, list[dict[str, Any]]]:
    """`runs` rounds of `fn(kind)` for every kind, the order reversed every other round (the machine's phase
    drifts: no server should always go first)."""
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for i in range(runs):
        for kind in (kinds if i % 2 == 0 else kinds[::-1]):
            out[kind].append(fn(kind))
    return out


def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def ensure_vhost(name: str) -> str:
    """A RabbitMQ vhost for the bench (management API), or the default vhost if the API is not there."""
    mgmt = os.environ.get("BENCH_AMQP_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
    parts = urllib.parse.urlsplit(mgmt)
    auth = f"{parts.username}:{parts.password}".encode()
    import base64

    headers = {"authorization": "Basic " + base64.b64encode(auth).decode(), "content-type": "application/json"}
    base = f"{parts.scheme}://{parts.hostname}:{parts.port}"
    # BENCH_AMQP_URL: another broker (e.g. one of the bench's own, whose CPU is then the bench's alone)
    amqp = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/").rstrip("/")
    try:
        for path, body in ((f"/api/vhosts/{name}", b"{}"),
                           (f"/api/permissions/{name}/{parts.username}", b'{"configure":".*","write":".*","read":".*"}')):
            urllib.request.urlopen(urllib.request.Request(base + path, data=body, method="PUT", headers=headers), timeout=5)
    except OSError:
        return amqp + "/"
    return f"{amqp}/{urllib.parse.quote(name, safe='')}"


def drop_vhost(name: str) -> None:
    mgmt = os.environ.get("BENCH_AMQP_MANAGEMENT_URL", "http://guest:guest@127.0.0.1:15672")
    parts = urllib.parse.urlsplit(mgmt)
    import base64

    auth = base64.b64encode(f"{parts.username}:{parts.password}".encode()).decode()
    with contextlib.suppress(OSError):
        urllib.request.urlopen(urllib.request.Request(
            f"{parts.scheme}://{parts.hostname}:{parts.port}/api/vhosts/{name}", method="DELETE",
            headers={"authorization": "Basic " + auth}), timeout=5)


def fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return str(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2, help="runs per server per cell (median)")
    parser.add_argument("--cells", default="0,1,2,3,4,5", help="0 = socket.io-client correctness pass")
    parser.add_argument("--variants", action="store_true", help="also run cell 1 (N=2000) on the Python gateway "
                        "with asyncio's loop instead of uvloop, and with the json module instead of orjson")
    parser.add_argument("--label", default="", help="a word saved in the JSON (e.g. before / after)")
    parser.add_argument("--gateway-src", help="import realtime_gateway from this directory (e.g. an older "
                        "checkout's services/realtime-gateway/src, for a 'before' run; the value is PYTHONPATH, so "
                        "a checkout older than contracts.payloads adds its libs/contracts/src after a ':')")
    parser.add_argument("--floor", action="store_true", help="cell 5 also storms a plain aiohttp websocket server "
                        "(bench/floor_server.py: no engine.io, no Socket.IO): what the stack under the gateway costs")
    parser.add_argument("--sockets", type=int, default=20000, help="cell 10 (not in the default --cells): this many "
                        "concurrent sockets on one server process, fewer if the file-descriptor limit is lower")
    parser.add_argument("--unread-before-src", help="cell 8 (unread-count latency at 100,000 notifications): the "
                        "notification_svc of the code before the unread counters (a directory put on PYTHONPATH, e.g. "
                        "an older checkout's services/notification-svc/src); required for cell 8")
    args = parser.parse_args()
    cells = {int(c) for c in args.cells.split(",")}
    if 8 in cells and not args.unread_before_src:
        parser.error("cell 8 needs --unread-before-src")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    results_loadavg = [Path("/proc/loadavg").read_text().split()[:3]]
    started = time.time()
    results: dict[str, Any] = {"label": args.label, "timestamp": stamp, "runs": args.runs, "cells": {}}
    vhost = f"bench-{stamp}"
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp, open(Path(tempfile.gettempdir()) / f"bench-{stamp}.log", "w") as log:
        ctx = Context(Path(tmp), ensure_vhost(vhost), log, args.gateway_src)
        try:
            c = results["cells"]
            if 0 in cells:
                c["0_correctness"] = {kind: correctness(kind, ctx) for kind in ("python", "node")}
                print("correctness:", json.dumps(c["0_correctness"]), flush=True)
            if 1 in cells:
                for n, k in SATURATION:
                    c[f"1_saturation_n{n}"] = alternate(
                        args.runs, lambda kind, n=n, k=k: saturation(kind, ctx, n, k))
                    print(f"cell 1 N={n} done {time.time() - started:.0f}s", flush=True)
            if 2 in cells:
                for n, rate in ((500, 20), (2000, 10)):
                    c[f"2_latency_n{n}_at{rate}"] = alternate(
                        args.runs, lambda kind, n=n, rate=rate: latency(kind, ctx, n, rate, 3))
                    print(f"cell 2 N={n} done {time.time() - started:.0f}s", flush=True)
            if 3 in cells:
                c["3_memory"] = alternate(args.runs, lambda kind: memory(kind, ctx, 500, 2000))
                print(f"cell 3 done {time.time() - started:.0f}s", flush=True)
            if 4 in cells:
                e2e = EndToEnd(ctx, stamp.replace("-", "_"))
                try:
                    c["4_end_to_end_n500_at50"] = alternate(args.runs, lambda kind: e2e.run(kind, 500, 50, 4))
                finally:
                    e2e.close()
                print(f"cell 4 done {time.time() - started:.0f}s", flush=True)
            if 5 in cells:
                storms = max(args.runs, STORM_RUNS)
                kinds = ("python", "node", "floor") if args.floor else ("python", "node")
                c["5_disconnect_storm_n2000"] = alternate(storms, lambda kind: storm(kind, ctx, 2000), kinds)
                if args.floor:
                    c["5_storm_floor_plain_aiohttp"] = c["5_disconnect_storm_n2000"].pop("floor")
                print(f"cell 5 done {time.time() - started:.0f}s", flush=True)
            if 8 in cells:
                c["8_unread_count_100k"] = unread_count_cell(
                    PYTHON, ctx.jwks, ctx.api_token, ctx.amqp_url, log, free_port(), args.unread_before_src,
                    stamp.replace("-", "_"))
                print("cell 8 (unread-count at 100,000 notifications):", json.dumps(c["8_unread_count_100k"]),
                      flush=True)
            if 9 in cells:
                c["9_report_30_days_100k_sessions"] = report_cell(
                    PYTHON, ctx.workdir, ctx.amqp_url, log, free_port(), stamp.replace("-", "_"))
                print("cell 9 (report of 30 days, 100,000 sessions):", json.dumps(c["9_report_30_days_100k_sessions"]),
                      flush=True)
            if 10 in cells:
                from many_sockets import many_sockets_cell

                c["10_many_sockets"] = many_sockets_cell(ctx, args.sockets, args.runs)
                print(f"cell 10 done {time.time() - started:.0f}s", flush=True)
            if 11 in cells:
                from notify_send import notify_send_cell

                c["11_notification_send"] = notify_send_cell(ctx, stamp.replace("-", "_"))
                print(f"cell 11 done {time.time() - started:.0f}s", flush=True)
            if 12 in cells:
                c["12_chat_path"] = chat_path_cell(PYTHON, ctx.workdir, ctx.amqp_url, log, stamp.replace("-", "_"))
                print("cell 12 (chat path) done:", c["12_chat_path"]["saturation_msgs_per_s"], "msgs/s", flush=True)
            if args.variants:
                c["6_python_variants_n2000"] = {
                    name: [saturation("python", ctx, *SATURATION[-1], env) for _ in range(args.runs)]
                    for name, env in VARIANTS
                }
                print(f"variants done {time.time() - started:.0f}s", flush=True)
        finally:
            drop_vhost(vhost)
    results["seconds"] = time.time() - started
    results["loadavg"] = [*results_loadavg, Path("/proc/loadavg").read_text().split()[:3]]  # before, after
    results["table"] = table(results["cells"])
    out = BENCH / "results" / f"{stamp}{'-' + args.label if args.label else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=1))
    print_table(results["table"])
    if "5_storm_floor_plain_aiohttp" in results["cells"]:
        runs = results["cells"]["5_storm_floor_plain_aiohttp"]
        print(f"disconnect storm 2000 on plain aiohttp (the floor): {fmt(median_of(runs, 'cpu_s'), 3)} s CPU "
              f"(median of {len(runs)}; all: {', '.join(fmt(r['cpu_s'], 3) for r in runs)})")
    if "6_python_variants_n2000" in results["cells"]:
        print("\nPython gateway variants, fan-out N=2000 (median):")
        for name, runs in results["cells"]["6_python_variants_n2000"].items():
            print(f"  {name:<28} {fmt(median_of(runs, 'msgs_per_s'), 0):>10} msgs/s "
                  f"{fmt(median_of(runs, 'cpu_us_per_msg'), 2):>8} us/msg")
    if "10_many_sockets" in results["cells"]:
        from many_sockets import print_cell

        print_cell(results["cells"]["10_many_sockets"])
    if "11_notification_send" in results["cells"]:
        from notify_send import print_cell as print_send

        print_send(results["cells"]["11_notification_send"])
    print(f"\n{results['seconds']:.0f} s in all; JSON: {out.relative_to(ROOT)}")


SATURATION = ((500, 100), (2000, 25))
"""Cell 1: (sockets, broadcasts) per run; `--variants` runs the last one."""


STORM_RUNS = 5
"""Cell 5 runs at least this often per server: a storm takes a few seconds, and single storms of the same code spread
by +-30% on a 2-core VM (0.23-0.42 s seen), more than any other cell."""

VARIANTS = (
    ("uvloop + orjson (default)", {}),
    ("asyncio loop + orjson", {"GATEWAY_EVENT_LOOP": "asyncio"}),
    ("uvloop + json module", {"BENCH_PACKET_JSON": "stdlib"}),
)

ROWS = [
    ("1_saturation_n500", "msgs_per_s", "fan-out N=500: delivered msgs/s", 0),
    ("1_saturation_n500", "cpu_us_per_msg", "fan-out N=500: server CPU us/msg", 2),
    ("1_saturation_n2000", "msgs_per_s", "fan-out N=2000: delivered msgs/s", 0),
    ("1_saturation_n2000", "cpu_us_per_msg", "fan-out N=2000: server CPU us/msg", 2),
    ("2_latency_n500_at20", "p50_ms", "latency N=500@20/s: p50 ms", 2),
    ("2_latency_n500_at20", "p99_ms", "latency N=500@20/s: p99 ms", 2),
    ("2_latency_n2000_at10", "p50_ms", "latency N=2000@10/s: p50 ms", 2),
    ("2_latency_n2000_at10", "p99_ms", "latency N=2000@10/s: p99 ms", 2),
    ("3_memory", "kib_per_conn", "memory per connection KiB (deflate offered)", 1),
    ("4_end_to_end_n500_at50", "p50_ms", "end-to-end N=500@50/s: p50 ms", 1),
    ("4_end_to_end_n500_at50", "p99_ms", "end-to-end N=500@50/s: p99 ms", 1),
    ("4_end_to_end_n500_at50", "last_socket_p99_ms", "end-to-end N=500@50/s: last-socket p99 ms", 1),
    ("5_disconnect_storm_n2000", "cpu_s", "disconnect storm 2000: server CPU s", 3),
]


def table(cells: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for cell, key, title, digits in ROWS:
        if cell not in cells:
            continue
        py, node = median_of(cells[cell]["python"], key), median_of(cells[cell]["node"], key)
        complete = all(r.get("delivered", 1) == r.get("expected", 1) and r.get("in_order", True)
                       for kind in ("python", "node") for r in cells[cell][kind])
        rows.append({"cell": title, "python": py, "node": node, "digits": digits,
                     "ratio": (py / node) if py is not None and node else None, "all_delivered_in_order": complete})
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    print(f"\n{'cell':<48} {'python':>12} {'node':>12} {'py/node':>8}  delivery")
    for r in rows:
        print(f"{r['cell']:<48} {fmt(r['python'], r['digits']):>12} {fmt(r['node'], r['digits']):>12} "
              f"{fmt(r['ratio'], 2):>8}  {'100% in order' if r['all_delivered_in_order'] else 'INCOMPLETE'}")


if __name__ == "__main__":
    main()
