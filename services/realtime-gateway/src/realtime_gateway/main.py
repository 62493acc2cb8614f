"""Builds the gateway: a python-socketio `AsyncServer` on aiohttp at `/socket.io`, fed by RabbitMQ.

Start: `python -m realtime_gateway --host 127.0.0.1 --port 8010`. Nothing connects at import time: the broker
link, the consumer, the command client and presence start in the app's cleanup context.
"""

import logging
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from typing import Any

import socketio
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from contracts.events.payloads import ChatTypingRelayed
from contracts.events.registry import GATEWAY_CHAT_TYPING, new_envelope
from contracts.events.topology import PRESENCE_EXCHANGE
from contracts.socketio.events import CHAT_SEND_MESSAGE, CHAT_TYPING, NOTIFICATION_MARK_READ
from servicekit.amqp import Publisher
from servicekit.broker import Broker
from servicekit.commands import CommandClient
from servicekit.jwt import JwksVerifier
from servicekit.logging import configure_logging
from servicekit.requestid import echo_request_id

from realtime_gateway.clients.admission import AddressConnections, request_address
from realtime_gateway.clients.auth import token_of
from realtime_gateway.clients.commands import Commands
from realtime_gateway.clients.connections import Connections
from realtime_gateway.clients.presence import Presence
from realtime_gateway.clients.ratelimit import PerSocketLimiter, PerUserLimiter
from realtime_gateway.clients.sockets import SocketHandlers
from realtime_gateway.clients.token_expiry import TokenExpiry, expire_sockets, token_exp
from realtime_gateway.clients.typing_relay import ParticipantsCache, TypingRelay
from realtime_gateway.delivery.consumer import EventConsumer
from realtime_gateway.delivery.dedup import RecentIds
from realtime_gateway.delivery.emitter import Emitter
from realtime_gateway.delivery.stream import StreamReader
from realtime_gateway.ops.component_status import BrokerStatusWatcher, Hysteresis
from realtime_gateway.ops.current_status import tell_current_status
from realtime_gateway.ops.drain import Drain, InFlight
from realtime_gateway.ops.health import SERVICE_NAME, HealthSources, add_routes
from realtime_gateway.ops.metrics import Metrics
from realtime_gateway.ops.service_status import ServiceStatusWatcher
from realtime_gateway.settings import Settings
from realtime_gateway.transport.coalesced_writes import WRITES
from realtime_gateway.transport.compression import set_websocket_compression
from realtime_gateway.transport.engineio_requests import engineio_request_rules
from realtime_gateway.transport.fanout import FanOutManager, OrjsonCodec
from realtime_gateway.transport.fast_handshake import FastHandshakeRunner, FastHandshakes
from realtime_gateway.transport.protocol_guard import client_address, screen_polling_requests
from realtime_gateway.transport.recovery import DEV_SECRET, PidCodec, RecoveringServer, Recovery
from realtime_gateway.transport.request_gates import gated

log = logging.getLogger(__name__)

__all__ = ["GATEWAY_KEY", "SERVICE_NAME", "Gateway", "create_app", "gateway_runner", "runner_options"]


@dataclass
class Gateway:
    """Everything one app holds (tests reach it through `app[GATEWAY_KEY]`)."""

    settings: Settings
    gateway_id: str
    sio: socketio.AsyncServer
    broker: Broker
    connections: Connections
    presence: Presence
    metrics: Metrics
    verifier: JwksVerifier
    owns_verifier: bool
    consumer: EventConsumer
    drain: Drain
    token_expiry: TokenExpiry
    command_client: CommandClient | None = field(default=None)
    addresses: AddressConnections | None = field(default=None)
    status: BrokerStatusWatcher | None = field(default=None)
    services: ServiceStatusWatcher | None = field(default=None)
    handshakes: FastHandshakes | None = field(default=None)


GATEWAY_KEY = web.AppKey("gateway", Gateway)


def create_sio(settings: Settings) -> socketio.AsyncServer:
    # transport/fanout.py: broadcasts written once per frame straight to websockets, a disconnect index, slow consumers
    # bounded; orjson for packet JSON.
    WRITES.enabled = settings.coalesce_writes  # the process's one instance (transport/coalesced_writes.py)
    manager = FanOutManager(
        buffer_limit=settings.send_buffer_limit_bytes, queue_limit=settings.send_queue_limit,
        fast_path=settings.fanout_fast_path,
    )
    sio = RecoveringServer(
        async_mode="aiohttp", cors_allowed_origins=settings.cors_allowed_origins, transports=["polling", "websocket"],
        client_manager=manager, json=OrjsonCodec(),
        connect_timeout=settings.connect_timeout_seconds, protocol_log_interval=settings.protocol_log_interval_seconds,
        lean_sessions=settings.lean_websocket_sessions,
    )
    set_websocket_compression(
        sio, settings.websocket_compression, on_open=manager.websocket_opened, on_close=manager.websocket_closed,
        guard=sio.guard, lean=settings.lean_websocket_sessions, buffer_limit=settings.send_buffer_limit_bytes,
        detached=settings.detached_websockets,
    )
    screen_polling_requests(sio, sio.guard)
    return sio


def runner_options(settings: Settings) -> dict[str, Any]:
    """`web.AppRunner(app, **runner_options(settings))`: aiohttp closes a connection that has sent no complete
    request for `http_idle_timeout_seconds` (a fresh TCP connection that sends nothing, a slow request head, an
    idle keep-alive connection between requests; not an open WebSocket or a pending long-poll). aiohttp's access
    logger (an object per TCP connection, a check per request) only at DEBUG, where its lines are shown."""
    options: dict[str, Any] = {"keepalive_timeout": settings.http_idle_timeout_seconds}
    if settings.log_level != "DEBUG":
        options["access_log"] = None
    return options


def gateway_site(runner: web.AppRunner, settings: Settings, host: str | None = None, port: int | None = None,
                 ) -> web.TCPSite:
    """The listening site of a gateway: `settings.host` / `settings.port` unless given, with
    `settings.listen_backlog` (`GATEWAY_LISTEN_BACKLOG`) as the listen backlog."""
    return web.TCPSite(runner, settings.host if host is None else host, settings.port if port is None else port,
                       backlog=settings.listen_backlog)


def gateway_runner(app: web.Application, **kwargs: Any) -> web.AppRunner:
    """The runner every gateway is served by (`web.AppRunner` arguments): with `GATEWAY_FAST_HANDSHAKE`, its
    connections start on the fast handshake path (`transport/fast_handshake.py`)."""
    return FastHandshakeRunner(app, app[GATEWAY_KEY].handshakes, **kwargs)


def create_app(settings: Settings | None = None, *, jwt_verifier: JwksVerifier | None = None) -> web.Application:
    settings = settings or Settings()
    configure_logging(SERVICE_NAME, settings.log_level, settings.log_format)
    # aiohttp's access log writes one INFO line per finished request: per long-poll request, and per WebSocket
    # at its disconnect (a storm of 2,000 disconnects was 2,000 lines). Only at DEBUG here.
    access_level = logging.DEBUG if settings.log_level == "DEBUG" else logging.WARNING
    logging.getLogger("aiohttp.access").setLevel(access_level)
    gateway_id = settings.resolved_gateway_id()
    sio = create_sio(settings)
    connections = Connections()
    metrics = Metrics(lambda: connections.sockets)
    metrics.watch_fanout(sio.manager, WRITES)
    sio.guard.count = lambda kind: metrics.protocol_violations.labels(kind).inc()
    emitter = Emitter(sio, metrics)
    participants = ParticipantsCache(settings.participants_cache_size)
    consumer = EventConsumer(emitter, participants, RecentIds(settings.dedup_window), metrics)

    async def start_command_client(connection: AbstractRobustConnection, publisher: Publisher) -> None:
        client = CommandClient(connection, client_id=gateway_id, timeout=settings.command_timeout_seconds,
                               batch_max=settings.command_batch_max if settings.command_batch else 1)
        await client.start()
        gateway.command_client = client

    def emit_status(event: str, data: dict[str, object], rooms: list[str]) -> Awaitable[None]:
        return emitter.emit(event, data, rooms)

    services = ServiceStatusWatcher(
        settings.status_services, lambda: broker.connected, emit_status, settings.service_degraded_after_seconds,
        settings.service_operational_after_seconds, settings.status_check_seconds,
        startup_grace=settings.service_startup_grace_seconds,
    )
    broker = Broker(
        settings.amqp_url, name=gateway_id,
        on_connect=[
            consumer.on_connect(gateway_id, settings.consumer_prefetch, settings.stream_max_age_seconds),
            start_command_client,
            services.on_connect(gateway_id),
        ],
    )
    presence = Presence(broker, gateway_id, connections.admin_sockets, settings.presence_heartbeat_seconds)
    verifier = jwt_verifier or settings.jwt_verifier()
    in_flight = InFlight()
    token_expiry = TokenExpiry(lambda due: expire_sockets(sio, due))
    drain = Drain(sio, connections, in_flight, settings.drain_seconds, settings.command_timeout_seconds + 1)
    gateway = Gateway(
        settings, gateway_id, sio, broker, connections, presence, metrics, verifier,
        owns_verifier=jwt_verifier is None, consumer=consumer, drain=drain, token_expiry=token_expiry,
    )
    recovery = Recovery(
        PidCodec(_recovery_secret(settings)), consumer, emitter,
        StreamReader(lambda: broker.connection if broker.connected else None, wait_connected=broker.wait_ready),
        settings.recovery_window_seconds, settings.recovery_replay_timeout_seconds,
    )
    metrics.watch_recovery(recovery)
    metrics.watch_commands(lambda: gateway.command_client)
    gateway.status = status = BrokerStatusWatcher(
        lambda: broker.connected, emit_status,
        Hysteresis(settings.status_degraded_after_seconds, settings.status_operational_after_seconds),
        settings.status_check_seconds,
    )
    gateway.services = services

    commands = Commands(lambda: gateway.command_client, metrics, settings.command_timeout_seconds)
    typing_throttle = PerSocketLimiter.one_per(settings.typing_interval_seconds)
    async def relay_typing(event: ChatTypingRelayed) -> None:
        envelope = new_envelope(GATEWAY_CHAT_TYPING, SERVICE_NAME, event, event.typing.session_id)
        await broker.publish(
            PRESENCE_EXCHANGE, GATEWAY_CHAT_TYPING, envelope.to_bytes(), message_id=str(envelope.event_id),
            message_type=GATEWAY_CHAT_TYPING, persistent=False,
        )

    typing = TypingRelay(relay_typing, participants, commands.session_participants, typing_throttle)
    SocketHandlers(
        sio, verifier, connections,
        PerSocketLimiter(settings.rate_limit_per_second, settings.rate_limit_burst),
        {
            NOTIFICATION_MARK_READ: commands.mark_read,
            CHAT_SEND_MESSAGE: commands.send_message,
            CHAT_TYPING: typing.handle,
        },
        metrics, presence.admin_changed, [typing_throttle.forget, emitter.release, token_expiry.forget], recovery,
        in_flight, on_connected=lambda sid, auth: _watch_token(token_expiry, verifier, sid, auth),
        user_limiter=PerUserLimiter(settings.user_rate_limit_per_second, settings.user_rate_limit_burst),
        max_sockets_per_user=settings.max_sockets_per_user, user_changed=presence.user_changed,
        after_accept=tell_current_status(
            lambda: [*filter(None, [status.current()]), *services.current()], emit_status),
    ).register()
    # Engine.IO connections per client address (clients/admission.py): counted at Engine.IO connect / disconnect.
    addresses = AddressConnections(
        settings.max_connections_per_address, settings.trusted_proxies(),
        on_refused=metrics.refused.labels("too_many_connections_per_address").inc,
    )
    addresses.install(sio)
    gateway.addresses = addresses
    trusted = settings.trusted_proxies()
    sio.guard.address_of = lambda environ: (
        request_address(environ["aiohttp.request"], trusted) if "aiohttp.request" in environ
        else client_address(environ)
    )

    if settings.fast_handshake and settings.lean_websocket_sessions and settings.detached_websockets:
        gateway.handshakes = FastHandshakes(
            sio.eio, draining=lambda: drain.draining, address_count=addresses.count,
            address_limit=lambda: addresses.limit, trusted=trusted, compression=settings.websocket_compression,
            idle_timeout=settings.http_idle_timeout_seconds, on_served=metrics.fast_handshakes.inc,
        )

    app = web.Application(middlewares=[gated([drain.gate, engineio_request_rules(sio), addresses.gate])])
    app[GATEWAY_KEY] = gateway
    sio.attach(app, socketio_path="/socket.io")
    add_routes(app, HealthSources(
        gateway_id, connections, lambda: broker.connected, metrics, lambda: drain.draining,
        consumer.position_known.is_set, services.statuses,
    ))
    app.cleanup_ctx.append(_lifespan)
    app.on_shutdown.append(_disconnect_everyone)
    app.on_response_prepare.append(echo_request_id)
    return app


def _watch_token(token_expiry: TokenExpiry, verifier: JwksVerifier, sid: str, auth: object) -> None:
    # the handshake just verified this token: its `exp` is in the verifier's cache (no second decode)
    exp = verifier.verified_expiry(token_of(auth))
    if exp is None:
        exp = token_exp(auth)
    if exp is not None:
        token_expiry.watch(sid, exp)


def _recovery_secret(settings: Settings) -> str:
    if settings.recovery_secret is not None and settings.recovery_secret.get_secret_value():
        return settings.recovery_secret.get_secret_value()
    log.warning(
        "GATEWAY_RECOVERY_SECRET is not set: using the DEVELOPMENT recovery key. Anyone who knows it can forge "
        "recovery ids; set the same secret on every gateway of a deployment."
    )
    return DEV_SECRET


async def _lifespan(app: web.Application) -> AsyncIterator[None]:
    gateway = app[GATEWAY_KEY]
    log.info("gateway %s starting", gateway.gateway_id)
    await gateway.broker.start()
    await gateway.presence.start()
    for watch in (gateway.status, gateway.services):
        if watch is not None:
            watch.start()
    yield
    for watch in (gateway.status, gateway.services):
        if watch is not None:
            await watch.stop()
    gateway.token_expiry.close()
    await gateway.presence.stop()
    await gateway.broker.close()
    if gateway.owns_verifier:
        await gateway.verifier.aclose()


async def _disconnect_everyone(app: web.Application) -> None:
    """Before the server stops: close every socket (its admins' presence drops to 0) and stop Socket.IO.

    Sockets are closed at the Engine.IO level, like a drain: the clients reconnect by themselves (to another
    gateway, or to this one once it is back) and recover their sessions."""
    gateway = app[GATEWAY_KEY]
    await gateway.drain.close_all()
    await gateway.sio.shutdown()
