"""The platform services' status as admins see it (ops/service_status.py, ops/current_status.py): heartbeats in,
hysteresis, what is emitted, and what an admin connecting during an outage is told."""

from datetime import datetime

from contracts.events.payloads import ServiceHeartbeat
from contracts.identity import Principal
from contracts.payloads import StatusData
from contracts.time import BEIJING_TZ
from realtime_gateway.ops.current_status import tell_current_status
from realtime_gateway.ops.service_status import ServiceStatusWatcher
from realtime_gateway.transport.recovery import Accepted


def beat(service: str = "chat-svc", healthy: bool = True, instance: str = "p1", ttl: float = 3) -> ServiceHeartbeat:
    return ServiceHeartbeat(service=service, instance_id=instance, healthy=healthy, checks={"database": healthy},
                            at=datetime.now(BEIJING_TZ), ttl_seconds=ttl)


class Rig:
    def __init__(self, services=("chat-svc",), fail_after=10.0, recover_after=15.0, startup_grace=0.0) -> None:
        self.now, self.listening, self.sent = 0.0, True, []

        async def emit(event, data, rooms):
            self.sent.append((event, data, rooms))

        self.watcher = ServiceStatusWatcher(list(services), lambda: self.listening, emit, fail_after, recover_after,
                                            1.0, clock=lambda: self.now, startup_grace=startup_grace)
        self.watcher._consuming = True  # what listen() sets once its queue is consumed

    async def run(self, until: float, *beats: ServiceHeartbeat, every: float = 1.0) -> None:
        """Check once a second up to `until`, hearing `beats` before each check."""
        while self.now <= until:
            for b in beats:
                self.watcher.heard(b)
            await self.watcher.check()
            self.now += every

    def changes(self) -> list[tuple[str, str, str | None]]:
        return [(d["component"], d["status"], d.get("code")) for _, d, _ in self.sent]


async def test_a_stopped_service_is_reported_degraded_once_its_last_heartbeat_expired_and_the_threshold_passed():
    rig = Rig()
    await rig.run(5, beat(ttl=3))  # heard until t=5: counts until t=8
    await rig.run(17)  # silent: down from t=8, reported at t=18
    assert rig.sent == []
    await rig.run(18)
    assert rig.changes() == [("chat-svc", "degraded", "service_unavailable")]
    assert rig.sent[0][0] == "system:status_change" and rig.sent[0][2] == ["admins"]
    assert StatusData.model_validate(rig.sent[0][1]).params == {"service": "chat-svc"}


async def test_a_service_beating_unhealthy_is_reported_like_a_silent_one_and_restored_after_holding_healthy():
    rig = Rig()
    await rig.run(30, beat(healthy=False))
    assert rig.changes() == [("chat-svc", "degraded", "service_unavailable")]
    await rig.run(44, beat(healthy=True))  # healthy from t=31: 15 s later
    assert len(rig.sent) == 1
    await rig.run(46, beat(healthy=True))
    assert rig.changes()[1:] == [("chat-svc", "operational", "service_restored")]


async def test_a_service_is_up_while_one_of_its_processes_is_healthy():
    rig = Rig()
    await rig.run(60, beat(instance="p1", healthy=True), beat(instance="p2", healthy=False))
    assert rig.sent == []


async def test_a_flapping_service_reports_one_change_each_way():
    rig = Rig(fail_after=2, recover_after=5)
    for _ in range(6):  # unhealthy 4 s, healthy 3 s, again and again
        await rig.run(rig.now + 3, beat(healthy=False, ttl=1))
        await rig.run(rig.now + 2, beat(healthy=True, ttl=1))
    assert rig.changes() == [("chat-svc", "degraded", "service_unavailable")]
    await rig.run(rig.now + 10, beat(healthy=True, ttl=1))
    assert [c[1] for c in rig.changes()] == ["degraded", "operational"]


async def test_a_service_never_heard_from_is_reported_and_nothing_is_concluded_while_the_gateway_hears_nothing():
    rig = Rig(services=("auth-svc", "chat-svc"))
    rig.listening = False  # this gateway without RabbitMQ: its own banner, not the services'
    await rig.run(60)
    assert rig.sent == []
    rig.listening = True
    await rig.run(69, beat(service="chat-svc"))
    assert rig.sent == []  # the full threshold again once it can hear
    await rig.run(71, beat(service="chat-svc"), beat(service="other-svc"))
    assert rig.changes() == [("auth-svc", "degraded", "service_unavailable")]
    assert rig.watcher.statuses() == {"auth-svc": "degraded", "chat-svc": "operational"}
    assert [d.component for d in rig.watcher.current()] == ["auth-svc"]


async def test_a_gateway_starting_before_the_services_gives_them_the_startup_grace_then_reports_a_silent_one():
    rig = Rig(services=("auth-svc", "chat-svc"), startup_grace=30)
    await rig.run(20)
    await rig.run(39, beat(service="chat-svc"))  # chat-svc beats from t=21; auth-svc never
    assert rig.sent == []
    await rig.run(40, beat(service="chat-svc"))  # grace over at 30, down 10 s more
    assert rig.changes() == [("auth-svc", "degraded", "service_unavailable")]


async def test_an_admin_connecting_is_told_each_component_not_operational_after_its_connect_and_a_user_nothing():
    sent, order = [], []

    async def emit(event, data, rooms):
        sent.append((event, data["component"], rooms))

    async def replay():
        order.append("replay")

    rig = Rig()
    await rig.run(20)
    hook = tell_current_status(rig.watcher.current, emit)
    admin = Principal(user_id=1, user_type="admin", username="a", role="agent")
    user = Principal(user_id=2, user_type="user", username="u")

    told = hook("sid-1", admin, Accepted("pid", replay))
    untold = hook("sid-2", user, Accepted("pid", replay))
    assert sent == []  # nothing before the CONNECT reply
    await told.after()
    await untold.after()

    assert told.pid == "pid" and order == ["replay", "replay"]
    assert sent == [("system:status_change", "chat-svc", ["sid-1"])]
