"""Prometheus metrics of one service, in the app's own registry (several apps may share a process in tests, and
the global registry refuses duplicate names).

    metrics = install_metrics(app, SERVICE, outbox_schema=SCHEMA, queues=[command_queue(SERVICE)])

gives the app `GET /metrics` with:
- `http_request_duration_seconds{method,route,status}`: a histogram per route TEMPLATE
  (`/api/v4/notifications/{notification_id}`), never per raw path; requests no route matched count as
  `route="unmatched"`, so a scan of random URLs cannot grow the series without bound;
- with `outbox_schema`: `outbox_backlog` (rows not yet published) and `outbox_oldest_unpublished_age_seconds`,
  read from the database at scrape time (`servicekit.outbox.backlog`) through `app.state.engine`;
- with `relay_process`: `outbox_relay_process_up` and `outbox_relay_process_restarts` (servicekit.relay_process);
- with `queues`: `amqp_queue_messages{queue}` / `amqp_queue_consumers{queue}` for each queue and its
  dead-letter queue `<queue>.dlq`, read by a passive declare on `app.state.broker`'s connection at scrape time
  (a consumer's lag is the depth of its queue; a DLQ's depth is what was dead-lettered and not yet looked at).

What cannot be read at scrape time (database or broker down, not started yet) is left out of that scrape and
logged at debug: the scrape itself always answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

try:
    from prometheus_client import CollectorRegistry, Gauge, Histogram, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_LATEST
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("servicekit.metrics needs prometheus-client: install platform-servicekit[metrics]") from exc

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from servicekit.relay_process import RelayProcess

log = logging.getLogger(__name__)

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCRAPE_TIMEOUT = 2.0
"""Seconds one scrape-time reading (database, broker) may take before it is left out of that scrape."""

Refresher = Callable[[], Awaitable[None]]


class ServiceMetrics:
    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        self.http_seconds = Histogram(
            "http_request_duration_seconds", "HTTP requests by method, route template and status.",
            ["method", "route", "status"], registry=self.registry, buckets=HTTP_BUCKETS,
        )
        self._refreshers: list[tuple[str, Refresher]] = []

    def on_scrape(self, name: str, refresh: Refresher) -> None:
        """Run `refresh` (which sets gauges) before every scrape; a failure leaves its gauges as they were."""
        self._refreshers.append((name, refresh))

    async def render(self) -> bytes:
        async def run(name: str, refresh: Refresher) -> None:
            try:
                await asyncio.wait_for(refresh(), SCRAPE_TIMEOUT)
            except Exception as exc:  # noqa: BLE001 - a metric we cannot read must not fail the scrape
                log.debug("metrics: could not read %s: %s", name, exc)

        await asyncio.gather(*(run(n, r) for n, r in self._refreshers))
        return generate_latest(self.registry)


class HttpMetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # an exception that escapes every handler
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.http_seconds.labels(scope.get("method", ""), template, str(status)).observe(
                time.perf_counter() - started)


def watch_outbox(metrics: ServiceMetrics, engine: Callable[[], Any], schema: str) -> None:
    """`outbox_backlog` and `outbox_oldest_unpublished_age_seconds` of `schema`, read through `engine()`."""
    from servicekit.outbox import backlog

    rows = Gauge("outbox_backlog", "Outbox rows not yet published.", registry=metrics.registry)
    age = Gauge("outbox_oldest_unpublished_age_seconds",
                "Age of the oldest unpublished outbox row (0 when none).", registry=metrics.registry)

    async def refresh() -> None:
        count, oldest = await backlog(engine(), schema)
        rows.set(count)
        age.set(oldest)

    metrics.on_scrape("outbox", refresh)


def watch_relay_process(metrics: ServiceMetrics, relay: Callable[[], RelayProcess]) -> None:
    """`outbox_relay_process_up` (1 while the relay's child process runs) and `outbox_relay_process_restarts` (since
    the service started) of a service whose relay runs in a process of its own (servicekit.relay_process), read from
    `relay()`'s supervisor: a relay that keeps dying shows as restarts climbing, not as a silent outbox backlog."""
    up = Gauge("outbox_relay_process_up", "1 while the outbox relay's child process runs, else 0.",
               registry=metrics.registry)
    restarts = Gauge("outbox_relay_process_restarts", "Times the outbox relay's child process was started again "
                     "after it ended, since the service started.", registry=metrics.registry)

    async def refresh() -> None:
        supervisor = relay()
        up.set(0 if supervisor.pid is None else 1)
        restarts.set(supervisor.restarts)

    metrics.on_scrape("relay_process", refresh)


def watch_queues(metrics: ServiceMetrics, connection: Callable[[], Any], queues: Iterable[str]) -> None:
    """Depth and consumers of each queue and its `.dlq`, by a passive declare on `connection()`'s channel."""
    from contracts.events.topology import dead_letter_queue

    names: list[str] = []
    for queue in queues:
        names += [queue, dead_letter_queue(queue)]
    depth = Gauge("amqp_queue_messages", "Messages waiting in a RabbitMQ queue (consumer lag; for a .dlq: "
                  "dead-lettered messages).", ["queue"], registry=metrics.registry)
    consumers = Gauge("amqp_queue_consumers", "Consumers of a RabbitMQ queue.", ["queue"], registry=metrics.registry)
    channels: dict[int, Any] = {}  # id(connection) -> its channel, reopened when closed

    async def refresh() -> None:
        conn = connection()
        channel = channels.get(id(conn))
        if channel is None or channel.is_closed:
            channels.clear()
            channel = channels[id(conn)] = await conn.channel()
        for name in names:
            try:
                queue = await channel.declare_queue(name, passive=True)
            except Exception as exc:  # noqa: BLE001 - not declared yet: the broker closed the channel
                channels.clear()
                with contextlib.suppress(Exception):
                    await channel.close()
                log.debug("metrics: queue %s: %s", name, exc)
                return
            result = queue.declaration_result
            depth.labels(name).set(result.message_count or 0)
            consumers.labels(name).set(result.consumer_count or 0)

    metrics.on_scrape("queues", refresh)


def install_metrics(
    app: Any, service: str, *, outbox_schema: str | None = None, queues: Sequence[str] = (),
    relay_process: bool = False,
) -> ServiceMetrics:
    """`GET /metrics` on a FastAPI app, the HTTP histogram middleware, and the outbox / queue gauges (read through
    `app.state.engine` and `app.state.broker`, which the lifespan sets; with `relay_process`, the relay child's
    gauges through `app.state.relay`). Kept on `app.state.metrics`."""
    metrics = app.state.metrics = ServiceMetrics(service)
    if outbox_schema is not None:
        watch_outbox(metrics, lambda: app.state.engine, outbox_schema)
    if relay_process:
        watch_relay_process(metrics, lambda: app.state.relay)
    if queues:
        watch_queues(metrics, lambda: app.state.broker.connection, queues)

    async def scrape(request: Request) -> Response:
        return Response(await metrics.render(), media_type=CONTENT_TYPE_LATEST)

    app.add_route("/metrics", scrape, methods=["GET"], include_in_schema=False)
    app.add_middleware(HttpMetricsMiddleware, metrics=metrics)
    return metrics
