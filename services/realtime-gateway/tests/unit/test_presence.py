"""clients/presence.py with a fake broker: changes in order, a burst becomes one heartbeat, stop says 'no admins'."""

import asyncio
from collections import Counter

from contracts.events import registry as r
from realtime_gateway.clients.presence import Presence

CHANGED, BEAT = r.PRESENCE_ADMIN_CONNECTIONS_CHANGED, r.PRESENCE_GATEWAY_HEARTBEAT


class FakeBroker:
    """Publishes take `delay` seconds (a broker round trip); the bodies are parsed back."""

    connected = True

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.events: list[tuple[str, dict]] = []

    async def publish(self, exchange: str, routing_key: str, body: bytes, **kwargs: object) -> None:
        await asyncio.sleep(self.delay)
        envelope, payload = r.parse_domain_event(body)
        self.events.append((envelope.event_type, payload.model_dump()))


def _presence(broker: FakeBroker, admins: Counter) -> Presence:
    return Presence(broker, "gw-1", lambda: dict(+admins), interval=600)  # type: ignore[arg-type]


async def _settled(broker: FakeBroker, count: int) -> None:
    async with asyncio.timeout(5):
        while len(broker.events) < count:
            await asyncio.sleep(0.001)


async def test_each_change_is_published_in_order_with_the_count_then_an_empty_beat_at_stop() -> None:
    broker, admins = FakeBroker(), Counter()
    presence = _presence(broker, admins)
    await presence.start()
    await _settled(broker, 1)  # the first periodic heartbeat
    for admin, connections in ((4, 1), (4, 2), (4, 1), (4, 0)):  # two tabs of one admin
        admins[admin] = connections
        presence.admin_changed(admin, connections)
        await _settled(broker, len(broker.events) + 1)
    await presence.stop()
    assert broker.events[0][0] == BEAT and broker.events[0][1]["admins"] == {}
    assert [(t, e["admin_id"], e["connections"]) for t, e in broker.events[1:5]] == [
        (CHANGED, 4, 1), (CHANGED, 4, 2), (CHANGED, 4, 1), (CHANGED, 4, 0)]
    assert broker.events[1][1]["gateway_id"] == "gw-1"
    assert broker.events[-1][0] == BEAT and broker.events[-1][1]["admins"] == {}


async def test_a_burst_of_changes_is_published_as_one_heartbeat_with_the_map_at_that_moment() -> None:
    broker, admins = FakeBroker(delay=0.01), Counter()
    presence = _presence(broker, admins)
    await presence.start()
    await _settled(broker, 1)
    for admin in range(1, 1001):  # a connect storm
        admins[admin] += 1
        presence.admin_changed(admin, admins[admin])
    await asyncio.sleep(0)
    for admin in range(1, 501):  # half of them drop
        admins[admin] -= 1
        presence.admin_changed(admin, admins[admin])
    await presence.stop()
    published = broker.events[1:]
    assert len(published) < 10
    # Whatever was published one by one came first, in order; then one beat covering every later change.
    beats = [e for t, e in published if t == BEAT]
    assert beats[-2]["admins"] == {a: 1 for a in range(501, 1001)}
    assert beats[-1]["admins"] == {}  # stop


async def test_a_burst_during_a_slow_publish_never_reorders_a_newer_state_before_an_older_one() -> None:
    broker, admins = FakeBroker(delay=0.005), Counter()
    presence = _presence(broker, admins)
    presence.burst = 3
    await presence.start()
    await _settled(broker, 1)
    for step in range(40):
        admin = 1 + step % 5
        admins[admin] = (admins[admin] + 1) % 3
        presence.admin_changed(admin, admins[admin])
        if step % 7 == 0:
            await asyncio.sleep(0.006)
    await presence.stop()
    # Replaying the events as chat-svc does (a change sets one admin, a beat sets the whole map) ends in the
    # gateway's final state, just before the empty beat of stop.
    state: dict[int, int] = {}
    for event_type, event in broker.events[:-1]:
        if event_type == CHANGED:
            state[event["admin_id"]] = event["connections"]
        else:
            state = dict(event["admins"])
    assert {a: n for a, n in state.items() if n} == dict(+admins)
    ats = [e["at"] for _, e in broker.events]
    assert ats == sorted(ats)


async def test_a_burst_never_drops_end_users_changes_which_no_heartbeat_carries() -> None:
    broker, admins = FakeBroker(delay=0.005), Counter()
    presence = _presence(broker, admins)
    presence.burst = 3
    await presence.start()
    await _settled(broker, 1)
    for step in range(30):
        admins[step + 1] += 1
        presence.admin_changed(step + 1, 1)
        presence.user_changed(1000 + step % 3, step)
    await presence.stop()
    users = [(e["user_id"], e["connections"]) for t, e in broker.events if t == r.PRESENCE_USER_CONNECTIONS_CHANGED]
    assert users == [(1000 + step % 3, step) for step in range(30)]
    assert len([t for t, _ in broker.events if t == CHANGED]) < 30  # the admins' changes did collapse
