"""Prometheus metrics of one gateway app, in the app's own registry (several apps may share a process in
tests, and the global registry refuses duplicate names)."""

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric

__all__ = ["CONTENT_TYPE_LATEST", "CommandCounts", "FanOutCounts", "Metrics", "WriteCounts"]


class FanOutCounts(Protocol):
    """What the fan-out counts (`transport.fanout.FanOutStats`), read at scrape time."""

    direct: int
    queued: int
    slow_consumers: int


class WriteCounts(Protocol):
    """What the coalesced socket writes count (`transport.coalesced_writes.CoalescedWrites`), read at scrape time."""

    frames: int
    calls: int


class CommandCounts(Protocol):
    """What the command client counts (`servicekit.commands.CommandClient`), read at scrape time."""

    commands_sent: int
    messages_sent: int


class Metrics:
    def __init__(self, connected_sockets: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.sockets = Gauge(
            "gateway_connected_sockets", "Authenticated Socket.IO connections on this gateway.",
            registry=self.registry,
        )
        self.sockets.set_function(connected_sockets)
        self.delivered = Counter(
            "gateway_events_delivered", "Socket.IO events emitted to local rooms, by event name.", ["event"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "gateway_command_seconds", "Client command round trips to the owning service, by command and outcome.",
            ["command", "outcome"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.refused = Counter(
            "gateway_handshakes_refused", "Refused Socket.IO handshakes, by refusal code.", ["code"],
            registry=self.registry,
        )
        self.protocol_violations = Counter(
            "gateway_protocol_violations", "Connections closed for breaking the protocol (binary, malformed, event "
            "before CONNECT) or sending no CONNECT in time, by kind.", ["kind"], registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "gateway_delivery_latency_seconds",
            "From a domain event's occurred_at (at the producing service) to its emit here, by event type.",
            ["event_type"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.fast_handshakes = Counter(
            "gateway_fast_handshakes", "Websocket handshakes served without aiohttp's request machinery "
            "(transport/fast_handshake.py).", registry=self.registry,
        )
        self.dead_lettered = Counter(
            "gateway_events_dead_lettered", "Domain events that broke the contract and were dead-lettered.",
            registry=self.registry,
        )

    def watch_fanout(self, manager: Any, writes: WriteCounts | None = None) -> None:
        """`gateway_fanout_packets_total{path}` (direct frames / queued packets) and
        `gateway_slow_consumers_disconnected_total`, read from `transport.fanout.FanOutManager.stats` at scrape
        time; with `writes` (`transport.coalesced_writes.WRITES`), `gateway_socket_frames_total` and
        `gateway_socket_write_calls_total`: their ratio is what coalescing a socket's frames saves."""
        found = getattr(manager, "stats", None)
        if found is None:
            return
        stats: FanOutCounts = found

        class FanOutCollector:
            def collect(self) -> Iterator[Metric]:
                packets = CounterMetricFamily(
                    "gateway_fanout_packets", "Broadcast packets by path: written directly, or queued (normal path).",
                    labels=["path"],
                )
                packets.add_metric(["direct"], stats.direct)
                packets.add_metric(["queued"], stats.queued)
                yield packets
                yield CounterMetricFamily(
                    "gateway_slow_consumers_disconnected", "Sockets disconnected because they stopped reading.",
                    value=stats.slow_consumers,
                )
                if writes is not None:
                    yield CounterMetricFamily(
                        "gateway_socket_frames", "Frames written directly to sockets (fan-out and pushed writes).",
                        value=writes.frames,
                    )
                    yield CounterMetricFamily(
                        "gateway_socket_write_calls", "transport.write calls that carried them (frames of one loop "
                        "turn to one socket go in one call).", value=writes.calls,
                    )

        self.registry.register(FanOutCollector())

    def watch_commands(self, client: Callable[[], CommandCounts | None]) -> None:
        """`gateway_commands_sent_total` and `gateway_command_messages_sent_total`, read from the current command client
        at scrape time: their ratio is the commands carried per AMQP message (`GATEWAY_COMMAND_BATCH`). A broker
        reconnect makes a new client whose counts start again (a counter reset, as Prometheus's `rate()` reads it)."""

        class CommandCollector:
            def collect(self) -> Iterator[Metric]:
                current = client()
                if current is None:
                    return
                yield CounterMetricFamily(
                    "gateway_commands_sent", "Commands sent to the services (chat:send_message and the other "
                    "socket commands).", value=current.commands_sent,
                )
                yield CounterMetricFamily(
                    "gateway_command_messages_sent", "AMQP messages that carried them (the commands of one loop pass "
                    "for one service go in one batch message).", value=current.messages_sent,
                )

        self.registry.register(CommandCollector())

    def watch_recovery(self, recovery: Any) -> None:
        """`gateway_recoveries_total{outcome}` and `gateway_recovery_replayed_events_total`, read from
        `transport.recovery.Recovery` at scrape time."""

        class RecoveryCollector:
            def collect(self) -> Iterator[Metric]:
                outcomes = CounterMetricFamily(
                    "gateway_recoveries", "Reconnections that asked for connection state recovery, by outcome.",
                    labels=["outcome"],
                )
                for outcome in ("recovered", "not_recovered", "rejected_pid"):
                    outcomes.add_metric([outcome], recovery.outcomes[outcome])
                yield outcomes
                yield CounterMetricFamily(
                    "gateway_recovery_replayed_events", "Events sent to recovering sockets in replays.",
                    value=recovery.replayed,
                )

        self.registry.register(RecoveryCollector())

    def render(self) -> bytes:
        return generate_latest(self.registry)


class Labelled:
    """`metric.labels(*values)`, looked up once per distinct label values and kept: the hot paths (every emit,
    every delivered event, every command) skip prometheus' own lookup (a lock and a tuple of strings per call).
    Only for metrics whose label values are a small, closed set (event names, command names, ack codes)."""

    def __init__(self, metric: Any) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child
