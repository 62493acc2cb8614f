"""The gateway's own status as admins see it (ops/component_status.py): hysteresis and what is emitted."""

from contracts.payloads import StatusData
from realtime_gateway.ops.component_status import BrokerStatusWatcher, Hysteresis


def test_a_loss_is_reported_only_once_it_lasted_and_a_recovery_only_once_it_held():
    h = Hysteresis(fail_after=10, recover_after=30)
    assert [h.observe(False, t) for t in (0, 5, 9.9)] == [None, None, None]
    assert h.observe(False, 10) == "degraded"
    assert h.observe(False, 50) is None  # reported once
    assert [h.observe(True, t) for t in (60, 80)] == [None, None]
    assert h.observe(True, 90) == "operational"


def test_a_flapping_link_reports_nothing():
    h = Hysteresis(fail_after=10, recover_after=30)
    for start in range(0, 100, 10):  # down 8 s, up 2 s, again and again
        assert h.observe(False, start) is None
        assert h.observe(False, start + 8) is None
        assert h.observe(True, start + 8.5) is None
    assert h.reported == "operational"


def test_a_short_recovery_does_not_end_a_reported_loss():
    h = Hysteresis(fail_after=1, recover_after=30)
    h.observe(False, 0)
    assert h.observe(False, 1) == "degraded"
    assert h.observe(True, 2) is None
    assert h.observe(False, 20) is None  # back down before 30 s: still the same loss, nothing new
    assert h.observe(True, 21) is None and h.observe(True, 50) is None
    assert h.observe(True, 51) == "operational"


async def test_the_watcher_emits_each_change_to_admins_with_a_code_pages_render():
    connected, now, sent = [True], [0.0], []

    async def emit(event, data, rooms):
        sent.append((event, data, rooms))

    watcher = BrokerStatusWatcher(lambda: connected[0], emit, Hysteresis(2, 2), 1, clock=lambda: now[0])
    connected[0] = False
    for now[0] in (0, 1, 2, 3):
        await watcher.check()
    assert watcher.current() is not None and watcher.current().status == "degraded"
    connected[0] = True
    for now[0] in (4, 5, 6):
        await watcher.check()

    assert [(e, d["status"], d.get("code"), r) for e, d, r in sent] == [
        ("system:status_change", "degraded", "broker_connection_lost", ["admins"]),
        ("system:status_change", "operational", "broker_connection_restored", ["admins"]),
    ]
    assert all(StatusData.model_validate(d).component == "realtime-gateway" for _, d, _ in sent)
    assert watcher.current() is None
