"""Cell 11: saturation of `POST /api/v4/notifications/send` (targeted: one admin, online on the Python gateway).

The path of cell 4 (notification-svc -> its transaction with the outbox row -> outbox relay -> RabbitMQ ->
gateway -> the admin's socket), with ONE socket and `target_user_id` set (the gateway pushes `notification:new` to
that admin), at offered rates `RATES` (requests per second, open loop: a request leaves at its time whether or not
earlier ones were answered), `SECONDS` each after `WARM_UP` seconds of the same load. Per step:

- achieved: answered requests per second (201s over the span from the first POST to the last answer), errors;
- HTTP: p50/p99 from POST to its answer; end-to-end: p50/p99 from POST to the socket's receipt;
- stages (p50): POST -> created_at (request parsing, auth, transaction start), created_at -> answer (the rest of the
  transaction, commit, the answer), created_at -> relay published (outbox relay), published -> socket;
- CPU (cores' worth) of notification-svc, the gateway and the load generator, and the box's idle share (the rest is
  PostgreSQL, RabbitMQ, the kernel, and whatever else the machine runs).

A step whose achieved rate falls below `KEEP_UP` of the offered one (or whose answers fail) is past saturation;
the sweep stops after the first such step. The saturation is the highest achieved rate of the sweep.

notification-svc runs as `bench/notification_host.py` (one uvicorn process, its own outbox relay; `NOTIFICATION_*`
settings from the environment), not pinned; the gateway is pinned to the server core, the generator to the load
core.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import datetime
from typing import Any

from run import Context, EndToEnd, box_cpu, cpu_seconds, pair, pct

RATES = tuple(int(r) for r in os.environ.get("BENCH_SEND_RATES", "100,250,500,750,1000,1250,1500").split(","))
"""Offered rates of the sweep (env ``BENCH_SEND_RATES``, comma-separated)."""
SECONDS = float(os.environ.get("BENCH_SEND_SECONDS", "4"))
"""Measured seconds per step (env ``BENCH_SEND_SECONDS``: longer steps for a profiler to attach)."""
WARM_UP = 1.0
KEEP_UP = 0.9
TARGET = 1
"""The admin who receives every notification (the generator's socket connects with admin 1's token)."""


def _post(e2e: EndToEnd, gen: Any, count: int, rate: float) -> dict[str, Any]:
    gen.call("reset", title_seq=True)
    t0 = time.time()
    gen.call("post", url=f"http://127.0.0.1:{e2e.port}/api/v4/notifications/send", token=e2e.ctx.api_token,
             count=count, rate=rate, target_user_id=TARGET)
    posted_s = time.time() - t0
    got = gen.call("wait", total=count, timeout_ms=30000)
    got["posted_s"] = posted_s
    return got


def relay_child(pid: int) -> int | None:
    """The outbox relay's own process under notification-svc (NOTIFICATION_RELAY_MODE=process), if it has one."""
    from pathlib import Path

    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            if b"servicekit.relay_process" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
    return None


def step(e2e: EndToEnd, server: Any, gen: Any, rate: float) -> dict[str, Any]:
    _post(e2e, gen, int(rate * WARM_UP), rate)
    count = int(rate * SECONDS)
    procs = {"gateway": server.proc.pid, "loadgen": gen.proc.pid, "notification-svc": e2e.proc.pid}
    if (relay := relay_child(e2e.proc.pid)) is not None:
        procs["notification-relay"] = relay  # its CPU is not in the parent's until the parent reaps it
    cpu0, box0, t0 = {k: cpu_seconds(pid) for k, pid in procs.items()}, box_cpu(), time.time()
    got = _post(e2e, gen, count, rate)
    wall, box1 = time.time() - t0, box_cpu()
    shares = {k: round((cpu_seconds(pid) - cpu0[k]) / wall, 3) for k, pid in procs.items()}
    shares["notification-svc+relay"] = round(shares["notification-svc"] + shares.get("notification-relay", 0), 3)
    shares["box_idle_share"] = round((box1[0] - box0[0]) / max(1e-9, box1[1] - box0[1]), 3)
    published = e2e.published_at()
    ok = [p for p in got["posted"] if p.get("status") == 201 and "created_at" in p]
    http_ms = [p["t_resp"] - p["t_post"] for p in ok]
    api, commit, relay, deliver = [], [], [], []
    for p in ok:
        created = datetime.fromisoformat(p["created_at"]).timestamp() * 1000
        api.append(created - p["t_post"])
        commit.append(p["t_resp"] - created)
        pub = published.get(p["notification_id"])
        if pub is not None:
            relay.append(pub - created)
            if p["recv_p50"] is not None:
                deliver.append(p["recv_p50"] - pub)
    span_ms = (max(p["t_resp"] for p in ok) - min(p["t_post"] for p in ok)) if ok else 0
    return {
        "offered_per_s": rate, "requests": count, "answered_201": len(ok), "errors": count - len(ok),
        "error_statuses": dict(Counter(str(p.get("status")) for p in got["posted"] if p not in ok)),
        "achieved_per_s": len(ok) / (span_ms / 1000) if span_ms else 0,
        "delivered": got["received"], "expected": count,
        "http_p50_ms": pct(http_ms, 50), "http_p99_ms": pct(http_ms, 99),
        "e2e_p50_ms": got["e2e_p50"], "e2e_p99_ms": got["e2e_p99"],
        "stages_p50_ms": {"post->created_at": pct(api, 50), "created_at->response": pct(commit, 50),
                          "created_at->relay_published": pct(relay, 50), "published->socket": pct(deliver, 50)},
        "stages_p99_ms": {"post->created_at": pct(api, 99), "created_at->response": pct(commit, 99),
                          "created_at->relay_published": pct(relay, 99), "published->socket": pct(deliver, 99)},
        "cpu_cores": shares,
        "cpu_ms_per_send": {k: round(shares[k] * wall * 1000 / len(ok), 3) if ok else None
                            for k in ("notification-svc", "notification-svc+relay", "gateway", "loadgen")},
        "loadavg": open("/proc/loadavg").read().split()[:3],
    }


def notify_send_cell(ctx: Context, tag: str, rates: tuple[int, ...] = RATES) -> dict[str, Any]:
    e2e = EndToEnd(ctx, f"send_{tag}")
    steps: list[dict[str, Any]] = []
    try:
        with pair("python", ctx, amqp=ctx.amqp_url) as (server, gen):
            gen.connect(server, 1, [ctx.tokens[TARGET - 1]])
            time.sleep(0.3)
            for rate in rates:
                result = step(e2e, server, gen, rate)
                steps.append(result)
                print(f"  send {rate}/s: achieved {result['achieved_per_s']:.0f}/s, http p99 "
                      f"{result['http_p99_ms']}, e2e p50/p99 {result['e2e_p50_ms']}/{result['e2e_p99_ms']} ms, "
                      f"cpu {result['cpu_cores']}, cpu ms/send {result['cpu_ms_per_send']}, "
                      f"load {result['loadavg']}", flush=True)
                if result["errors"] or result["achieved_per_s"] < KEEP_UP * rate:
                    break
    finally:
        e2e.close()
    return {"steps": steps, "saturation_per_s": max((s["achieved_per_s"] for s in steps), default=0)}


def print_cell(cell: dict[str, Any]) -> None:
    from run import fmt

    print(f"\ncell 11: POST /api/v4/notifications/send, targeted, one admin online (saturation "
          f"{fmt(cell['saturation_per_s'], 0)}/s)")
    print(f"{'offered/s':>10} {'achieved/s':>11} {'errors':>7} {'http p50':>9} {'http p99':>9} {'e2e p50':>8} "
          f"{'e2e p99':>8}  cpu: notification-svc(+relay) / gateway / idle; notification-svc(+relay) ms/send; load")
    for s in cell["steps"]:
        cpu = s["cpu_cores"]
        print(f"{s['offered_per_s']:>10} {fmt(s['achieved_per_s'], 0):>11} {s['errors']:>7} "
              f"{fmt(s['http_p50_ms']):>9} {fmt(s['http_p99_ms']):>9} {fmt(s['e2e_p50_ms']):>8} "
              f"{fmt(s['e2e_p99_ms']):>8}  {cpu.get('notification-svc+relay', cpu['notification-svc'])} / {cpu['gateway']} / "
              f"{cpu['box_idle_share']}; {s.get('cpu_ms_per_send', {}).get('notification-svc+relay')}; "
              f"{' '.join(s['loadavg'])}")
