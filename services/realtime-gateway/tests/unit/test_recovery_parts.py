"""Recovery building blocks without I/O: offsets as the client sees them, recovery ids, replay filtering."""

from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.identity import Principal
from contracts.payloads import NotificationData
from contracts.time import now_beijing
from realtime_gateway.delivery.stream import MARK_TYPE, Stored, format_offset, parse_offset
from realtime_gateway.transport.recovery import ALL, PidCodec, socket_events

ADMIN = Principal(user_id=7, user_type="admin", username="a")


def test_offsets_round_trip_and_junk_is_refused():
    assert format_offset(12, 0) == "12" and format_offset(12, 3) == "12.3"
    assert parse_offset("12") == (12, 0) and parse_offset("12.3") == (12, 3)
    for junk in (None, 12, "", "x", "-1", "1.x", "1.2.3", "1" * 41, ["1"]):
        assert parse_offset(junk) is None, junk


def test_a_pid_verifies_only_for_its_account_and_key():
    codec = PidCodec("k1")
    pid = codec.issue(ADMIN, 41, now=1000)
    claim = codec.verify(pid, ADMIN)
    assert claim is not None and (claim.issued_at, claim.offset_hint) == (1000, 41)
    assert codec.verify(pid, Principal(user_id=8, user_type="admin", username="b")) is None
    assert codec.verify(pid, Principal(user_id=7, user_type="user", username="a")) is None
    assert PidCodec("k2").verify(pid, ADMIN) is None
    body, signature = pid.split(".")
    assert codec.verify(f"{body}x.{signature}", ADMIN) is None
    assert codec.issue(ADMIN, 41, now=1000) != pid  # a fresh session never repeats a pid


def _read_state(offset: int) -> Stored:
    payload = p.NotificationReadStateChanged(user_id=ADMIN.user_id, notification_ids=[1, 2, 3], is_read=True)
    return Stored(offset, r.NOTIFICATION_READ_STATE_CHANGED,
                  r.new_envelope(r.NOTIFICATION_READ_STATE_CHANGED, "t", payload, "1").to_bytes())


def test_replay_keeps_only_the_sockets_rooms_past_its_position():
    stored = _read_state(5)  # three notification:update for admin:7
    mine = frozenset({"admin:7"})
    assert [o for *_, o in socket_events(stored, mine, (4, ALL))] == ["5", "5.1", "5.2"]
    assert [o for *_, o in socket_events(stored, mine, (5, 0))] == ["5.1", "5.2"]
    assert socket_events(stored, mine, (5, ALL)) == []
    assert socket_events(stored, frozenset({"admin:8"}), (4, ALL)) == []
    assert socket_events(Stored(6, MARK_TYPE, b"{}"), mine, (4, ALL)) == []
    data = NotificationData(notification_id=1, type="system", title="t", content="c", created_at=now_beijing(),
                            is_read=False)
    envelope = r.new_envelope(r.NOTIFICATION_CREATED, "t", p.NotificationCreated(notification=data, target_user_id=None), "1")
    assert socket_events(Stored(7, r.NOTIFICATION_CREATED, envelope.to_bytes()), frozenset({"users"}), (0, 0)) == []
