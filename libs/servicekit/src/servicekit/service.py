"""One skeleton for every FastAPI service: ``build_service(...)`` returns the app with its whole lifespan.

A service's ``main.py`` declares what is its own (routers, command handlers, consumers, background tasks, a
start hook for its objects); everything else happens here, the same way for every service:

- at build: logging (JSON lines by default), the error handlers (``DomainError`` -> HTTP, servicekit.http),
  ``middlewares``, ``TrustedProxyMiddleware``, the API docs and an OpenAPI document that lists every route's errors
  (servicekit.apidocs, servicekit.openapi), the routers, ``/health``, ``/metrics`` (servicekit.metrics: per-route
  request histograms, outbox backlog, queue depths) and, outermost, the request id (servicekit.requestid);
- in the lifespan, in this order: the JWT verifier (unless given), the engine, migrations, the unit-of-work
  factory (``app.state.work``), the rate limiter, the service's ``start`` hook; then, for a service with an
  outbox, the RabbitMQ link (started in the background: the API answers while RabbitMQ is down, events wait
  in the outbox) carrying its consumers and its command server, and the outbox relay; the heartbeat (every
  service with ``HeartbeatSettings``, servicekit.heartbeat: a service without an outbox gets a RabbitMQ link for
  it alone); the transaction watch,
  retention and the service's tasks; finally the GC tuning. Shutdown undoes it in reverse.

``/health`` has one shape for every service: ``{"status", "service", "checks": {"database"[, "broker",
"outbox_relay"]}}``; ``broker`` and ``outbox_relay`` exist exactly when the service has an outbox.

``app.state`` after start: ``settings``, ``engine``, ``work``, ``jwt_verifier``, ``rate_limiter`` (with a
``rate_limits`` table), ``broker``, ``relay`` and ``relay_task`` (with an outbox; ``relay`` is the
``RelayProcess`` supervising the child when the relay runs in a process of its own), plus what ``start`` adds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from fastapi import APIRouter, FastAPI
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware

from servicekit.apidocs import install_docs
from servicekit.db import create_engine
from servicekit.depcache import install as install_depcache
from servicekit.forwarded import ForwardedSettings, TrustedProxyMiddleware
from servicekit.gctune import GcSettings, tune_gc
from servicekit.http import health_router, install_error_handlers
from servicekit.jwt import JwksVerifier, JwtSettings
from servicekit.logging import configure_logging
from servicekit.metrics import install_metrics
from servicekit.migrations import upgrade_to_head
from servicekit.openapi import install_openapi
from servicekit.ratelimit import RateLimiter
from servicekit.requestid import install_request_id
from servicekit.retention import Prune, PruneSettings, prune_forever, service_rules
from servicekit.tasks import stop_tasks
from servicekit.txwatch import TransactionWatch
from servicekit.uow import UnitsOfWork

if TYPE_CHECKING:
    from contracts.events.commands import CommandName

    from servicekit.broker import Broker, OnConnect
    from servicekit.commands import CommandHandler
    from servicekit.outbox import OutboxRelay
    from servicekit.relay_process import RelayProcess

log = logging.getLogger(__name__)

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
RelayMode = Literal["thread", "process", "inline"]


class ServiceSettings(ForwardedSettings):
    """What every FastAPI service is configured with (the service's env prefix applies)."""

    database_url: str = "postgresql+asyncpg://platform:platform@127.0.0.1:5432/platform"
    """The service's PostgreSQL (its own schema is created and migrated at start)."""
    log_level: LogLevel = "INFO"
    """Python log level of the service (case-insensitive)."""
    log_format: Literal["json", "text"] = "json"
    """Log lines as JSON objects (production, log shippers) or as readable text (`./scripts/run` sets text)."""

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class HeartbeatSettings(BaseSettings):
    """The RabbitMQ link every service has, if only for its heartbeat."""

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    """RabbitMQ; the service starts (and answers) while it is down and connects when it comes up."""
    heartbeat_seconds: float = Field(2.0, ge=0)
    """How often each process publishes its health verdict (the checks of its `/health`) for the gateways, which
    raise `system:status_change` for a service with no healthy process (GATEWAY_SERVICE_DEGRADED_AFTER_SECONDS);
    0 = never (the gateways then count this service as down, unless it is not in GATEWAY_STATUS_SERVICES)."""


class BrokerSettings(HeartbeatSettings):
    """The RabbitMQ link and the outbox relay of a service that publishes events."""

    publish_timeout: float = Field(5.0, gt=0)
    """Seconds to wait for the broker's confirm of one published event before retrying it."""
    broker_max_backoff: float = Field(5.0, gt=0)
    """Cap (seconds) of the wait between RabbitMQ connect attempts."""
    relay_poll_interval: float = Field(1.0, gt=0)
    """Seconds between outbox polls when no NOTIFY arrives."""
    relay_max_backoff: float = Field(5.0, gt=0)
    """Cap (seconds) of the relay's wait while the broker refuses events."""
    relay_mark_delay: float = Field(0.05, ge=0, le=1)
    """Seconds the relay lets broker confirms gather before marking them published. A commit of new events cuts it
    short, and its fetch marks them in the same statement: at 30-300 events/s, ~1 relay transaction per event
    instead of 1.5-2 with 0.005. Delays no event, only the marking (a leader that dies leaves at most this much of
    confirmed events to be sent again; consumers drop duplicates). 0: a marking UPDATE per wake-up."""
    relay_thread: bool | None = None
    """Older switch, read only when RELAY_MODE is unset: true = `thread`, false = `inline`."""
    relay_batch_events: bool = True
    """Publish consecutive outbox events of one round with the same routing key as ONE message, an event batch
    (contracts.events.batch), confirmed once: fewer AMQP messages for the relay, the broker and every consumer.
    Rolling deploy: every consumer (all services and gateways) must understand batches first; until then set false
    on the producers (one message per event, as before)."""
    relay_batch_max_events: int = Field(100, ge=1, le=1000)
    """Most events in one batch message (with ``relay_batch_events``)."""
    relay_batch_max_bytes: int = Field(256 * 1024, ge=1024, le=16 * 1024 * 1024)
    """Most bytes of event bodies in one batch message (with ``relay_batch_events``); a larger event goes alone."""
    relay_mode: RelayMode | None = None
    """Where the outbox relay runs: `process` = a child process of its own, supervised (restarted when it ends,
    stopped at shutdown; servicekit.relay_process): its CPU is not taken from the requests; `thread` = a thread of
    its own with its own loop and connections (servicekit.relay_thread): waits behind no request but shares the
    interpreter lock (a busy relay thread holds up the service's loop for up to the 5 ms switch interval at a
    time); `inline` = on the service's loop, where under load each of its steps waits behind the queued requests.
    Unset: RELAY_THREAD's choice if that is set, else the service's default (`process`: measured in cells 11 and 12,
    docs/SCALING.md). One leader per schema in every mode (an advisory lock)."""

    default_relay_mode: ClassVar[RelayMode] = "process"

    def relay_runs_in(self) -> RelayMode:
        """The relay mode in force (see `relay_mode`)."""
        if self.relay_mode is not None:
            return self.relay_mode
        if self.relay_thread is not None:
            return "thread" if self.relay_thread else "inline"
        return self.default_relay_mode


@dataclass(frozen=True)
class Tables:
    """The servicekit tables of a service's schema. No ``outbox``: the service publishes nothing (no broker,
    no relay); the others switch on idempotency (``UnitOfWork.once``), rate limits and their retention.
    ``own_retention``: rules for the service's own tables whose rows matter only for a while (servicekit.retention)."""

    outbox: Table | None = None
    idempotency_keys: Table | None = None
    processed_events: Table | None = None
    rate_limits: Table | None = None
    own_retention: tuple[Prune, ...] = ()


@dataclass
class Runtime:
    """What the lifespan has opened, handed to the service's hooks (``start``, ``commands``, ``consumers``,
    ``tasks``). ``state`` is ``app.state``: what ``start`` puts there, the other hooks find."""

    app: FastAPI
    settings: Any
    engine: AsyncEngine
    units: UnitsOfWork | None

    @property
    def state(self) -> Any:
        return self.app.state

    @property
    def work(self) -> UnitsOfWork:
        """The service's unit-of-work factory (only a service with an outbox has one)."""
        if self.units is None:
            raise RuntimeError("this service has no outbox, hence no unit of work: give build_service tables.outbox")
        return self.units


StartHook = Callable[[Runtime], AbstractAsyncContextManager[None]]
CommandsFactory = Callable[[Runtime], "Mapping[CommandName, CommandHandler]"]
ConsumerFactory = Callable[[Runtime], "OnConnect"]
TaskFactory = Callable[[Runtime], Coroutine[Any, Any, None]]


def build_service(
    name: str,
    settings: ServiceSettings,
    *,
    schema: str,
    migrations: Path,
    routers: Sequence[APIRouter],
    tables: Tables = Tables(),
    description: str = "",
    start: StartHook | None = None,
    commands: CommandsFactory | None = None,
    consumers: Sequence[ConsumerFactory] = (),
    tasks: Mapping[str, TaskFactory] | None = None,
    middlewares: Sequence[Middleware] = (),
    queues: Sequence[str] = (),
    jwt_verifier: JwksVerifier | None = None,
    docs_prefix: str | None = None,
) -> FastAPI:
    """The service's app. Nothing connects at build time; see the module docstring for what the lifespan does.

    ``tasks`` are named coroutines run for the app's lifetime (cancelled at shutdown); ``jwt_verifier``
    replaces the one ``settings`` describe (tests pass a ``TokenMint`` verifier; it is not closed here);
    ``queues`` are RabbitMQ queues of the service's consumers whose depth ``/metrics`` shows (the command queue
    is added by itself; each queue's `.dlq` is shown too). ``docs_prefix`` is where the API docs live
    (``<prefix>/docs``, ``<prefix>/openapi.json``): by default the first router's prefix, the service's path at
    the edge (servicekit.apidocs)."""
    configure_logging(name, settings.log_level, settings.log_format)
    install_depcache()  # FastAPI's dependency cache keys once per dependant, not per request (servicekit.depcache)
    publishes = tables.outbox is not None
    if publishes and not isinstance(settings, BrokerSettings):
        raise TypeError(f"{name} has an outbox: its settings must include servicekit.service.BrokerSettings")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running: list[asyncio.Task[None]] = []
        broker: Broker | None = None
        async with AsyncExitStack() as stack:
            if jwt_verifier is None and isinstance(settings, JwtSettings):
                app.state.jwt_verifier = settings.jwt_verifier()
                stack.push_async_callback(app.state.jwt_verifier.aclose)
            engine = create_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            await upgrade_to_head(engine, migrations, schema)
            work = None
            if tables.outbox is not None:
                work = UnitsOfWork(engine, outbox=tables.outbox, producer=name,
                                   idempotency_keys=tables.idempotency_keys)
            app.state.engine, app.state.work = engine, work
            if tables.rate_limits is not None:
                app.state.rate_limiter = RateLimiter(engine, tables.rate_limits)
            runtime = Runtime(app, settings, engine, work)
            if start is not None:
                await stack.enter_async_context(start(runtime))
            try:
                if publishes:
                    broker, relay, sink = _broker_and_relay(name, settings, schema, runtime, commands, consumers)
                    app.state.broker, app.state.relay = broker, relay
                    await broker.start()
                    app.state.relay_task = _run(running, _relay_runner(name, relay, sink), f"{name}-outbox-relay")
                if isinstance(settings, HeartbeatSettings) and settings.heartbeat_seconds > 0:
                    if broker is None:  # a service without an outbox has a link for its heartbeat alone
                        broker = _heartbeat_broker(name, settings)
                        await broker.start()
                    from servicekit.heartbeat import Heartbeat

                    heartbeat = Heartbeat(broker, name, _health_checks(app, publishes), settings.heartbeat_seconds)
                    _run(running, heartbeat.run(), f"{name}-heartbeat")
                # Names the task behind any transaction held open for seconds (it holds locks others wait on).
                _run(running, TransactionWatch(engine).run(), f"{name}-transaction-watch")
                rules: list[Prune] = service_rules(
                    settings, outbox=tables.outbox, idempotency_keys=tables.idempotency_keys,
                    processed_events=tables.processed_events, rate_limits=tables.rate_limits,
                    own=tables.own_retention,
                ) if isinstance(settings, PruneSettings) else []
                app.state.retention_rules = rules  # what this service prunes (servicekit.retention)
                if rules and isinstance(settings, PruneSettings):
                    _run(running, prune_forever(engine, rules, interval=settings.retention_interval_seconds),
                         f"{name}-retention")
                for task_name, task in (tasks or {}).items():
                    _run(running, task(runtime), f"{name}-{task_name}")
                if isinstance(settings, GcSettings):
                    tune_gc(settings.gc_gen0_threshold)  # after startup: what it built is frozen (servicekit.gctune)
                log.info("started")
                yield
            finally:
                await stop_tasks(running)
                if broker is not None:
                    await broker.close()

    # FastAPI's own /docs and /redoc load Swagger UI from a CDN: servicekit.apidocs serves it from local files.
    app = FastAPI(title=name, description=description, lifespan=lifespan, docs_url=None, redoc_url=None)
    install_openapi(app)
    app.state.settings = settings
    app.state.work = None
    if jwt_verifier is not None:
        app.state.jwt_verifier = jwt_verifier
    install_error_handlers(app)
    for middleware in reversed(middlewares):  # the first listed is the outermost of them
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies())
    install_docs(app, routers[0].prefix if docs_prefix is None else docs_prefix)
    for router in routers:
        app.include_router(router)
    app.include_router(health_router(name, _health_checks(app, publishes)))
    if commands is not None:
        from servicekit.commands import command_queue

        queues = [command_queue(name), *queues]
    watched = list(queues)
    install_metrics(app, name, outbox_schema=schema if publishes else None, queues=watched,
                    relay_process=publishes and isinstance(settings, BrokerSettings)
                    and settings.relay_runs_in() == "process")
    install_request_id(app)  # last: outermost, so every line of a request carries its id
    return app


def _run(running: list[asyncio.Task[None]], work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    task = asyncio.create_task(work, name=name)
    running.append(task)
    return task


def _broker_and_relay(
    name: str, settings: Any, schema: str, runtime: Runtime, commands: CommandsFactory | None,
    consumers: Sequence[ConsumerFactory],
) -> tuple[Broker, OutboxRelay | RelayProcess, Broker | None]:
    """The service's broker, its relay (or the supervisor of its relay process), and the relay's own broker when
    the relay has a thread of its own."""
    from servicekit.broker import Broker
    from servicekit.commands import serve_commands
    from servicekit.relay_process import RelayProcess, relay_config

    on_connect = [consumer(runtime) for consumer in consumers]
    if commands is not None:
        handlers = commands(runtime)

        async def command_server(connection: Any, publisher: Any) -> None:
            await serve_commands(connection, publisher, service=name, handlers=handlers)

        on_connect.append(command_server)
    broker = Broker(settings.amqp_url, name=name, on_connect=on_connect, publish_timeout=settings.publish_timeout,
                    max_backoff=settings.broker_max_backoff)
    config = relay_config(name, schema, settings)
    if settings.relay_runs_in() == "process":
        return broker, RelayProcess(config), None
    # On its own thread the relay publishes through a RabbitMQ link of its own: a connection belongs to one loop.
    sink = config.relay_broker() if settings.relay_runs_in() == "thread" else None
    return broker, config.outbox_relay(sink or broker), sink


async def _relay_runner(name: str, relay: OutboxRelay | RelayProcess, own_broker: Broker | None) -> None:
    """The relay until cancelled: in a child process, on its own thread with `own_broker`, or on this loop."""
    from servicekit.outbox import OutboxRelay

    if not isinstance(relay, OutboxRelay):
        await relay.run()
        return
    if own_broker is None:
        await relay.run()
        return
    from servicekit.relay_thread import RelayThread

    await RelayThread(relay, own_broker, name=name).run()


def _heartbeat_broker(name: str, settings: HeartbeatSettings) -> Broker:
    from servicekit.broker import Broker

    return Broker(settings.amqp_url, name=name)


def _health_checks(app: FastAPI, publishes: bool) -> dict[str, Callable[[], Awaitable[bool]]]:
    from servicekit.relay_process import RelayProcess

    async def database() -> bool:
        async with app.state.engine.connect() as conn:
            return (await conn.execute(text("SELECT 1"))).scalar() == 1

    async def broker() -> bool:
        return bool(app.state.broker.connected)

    async def outbox_relay() -> bool:
        if app.state.relay_task.done():
            return False
        relay = app.state.relay
        return relay.pid is not None if isinstance(relay, RelayProcess) else True  # a child process: is it running?

    if not publishes:
        return {"database": database}
    return {"database": database, "broker": broker, "outbox_relay": outbox_relay}
