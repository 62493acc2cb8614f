"""auth-svc's /metrics and X-Request-ID."""

import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.integration


async def test_metrics_has_a_request_histogram_for_the_login_route_after_a_login(client):
    response = await client.post("/api/v4/auth/login", json={"username": "nobody-metrics", "password": "x" * 12},
                                 headers={"X-Request-ID": "auth-metrics-1"})
    assert response.headers["x-request-id"] == "auth-metrics-1"
    text = (await client.get("/metrics")).text
    counts = {(s.labels["route"], s.labels["status"]) for f in text_string_to_metric_families(text)
              for s in f.samples if s.name == "http_request_duration_seconds_count"}
    assert ("/api/v4/auth/login", str(response.status_code)) in counts
