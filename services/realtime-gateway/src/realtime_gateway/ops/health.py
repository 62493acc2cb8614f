"""`GET /health` (JSON; 503 while the broker link is down, before the event stream's position is known, and
while draining; `services` is what this gateway reports about the platform services, informative only) and
`GET /metrics` (Prometheus text)."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aiohttp import web

from realtime_gateway.clients.connections import Connections
from realtime_gateway.ops.metrics import CONTENT_TYPE_LATEST, Metrics

SERVICE_NAME = "realtime-gateway"


@dataclass
class HealthSources:
    gateway_id: str
    connections: Connections
    broker_connected: Callable[[], bool]
    metrics: Metrics
    draining: Callable[[], bool] = lambda: False
    stream_ready: Callable[[], bool] = lambda: True
    services: Callable[[], Mapping[str, str]] = dict
    """What this gateway last reported to its admins for each watched service (`operational`, `degraded`)."""

    def body(self) -> dict[str, object]:
        connected = self.broker_connected()
        ready = connected and self.stream_ready()
        return {
            "status": "draining" if self.draining() else "ok" if ready else "degraded",
            "service": SERVICE_NAME,
            "gateway_id": self.gateway_id,
            "websocket": {
                "connected_sockets": self.connections.sockets,
                "admins_online": self.connections.admins_online,
                "users_online": self.connections.users_online,
            },
            "broker": {"connected": connected},
            "stream": {"position_known": self.stream_ready()},
            "services": dict(self.services()),
        }


def add_routes(app: web.Application, sources: HealthSources) -> None:
    async def health(request: web.Request) -> web.Response:
        body = sources.body()
        return web.json_response(body, status=200 if body["status"] == "ok" else 503)

    async def metrics(request: web.Request) -> web.Response:
        response = web.Response(body=sources.metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
