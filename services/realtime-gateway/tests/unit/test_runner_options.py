"""main.runner_options: how every `web.AppRunner` of the gateway is built."""

from realtime_gateway.main import runner_options
from realtime_gateway.settings import Settings


def test_no_access_logger_is_made_per_connection_unless_the_gateway_logs_at_debug():
    # aiohttp builds an AccessLogger for every TCP connection when given one; its lines show only at DEBUG
    assert runner_options(Settings(log_level="INFO"))["access_log"] is None
    assert "access_log" not in runner_options(Settings(log_level="DEBUG"))


def test_idle_http_connections_are_closed_after_the_idle_timeout():
    assert runner_options(Settings(http_idle_timeout_seconds=7))["keepalive_timeout"] == 7
