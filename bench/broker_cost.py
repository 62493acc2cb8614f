"""What one message costs the RabbitMQ node, per kind of queue a chat message crosses (bench/chat_path.py prints the
census: the command into the classic queue `chat-svc.commands.classic`, the reply by direct reply-to, two
events into the stream `gateway.events.stream`), and what the alternatives would cost: measured as the node's
beam.smp CPU per message (bench/box_cpu.py) while this process publishes `--count` messages at `--rate` per second,
one at a time with a publisher confirm (as servicekit's Publisher does), and consumes them (ack, or no-ack for
replies), in a vhost of its own. Run it against a node of the bench's own (bench/own_servers.sh) so that nobody
else's traffic is in the number, and read it beside the idle cost printed first.

    BENCH_AMQP_URL=amqp://guest:guest@127.0.0.1:5682/ BENCH_AMQP_MANAGEMENT_URL=http://guest:guest@127.0.0.1:15682 \\
      .venv/bin/python bench/broker_cost.py --rate 200 --count 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from box_cpu import cpu_seconds, listener_pid

BODY = json.dumps({"command": "chat.send_message", "payload": {"session_id": 1, "content": "x" * 60}}).encode()

VARIANTS: dict[str, dict[str, Any]] = {
    "quorum (as chat-svc.commands before issue 20), transient messages with a TTL": {
        "arguments": {"x-queue-type": "quorum"}, "durable": True, "persistent": False, "expiration": 5},
    "classic durable, transient messages with a TTL": {
        "arguments": {}, "durable": True, "persistent": False, "expiration": 5},
    "classic durable, queue version 2 (as <service>.commands.classic), transient messages with a TTL": {
        "arguments": {"x-queue-version": 2}, "durable": True, "persistent": False, "expiration": 5},
    "classic non-durable (as the replies), consumer no-ack": {
        "arguments": {}, "durable": False, "persistent": False, "no_ack": True},
    "stream (as gateway.events.stream), persistent, consumer acks": {
        "arguments": {"x-queue-type": "stream"}, "durable": True, "persistent": True, "stream": True},
    "classic durable, persistent, consumer acks": {
        "arguments": {}, "durable": True, "persistent": True},
    "stream, persistent, published 2 at a time (a chat message's two events together)": {
        "arguments": {"x-queue-type": "stream"}, "durable": True, "persistent": True, "stream": True, "batch": 2},
    "stream, persistent, published 10 at a time": {
        "arguments": {"x-queue-type": "stream"}, "durable": True, "persistent": True, "stream": True, "batch": 10},
    "quorum, transient messages with a TTL, published 10 at a time": {
        "arguments": {"x-queue-type": "quorum"}, "durable": True, "persistent": False, "expiration": 5, "batch": 10},
}
"""`batch`: that many messages published at once (their confirms awaited together) every `batch / rate` seconds."""


async def _variant(url: str, name: str, spec: dict[str, Any], rate: float, count: int, pid: int) -> dict[str, Any]:
    """`count` messages into one queue of the kind `spec` names, consumed as `spec` says."""
    import aio_pika

    connection = await aio_pika.connect(url)
    try:
        publishing = await connection.channel(publisher_confirms=True)
        consuming = await connection.channel()
        await consuming.set_qos(prefetch_count=64)
        got = 0
        done = asyncio.Event()

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal got
            if not spec.get("no_ack"):
                await message.ack()
            got += 1
            if got >= count:
                done.set()

        queue = await consuming.declare_queue(f"cost.{time.time_ns()}", durable=spec["durable"],
                                              arguments=spec["arguments"] or None)
        await queue.consume(on_message, no_ack=bool(spec.get("no_ack")),
                            arguments={"x-stream-offset": "next"} if spec.get("stream") else None)
        await asyncio.sleep(1)
        mode = aio_pika.DeliveryMode.PERSISTENT if spec.get("persistent") else aio_pika.DeliveryMode.NOT_PERSISTENT
        cpu0, t0 = cpu_seconds(pid) or 0.0, time.time()
        batch = spec.get("batch", 1)
        for i in range(0, count, batch):
            if (wait := t0 + i / rate - time.time()) > 0:
                await asyncio.sleep(wait)
            await asyncio.gather(*(publishing.default_exchange.publish(
                aio_pika.Message(BODY, delivery_mode=mode, expiration=spec.get("expiration")), queue.name)
                for _ in range(min(batch, count - i))))
        await asyncio.wait_for(done.wait(), 60)
        wall, cpu = time.time() - t0, (cpu_seconds(pid) or 0.0) - cpu0
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return {"variant": name, "messages": count, "rate": rate, "wall_s": round(wall, 2),
            "broker_cpu_ms_per_msg": round(cpu * 1000 / count, 3), "broker_cores": round(cpu / wall, 3)}


async def _round_trip(url: str, direct: bool, rate: float, count: int, pid: int) -> dict[str, Any]:
    """A command round trip as the gateway and chat-svc make it, minus the database: the caller publishes a
    request (confirmed) into a classic transient queue, the server consumes it (no-ack) and publishes the reply
    (confirmed) to the request's `reply_to`: the caller's exclusive queue, or with `direct` RabbitMQ's direct
    reply-to (`amq.rabbitmq.reply-to`: no queue, the reply goes straight to the caller's channel)."""
    import aio_pika

    connection = await aio_pika.connect(url)
    try:
        caller = await connection.channel(publisher_confirms=True)
        server_in = await connection.channel()
        server_out = await connection.channel(publisher_confirms=True)
        got = 0
        done = asyncio.Event()

        async def on_reply(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal got
            got += 1
            if got >= count:
                done.set()

        async def on_request(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await server_out.default_exchange.publish(aio_pika.Message(BODY, correlation_id=message.correlation_id),
                                                      message.reply_to or "")

        requests = await server_in.declare_queue(f"cost.requests.{time.time_ns()}", durable=False)
        await requests.consume(on_request, no_ack=True)
        if direct:
            reply_to = "amq.rabbitmq.reply-to"
            await (await caller.get_queue(reply_to, ensure=False)).consume(on_reply, no_ack=True)
        else:
            replies = await caller.declare_queue(f"cost.replies.{time.time_ns()}", exclusive=True, auto_delete=True)
            await replies.consume(on_reply, no_ack=True)
            reply_to = replies.name
        await asyncio.sleep(1)
        cpu0, t0 = cpu_seconds(pid) or 0.0, time.time()
        for i in range(count):
            if (wait := t0 + i / rate - time.time()) > 0:
                await asyncio.sleep(wait)
            await caller.default_exchange.publish(aio_pika.Message(BODY, correlation_id=str(i), reply_to=reply_to,
                                                                   expiration=5), requests.name)
        await asyncio.wait_for(done.wait(), 60)
        wall, cpu = time.time() - t0, (cpu_seconds(pid) or 0.0) - cpu0
        await requests.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    name = "round trip, reply by direct reply-to" if direct else "round trip, reply into an exclusive queue"
    return {"variant": name, "messages": count, "rate": rate, "wall_s": round(wall, 2),
            "broker_cpu_ms_per_msg": round(cpu * 1000 / count, 3), "broker_cores": round(cpu / wall, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200, help="messages per second, one at a time")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="each variant this many times, alternating")
    parser.add_argument("--only", default="", help="only the variants whose name contains this")
    args = parser.parse_args()
    from run import drop_vhost, ensure_vhost

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    vhost = f"bench-cost-{stamp}"
    url = ensure_vhost(vhost)
    pid = listener_pid(urlsplit(url).port or 5672)
    if pid is None:
        sys.exit("the broker's process is not visible here (another machine, or not readable by this user)")
    out: dict[str, Any] = {"timestamp": stamp, "broker_cmdline": Path(f"/proc/{pid}/cmdline").read_text()
                           .replace("\0", " ")[:400], "runs": []}
    try:
        cpu0 = cpu_seconds(pid) or 0.0
        time.sleep(5)
        out["idle_cores"] = round(((cpu_seconds(pid) or 0.0) - cpu0) / 5, 4)
        print(f"broker idle: {out['idle_cores']} cores; load {os.getloadavg()[0]:.2f}", flush=True)
        for _ in range(args.rounds):
            jobs = [_variant(url, name, spec, args.rate, args.count, pid) for name, spec in VARIANTS.items()
                    if args.only in name]
            if args.only in "round trip":
                jobs += [_round_trip(url, direct, args.rate, args.count, pid) for direct in (False, True)]
            for job in jobs:
                run = asyncio.run(job)
                run["loadavg"] = os.getloadavg()[0]
                out["runs"].append(run)
                print(f"  {run['variant']:<62} {run['broker_cpu_ms_per_msg']:6.3f} ms/msg ({run['broker_cores']} cores, "
                      f"load {run['loadavg']:.2f})", flush=True)
    finally:
        drop_vhost(vhost)
    path = BENCH / "results" / f"{stamp}-broker-cost.json"
    path.write_text(json.dumps(out, indent=1))
    print(f"JSON: {path.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
