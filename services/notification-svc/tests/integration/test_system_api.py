"""System messages over HTTP: stored with ids, listed, one event each."""

import pytest
from contracts.events.payloads import SystemAlertRaised, SystemMaintenanceScheduled, SystemStatusChanged
from contracts.events.registry import SYSTEM_ALERT_RAISED, SYSTEM_MAINTENANCE_SCHEDULED, SYSTEM_STATUS_CHANGED
from contracts.events.topology import NOTIFICATION_EVENTS_EXCHANGE

from .conftest import error_fields, new_id, tap

ALERT = {"level": "critical", "title": "Disk almost full", "message": "db-1 at 95%"}
WINDOW = {
    "title": "Upgrade", "message": "Chat is read-only for 30 minutes",
    "starts_at": "2030-01-01T02:00:00.000+08:00", "ends_at": "2030-01-01T02:30:00Z", "audience": "all",
}


def of_type(event_type, check=lambda payload: True):
    return lambda e: e.envelope.event_type == event_type and check(e.payload)


async def test_raising_an_alert_stores_it_and_publishes_system_alert_raised(service):
    title = f"alert {new_id()}"
    async with tap(service.amqp_url) as events:
        response = await service.client.post("/api/v4/system/alerts", json={**ALERT, "title": title},
                                             headers=service.supervisor())
        [event] = await events.expect(1, of_type(SYSTEM_ALERT_RAISED, lambda p: p.alert.title == title))
    assert response.status_code == 201
    alert = response.json()
    assert alert["alert_id"] > 0 and alert["level"] == "critical" and alert["created_at"].endswith("+08:00")
    assert (event.exchange, event.routing_key) == (NOTIFICATION_EVENTS_EXCHANGE, SYSTEM_ALERT_RAISED)
    assert isinstance(event.payload, SystemAlertRaised) and event.payload.alert.model_dump(mode="json") == alert
    listed = (await service.client.get("/api/v4/system/alerts?page_size=100", headers=service.admin())).json()
    assert alert in listed["items"]


async def test_scheduling_maintenance_stores_the_window_and_publishes_it_with_its_audience(service):
    title = f"window {new_id()}"
    async with tap(service.amqp_url) as events:
        response = await service.client.post("/api/v4/system/maintenance", json={**WINDOW, "title": title},
                                             headers=service.supervisor())
        [event] = await events.expect(
            1, of_type(SYSTEM_MAINTENANCE_SCHEDULED, lambda p: p.maintenance.title == title)
        )
    assert response.status_code == 201
    window = response.json()
    assert window["audience"] == "all"
    assert (window["starts_at"], window["ends_at"]) == ("2030-01-01T02:00:00.000+08:00", "2030-01-01T10:30:00.000+08:00")
    assert isinstance(event.payload, SystemMaintenanceScheduled)
    assert event.payload.maintenance.model_dump(mode="json") == window
    listed = (await service.client.get("/api/v4/system/maintenance?page_size=100", headers=service.admin())).json()
    assert window in listed["items"]


async def test_a_status_change_is_published_and_the_latest_status_per_component_is_listed(service):
    component = f"chat-{new_id()}"
    async with tap(service.amqp_url) as events:
        for state in ("degraded", "operational"):
            response = await service.client.post(
                "/api/v4/system/status", json={"component": component, "status": state, "message": f"now {state}"},
                headers=service.admin(),
            )
            assert response.status_code == 201
        got = await events.expect(2, of_type(SYSTEM_STATUS_CHANGED, lambda p: p.status.component == component))
    assert [e.payload.status.status for e in got] == ["degraded", "operational"]
    assert all(isinstance(e.payload, SystemStatusChanged) and e.routing_key == SYSTEM_STATUS_CHANGED for e in got)
    current = (await service.client.get("/api/v4/system/status", headers=service.admin())).json()["items"]
    assert [s["status"] for s in current if s["component"] == component] == ["operational"]


async def test_an_idempotent_retry_of_an_alert_returns_the_first_one_and_publishes_once(service):
    headers = {**service.supervisor(), "Idempotency-Key": "alert-retry"}
    title = f"alert {new_id()}"
    async with tap(service.amqp_url) as events:
        first = await service.client.post("/api/v4/system/alerts", json={**ALERT, "title": title}, headers=headers)
        second = await service.client.post("/api/v4/system/alerts", json={**ALERT, "title": title}, headers=headers)
        got = await events.expect(1, of_type(SYSTEM_ALERT_RAISED, lambda p: p.alert.title == title), settle=0.8)
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert len(got) == 1


@pytest.mark.parametrize(
    ("path", "body"), [("/api/v4/system/alerts", ALERT), ("/api/v4/system/maintenance", WINDOW),
                       ("/api/v4/system/status", {"component": "chat", "status": "down", "message": "x"})],
)
async def test_only_admins_send_system_messages(service, path, body):
    response = await service.client.post(path, json=body, headers=service.user())
    assert response.status_code == 403


@pytest.mark.parametrize(("path", "body"), [("/api/v4/system/alerts", ALERT), ("/api/v4/system/maintenance", WINDOW)])
async def test_agents_may_not_raise_alerts_or_schedule_maintenance_only_supervisors(service, path, body):
    title = f"by an agent {new_id()}"
    response = await service.client.post(path, json={**body, "title": title}, headers=service.admin())
    listed = (await service.client.get(f"{path}?page_size=100", headers=service.admin())).json()["items"]
    assert (response.status_code, response.json()["error"]["code"]) == (403, "supervisors_only")
    assert title not in [item["title"] for item in listed]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v4/system/alerts", {**ALERT, "level": "panic"}, "level"),
        ("/api/v4/system/alerts", {**ALERT, "title": ""}, "title"),
        ("/api/v4/system/alerts", {"level": "info", "title": "t"}, "message"),
        ("/api/v4/system/maintenance", {**WINDOW, "ends_at": "2030-01-01T01:00:00+08:00"}, "ends_at"),
        ("/api/v4/system/maintenance", {**WINDOW, "starts_at": "2030-01-01T01:00:00"}, "starts_at"),
        ("/api/v4/system/maintenance", {**WINDOW, "audience": "users"}, "audience"),
        ("/api/v4/system/status", {"component": "chat", "status": "on fire", "message": "x"}, "status"),
        ("/api/v4/system/status", {"component": "c" * 201, "status": "down", "message": "x"}, "component"),
    ],
)
async def test_a_bad_system_message_is_refused_with_422_naming_the_field(service, path, body, field):
    response = await service.client.post(path, json=body, headers=service.admin())
    assert response.status_code == 422, response.text
    assert field in error_fields(response)


@pytest.mark.parametrize(("field", "value"), [
    ("starts_at", "9999-12-31T23:59:59-12:00"),   # was a 500: OverflowError converting to UTC
    ("starts_at", "0001-01-01T00:00:00+14:00"),
    ("starts_at", "0001-01-01T00:00:00Z"),         # datetime.min: asyncpg stored it as -infinity (found by fuzzing)
    ("ends_at", "9999-12-31T23:00:00Z"),          # representable in UTC, not in Beijing time
    ("ends_at", "9999-12-31T23:59:59.999-23:59"),
])
async def test_a_maintenance_window_dated_beyond_what_can_be_stored_is_a_422_naming_the_field(service, field, value):
    body = {**WINDOW, field: value}
    if field == "ends_at":
        body["starts_at"] = "9999-01-01T00:00:00+08:00"
    response = await service.client.post("/api/v4/system/maintenance", json=body, headers=service.supervisor())
    assert response.status_code == 422, response.text
    assert error_fields(response) == {field}
    assert "out of range" in response.text


async def test_system_lists_validate_paging(service):
    for path in ("/api/v4/system/alerts?page=0", "/api/v4/system/maintenance?page_size=500"):
        response = await service.client.get(path, headers=service.admin())
        assert response.status_code == 422


async def test_an_unknown_system_route_is_a_json_404(service):
    response = await service.client.get("/api/v4/system/nothing", headers=service.admin())
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
