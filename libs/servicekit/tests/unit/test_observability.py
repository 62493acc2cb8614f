"""JSON log lines with the ids in play, X-Request-ID at the HTTP boundary, and per-route request histograms."""

from __future__ import annotations

import io
import json
import logging

import httpx
from contracts.identity import Principal
from fastapi import FastAPI
from servicekit.http import CurrentPrincipal
from servicekit.logcontext import bind, request_id
from servicekit.logging import JsonFormatter, configure_logging
from servicekit.metrics import install_metrics
from servicekit.requestid import install_request_id
from servicekit_testing.metrics import samples

log = logging.getLogger("observability-test")


def _record(message: str = "sent %s", *args: object) -> logging.LogRecord:
    return logging.LogRecord("notification_svc.api", logging.INFO, __file__, 1, message, args or ("n1",), None)


def test_a_log_line_is_one_json_object_with_time_level_service_logger_message_and_the_bound_ids():
    record = _record()
    record.notification_id = 7
    with bind(request_id="req-1", event_id="ev-1", correlation_id=None, user_id=3):
        line = JsonFormatter("notification-svc").format(record)
    assert "\n" not in line
    fields = json.loads(line)
    assert fields["time"].endswith("+00:00") and fields["level"] == "INFO"
    assert (fields["service"], fields["logger"], fields["message"]) == ("notification-svc", "notification_svc.api", "sent n1")
    assert (fields["request_id"], fields["event_id"], fields["user_id"], fields["notification_id"]) == ("req-1", "ev-1", 3, 7)
    assert "correlation_id" not in fields  # ids not known are left out, not null


def test_a_traceback_stays_inside_the_one_json_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    fields = json.loads(JsonFormatter("svc").format(record))
    assert "ValueError: boom" in fields["exc_info"]


def test_bindings_end_with_their_block():
    with bind(request_id="outer"):
        with bind(request_id="inner", session_id=5):
            assert request_id() == "inner"
        assert request_id() == "outer"
    assert request_id() is None


def test_configure_logging_writes_json_lines_by_default():
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_logging("svc-json")
        [ours] = [h for h in root.handlers if h not in before]
        stream = io.StringIO()
        ours.setStream(stream)  # type: ignore[attr-defined]
        logging.getLogger("x.y").warning("hello")
        assert json.loads(stream.getvalue())["message"] == "hello"
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, object]:
        log.info("reading item")
        return {"item_id": item_id, "request_id": request_id()}

    install_metrics(app, "test-svc")
    install_request_id(app)
    return app


async def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_a_request_id_sent_by_the_caller_is_echoed_and_bound_in_the_log_lines_of_its_request(caplog):
    caplog.set_level(logging.INFO, "observability-test")
    async with await _client(_app()) as client:
        response = await client.get("/items/1", headers={"X-Request-ID": "edge-abc.123"})
    assert response.headers["x-request-id"] == "edge-abc.123"
    assert response.json()["request_id"] == "edge-abc.123"
    [record] = [r for r in caplog.records if r.getMessage() == "reading item"]
    assert json.loads(JsonFormatter("svc").format(record))["request_id"] == "edge-abc.123"


async def test_a_request_without_a_usable_id_gets_a_new_one_in_the_response():
    async with await _client(_app()) as client:
        missing = await client.get("/items/1")
        forged = await client.get("/items/1", headers={"X-Request-ID": 'x" injected=1'})
        errored = await client.get("/items/not-a-number")
    for response in (missing, forged, errored):
        rid = response.headers["x-request-id"]
        assert len(rid) == 32 and rid.isalnum()
    assert missing.headers["x-request-id"] != forged.headers["x-request-id"]
    assert errored.status_code == 422


async def test_metrics_has_a_request_histogram_per_route_template_and_status():
    async with await _client(_app()) as client:
        await client.get("/items/1")
        await client.get("/items/2")
        await client.get("/items/x")
        await client.get("/no/such/path/123")
        text = (await client.get("/metrics")).text
    counts = {(labels["route"], labels["status"]): value
              for labels, value in samples(text, "http_request_duration_seconds_count")}
    assert counts[("/items/{item_id}", "200")] == 2
    assert counts[("/items/{item_id}", "422")] == 1
    assert counts[("unmatched", "404")] == 1  # raw paths never become label values
    assert not any("/items/1" in route for route, _ in counts)


async def test_the_log_lines_of_an_authenticated_request_name_its_caller(caplog):
    class Verifier:
        async def verify(self, token: str | None) -> Principal:
            return Principal(user_id=42, user_type="admin", username="admin42")

    app = FastAPI()
    app.state.jwt_verifier = Verifier()

    @app.get("/mine")
    async def mine(principal: CurrentPrincipal) -> dict[str, object]:
        log.info("reading mine")
        return {}

    install_request_id(app)
    caplog.set_level(logging.INFO, "observability-test")
    async with await _client(app) as client:
        assert (await client.get("/mine", headers={"Authorization": "Bearer x"})).status_code == 200
    [record] = [r for r in caplog.records if r.getMessage() == "reading mine"]
    fields = json.loads(JsonFormatter("svc").format(record))
    assert fields["user_id"] == 42 and len(fields["request_id"]) == 32
    assert request_id() is None  # nothing outlives the request
