"""ops/grafana/platform.json names only metrics that exist: the services' and the gateway's (collected from the
registries of apps built here, as their /metrics would expose them) and RabbitMQ's own (scraped from its
rabbitmq_prometheus endpoint, which scripts/infra.sh enables)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

DASHBOARD = Path(__file__).resolve().parents[2] / "ops" / "grafana" / "platform.json"
OUR_PREFIXES = ("http_", "outbox_", "amqp_", "gateway_")
METRIC = re.compile(r"\b((?:http|outbox|amqp|gateway|rabbitmq)_[a-z0-9_]+)\b")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}


def _expressions(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in _expressions(value)]
    if isinstance(node, list):
        return [e for item in node for e in _expressions(item)]
    return []


def _referenced() -> set[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    names = {name for expr in _expressions(dashboard) for name in METRIC.findall(expr)}
    names |= {m for var in dashboard["templating"]["list"] for m in METRIC.findall(str(var.get("query", "")))}
    return names


def _sample_names(registry) -> set[str]:  # type: ignore[no-untyped-def]
    names = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ()))
    return names


def _exposed_by_our_apps() -> set[str]:
    from auth_svc.main import create_app as auth_app
    from auth_svc.settings import Settings as AuthSettings
    from chat_svc.main import create_app as chat_app
    from chat_svc.settings import Settings as ChatSettings
    from notification_svc.main import create_app as notification_app
    from notification_svc.settings import Settings as NotificationSettings
    from realtime_gateway.main import GATEWAY_KEY
    from realtime_gateway.main import create_app as gateway_app
    from realtime_gateway.settings import Settings as GatewaySettings

    names: set[str] = set()
    for app in (auth_app(AuthSettings()), notification_app(NotificationSettings()), chat_app(ChatSettings())):
        names |= _sample_names(app.state.metrics.registry)
    names |= _sample_names(gateway_app(GatewaySettings(recovery_secret="test-secret"))[GATEWAY_KEY].metrics.registry)
    return names


def test_the_dashboard_names_only_metrics_the_services_and_the_gateway_expose():
    ours = {name for name in _referenced() if name.startswith(OUR_PREFIXES)}
    assert {"http_request_duration_seconds_bucket", "outbox_backlog", "gateway_delivery_latency_seconds_bucket",
            "gateway_recoveries_total", "amqp_queue_messages"} <= ours  # the parse found the panels
    missing = ours - _exposed_by_our_apps()
    assert not missing, f"ops/grafana/platform.json names metrics nobody exposes: {sorted(missing)}"


@pytest.mark.integration
async def test_the_dashboard_names_only_metrics_rabbitmq_exposes(amqp_url):
    host = urlsplit(amqp_url).hostname
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            text = (await client.get(f"http://{host}:15692/metrics")).text
    except httpx.TransportError as exc:
        raise AssertionError(f"RabbitMQ's Prometheus endpoint {host}:15692 does not answer ({exc}): "
                             "scripts/infra.sh enables the rabbitmq_prometheus plugin") from None
    exposed = {sample.name for family in text_string_to_metric_families(text) for sample in family.samples}
    rabbit = {name for name in _referenced() if name.startswith("rabbitmq_")}
    assert rabbit and not rabbit - exposed, f"not exposed by RabbitMQ: {sorted(rabbit - exposed)}"
