"""Cell 10: 20,000 concurrent sockets on one server process (the Python gateway and its Node twin, alternately).

For each server, a fresh process pinned to the server core, and `GENERATORS` load generators (bench/native/loadgen.c,
or bench/node/loadgen.js with `BENCH_CONNECT_CLIENT`; pinned to the load core; a generator holds at most its own
file-descriptor limit of sockets) that:

1. connect `n` sockets, every one with its own token (`n` distinct admins, minted here from a throwaway key): the
   full handshake (TCP, WebSocket upgrade with permessage-deflate offered, Engine.IO open, Socket.IO CONNECT with
   the token, CONNECT reply), `CONCURRENCY` handshakes in flight per generator. The Python gateway verifies every
   token's Ed25519 signature (no token is seen twice, so its cache of verified tokens never answers); the Node
   twin verifies none (it has no auth). Reported: sockets per second and server CPU per connect.
2. memory: RSS after `BASELINE` sockets (and a warm-up broadcast) and after all `n`: KiB per connection.
3. `BROADCASTS` broadcasts of `notification:broadcast` to all `n` at `RATE` per second: p50/p99 of every delivery
   (send stamp in the payload to receipt), over all generators' samples.
4. the disconnect storm: every generator destroys its TCP connections at once; server CPU and wall time until the
   server counts no socket.

File descriptors: a process may hold at most its RLIMIT_NOFILE soft limit of them. `raise_fd_limit` lifts the soft
limit to the hard one in the bench process (inherited by the servers and generators it starts). When the hard limit
is below `n` plus the server's own descriptors (this container: 20,000 hard), `n` is lowered to what fits and the
result says so (`requested`, `n`, `fd_hard_limit`).
"""

from __future__ import annotations

import copy
import itertools
import os
import random
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from procs import stop_process
from run import BENCH, LOADGEN_CORE, Context, LoadGen, Server, cpu_seconds, pct, pinned, rss_bytes

GENERATORS = 2
CONCURRENCY = int(os.environ.get("BENCH_CONNECT_CONCURRENCY", "100"))
"""Handshakes in flight per generator."""
CLIENT = os.environ.get("BENCH_CONNECT_CLIENT", "native")
"""`native` (bench/native/loadgen.c, one epoll loop in C: a few microseconds of generator CPU per connect and per
frame, so the servers' core decides the connect rate and the broadcast's delivery times; the default from session
14), `ws` (Node's `ws` library, as sessions up to 13 measured) or `raw` (bench/node/raw_ws.js: the same handshake on
a bare Node TCP socket). With either Node client the generators' core ran out first (~700 us per connect)."""
BASELINE = 200
BROADCASTS, RATE = 5, 2.0
SERVER_FD_RESERVE = 64
"""Descriptors a server holds besides its sockets (listener, epoll, stdio, broker, log, eventfds)."""


def raise_fd_limit() -> tuple[int, int]:
    """Soft RLIMIT_NOFILE up to the hard limit (children inherit it); returns (soft, hard) after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def sockets_that_fit(requested: int) -> int:
    soft, _ = raise_fd_limit()
    return min(requested, soft - SERVER_FD_RESERVE)


def mint_context(ctx: Context, n: int) -> Context:
    """A copy of `ctx` with its own key and `n` distinct admin tokens (ids 1..n)."""
    from benchkeys import write_mint

    directory = ctx.workdir / f"many-{n}"
    directory.mkdir(exist_ok=True)
    many = copy.copy(ctx)
    many.jwks, many.tokens, many.api_token = write_mint(directory, n)
    return many


def build_native(workdir: Path) -> Path:
    """bench/native/loadgen.c compiled with the machine's C compiler (gcc or cc) into `workdir`."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    if not compiler:
        raise RuntimeError("BENCH_CONNECT_CLIENT=native needs a C compiler (gcc or cc); or set BENCH_CONNECT_CLIENT=ws")
    binary = workdir / "native-loadgen"
    subprocess.run([compiler, "-O2", "-Wall", "-o", str(binary), str(BENCH / "native" / "loadgen.c")], check=True)
    return binary


_SOURCE_NETS = itertools.count(random.randrange(250))
"""Each native generator's source /24: a fresh one per generator and run, away from the TIME_WAITs an earlier run
left on its ports (see bench/native/loadgen.c, "Source addresses")."""


class NativeLoadGen:
    """bench/native/loadgen.c on the load core: the commands of bench/node/loadgen.js that cell 10 uses, as the
    plain lines the C program reads (its tokens from a file)."""

    def __init__(self, ctx: Context, binary: Path, index: int) -> None:
        self.tokens_file = ctx.workdir / f"native-tokens-{index}.txt"
        net = next(_SOURCE_NETS)
        self.source = f"127.{1 + net // 250 % 250}.{1 + net % 250}"
        self.proc = subprocess.Popen(pinned(LOADGEN_CORE, [str(binary)]), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=ctx.log, text=True, bufsize=1)

    def line(self, cmd: str, args: dict[str, Any]) -> str:
        if cmd == "connect":
            self.tokens_file.write_text("\n".join(args["tokens"]) + "\n")
            return f"connect {args['url']} {self.tokens_file} {args['n']} {args['concurrency']} {self.source}"
        if cmd == "reset":
            return f"reset {int(bool(args.get('latency')))}"
        if cmd == "wait":
            return f"wait {args['total']} {args['timeout_ms']} {int(bool(args.get('samples')))}"
        if cmd in ("drop", "exit"):
            return cmd
        raise ValueError(f"the native load generator has no {cmd!r} command")

    def stop(self) -> None:
        stop_process(self.proc, grace=3)


class Generators:
    """Several load generators driven in parallel: the same command to each, answers read after all were sent."""

    def __init__(self, ctx: Context, count: int) -> None:
        if CLIENT == "native":
            binary = build_native(ctx.workdir)
            self.gens: list[LoadGen | NativeLoadGen] = [NativeLoadGen(ctx, binary, i) for i in range(count)]
        else:
            self.gens = [LoadGen(ctx) for _ in range(count)]

    def call_each(self, cmds: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        import json

        for gen, (cmd, args) in zip(self.gens, cmds, strict=True):
            assert gen.proc.stdin
            gen.proc.stdin.write(gen.line(cmd, args) + "\n")
            gen.proc.stdin.flush()
        answers = []
        for gen, (cmd, _) in zip(self.gens, cmds, strict=True):
            assert gen.proc.stdout
            line = gen.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"load generator died during {cmd}")
            answer = json.loads(line)
            if not answer.pop("ok"):
                raise RuntimeError(f"load generator: {cmd}: {answer['error']}")
            answers.append(answer)
        return answers

    def call_all(self, cmd: str, **args: Any) -> list[dict[str, Any]]:
        return self.call_each([(cmd, args)] * len(self.gens))

    def connect(self, server: Server, tokens: list[str]) -> list[dict[str, Any]]:
        """`tokens` split between the generators, one socket per token."""
        k = len(self.gens)
        return self.call_each([("connect", {"url": server.ws_url, "tokens": tokens[i::k], "n": len(tokens[i::k]),
                                            "concurrency": CONCURRENCY, "deflate": True,
                                            "raw": CLIENT == "raw"}) for i in range(k)])

    def cpu(self) -> float:
        """CPU seconds of every generator process (what the load core spent on the client side)."""
        return sum(cpu_seconds(gen.proc.pid) for gen in self.gens)

    def stop(self) -> None:
        for gen in self.gens:
            gen.stop()


def _wait_sockets(server: Server, want: int, timeout: float) -> int:
    deadline = time.time() + timeout
    while (left := server.sockets()) != want and time.time() < deadline:
        time.sleep(0.05)
    return left


def many_sockets(kind: str, ctx: Context, n: int) -> dict[str, Any]:
    """One server, `n` sockets: connect rate, memory per connection, broadcast p99, disconnect storm."""
    server = Server(kind, ctx)
    gens = Generators(ctx, GENERATORS)
    try:
        gens.connect(server, ctx.tokens[:BASELINE])
        _broadcast(server, gens, BASELINE, 2, 0, latency=False)
        time.sleep(0.5)
        rss0 = rss_bytes(server.proc.pid)
        cpu0, gen_cpu0, t0 = cpu_seconds(server.proc.pid), gens.cpu(), time.time()
        answers = gens.connect(server, ctx.tokens[BASELINE:n])
        wall = time.time() - t0
        connect_cpu, connect_gen_cpu = cpu_seconds(server.proc.pid) - cpu0, gens.cpu() - gen_cpu0
        connected = sum(a["connected"] for a in answers)  # each generator's sockets, the baseline's included
        slowest_ms = max(a["ms"] for a in answers)
        _broadcast(server, gens, connected, 1, 0, latency=False)  # warm: every socket's first frame
        time.sleep(1.0)
        rss1 = rss_bytes(server.proc.pid)
        cpu1, gen_cpu1 = cpu_seconds(server.proc.pid), gens.cpu()
        lat, received = _broadcast(server, gens, connected, BROADCASTS, RATE, latency=True)
        broadcast_cpu, broadcast_gen_cpu = cpu_seconds(server.proc.pid) - cpu1, gens.cpu() - gen_cpu1
        storm_cpu0, t_drop = cpu_seconds(server.proc.pid), time.time()
        gens.call_all("drop")
        left = _wait_sockets(server, 0, 120)
        storm_wall, storm_cpu = time.time() - t_drop, cpu_seconds(server.proc.pid) - storm_cpu0
        measured = connected - BASELINE
        return {
            "n": connected, "connect_retries": sum(a.get("retries", 0) for a in answers), "connect_per_s": measured / (slowest_ms / 1000), "connect_wall_s": round(wall, 2),
            "connect_cpu_us_per_socket": connect_cpu * 1e6 / max(1, measured),
            "generator_cpu_us_per_connect": connect_gen_cpu * 1e6 / max(1, measured),
            "rss_baseline_mib": rss0 / 2**20, "rss_at_n_mib": rss1 / 2**20,
            "kib_per_conn": (rss1 - rss0) / max(1, measured) / 1024,
            "broadcast_delivered": received, "broadcast_expected": BROADCASTS * connected,
            "broadcast_p50_ms": pct(lat, 50), "broadcast_p99_ms": pct(lat, 99), "broadcast_max_ms": max(lat or [0]),
            "broadcast_cpu_us_per_delivery": broadcast_cpu * 1e6 / max(1, received),
            "generator_cpu_us_per_delivery": broadcast_gen_cpu * 1e6 / max(1, received),
            "storm_cpu_s": storm_cpu, "storm_wall_s": storm_wall, "storm_left": left,
        }
    finally:
        gens.stop()
        server.stop()


def _broadcast(server: Server, gens: Generators, n: int, count: int, rate: float, *,
               latency: bool) -> tuple[list[float], int]:
    gens.call_all("reset", latency=latency)
    server.broadcast(count, rate)
    # Each generator waits for its own share; shares differ by at most one socket per generator.
    k = len(gens.gens)
    shares = [len(range(i, n, k)) for i in range(k)]
    answers = gens.call_each([("wait", {"total": count * s, "timeout_ms": int(count / max(rate, 1) * 1000) + 60000,
                                        "samples": latency}) for s in shares])
    server.wait_done()
    samples: list[float] = []
    for a in answers:
        samples.extend(a.get("lat", []))
    return samples, sum(a["received"] for a in answers)


def many_sockets_cell(ctx: Context, requested: int, runs: int) -> dict[str, Any]:
    """`runs` rounds, Python and Node alternating; `n` as many sockets as the descriptor limit allows."""
    from run import alternate

    n = sockets_that_fit(requested)
    many = mint_context(ctx, n)
    out: dict[str, Any] = alternate(runs, lambda kind: many_sockets(kind, many, n))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    out["limits"] = {"requested": requested, "n": n, "fd_soft_limit": soft, "fd_hard_limit": hard,
                     "generators": GENERATORS, "concurrency_per_generator": CONCURRENCY,
                     "client": CLIENT}
    return out


ROWS = [
    ("connect_per_s", "sockets/s connected (full handshake)", 0),
    ("connect_cpu_us_per_socket", "server CPU us per connect", 0),
    ("generator_cpu_us_per_connect", "load generators' CPU us per connect", 0),
    ("kib_per_conn", "memory per connection KiB", 1),
    ("broadcast_p50_ms", "broadcast to all: p50 ms", 1),
    ("broadcast_p99_ms", "broadcast to all: p99 ms", 1),
    ("broadcast_cpu_us_per_delivery", "broadcast: server CPU us/delivery", 2),
    ("generator_cpu_us_per_delivery", "broadcast: generators' CPU us/delivery", 2),
    ("storm_cpu_s", "disconnect storm: server CPU s", 3),
    ("storm_wall_s", "disconnect storm: wall s", 3),
]


def print_cell(cell: dict[str, Any]) -> None:
    from run import fmt, median_of

    limits = cell["limits"]
    print(f"\ncell 10: {limits['n']:,} sockets on one server process (requested {limits['requested']:,}; "
          f"RLIMIT_NOFILE {limits['fd_soft_limit']}/{limits['fd_hard_limit']}; client {limits.get('client', 'ws')})")
    print(f"{'':<40} {'python':>10} {'node':>10} {'py/node':>8}")
    for key, title, digits in ROWS:
        py, node = median_of(cell["python"], key), median_of(cell["node"], key)
        ratio = py / node if py is not None and node else None
        print(f"{title:<40} {fmt(py, digits):>10} {fmt(node, digits):>10} {fmt(ratio, 2):>8}")
    for kind in ("python", "node"):
        for r in cell[kind]:
            if r["broadcast_delivered"] != r["broadcast_expected"] or r["storm_left"]:
                print(f"  {kind}: INCOMPLETE run: {r}")
