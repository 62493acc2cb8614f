"""The queue's speed and what each waiting user is told (chat_svc.queue_estimate), without I/O."""

from datetime import UTC, datetime, timedelta

from chat_svc.queue_estimate import (
    Departure,
    QueuePlace,
    changed,
    estimated_wait,
    places,
    seconds_per_position,
)

T0 = datetime(2026, 12, 7, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_without_enough_departures_the_estimate_is_unknown_not_a_constant():
    one = [Departure(at(0), at(60))]
    assert seconds_per_position(one, min_samples=3) is None
    assert estimated_wait(4, None) is None
    assert [p.estimated_wait_seconds for p in places([(1, 10), (2, 20)], None)] == [None, None]


def test_a_burst_after_a_long_wait_counts_as_many_departures_over_the_time_they_waited_together():
    # five sessions waited from t=0; an admin came at t=600 and took them all at once
    burst = [Departure(at(0), at(600 + i * 1e-6)) for i in range(5)]
    assert round(seconds_per_position(burst, min_samples=3) or 0) == 120
    assert estimated_wait(3, 120.0) == 360


def test_time_with_an_empty_queue_is_not_counted_as_queue_time():
    # each arrived long after the previous one left and waited 30 s: the queue moves one place per 30 s
    spaced = [Departure(at(i * 1000), at(i * 1000 + 30)) for i in range(4)]
    assert seconds_per_position(spaced, min_samples=3) == 30
    assert estimated_wait(2, 30.0) == 60


def test_places_number_the_queue_from_one_and_only_differences_are_sent():
    current = places([(7, 70), (8, 80), (9, 90)], 10.0)
    assert [(p.session_id, p.position, p.estimated_wait_seconds) for p in current] == [(7, 1, 10), (8, 2, 20),
                                                                                        (9, 3, 30)]
    told = {7: QueuePlace(7, 70, 1, 10), 8: QueuePlace(8, 80, 3, 30)}
    assert [p.session_id for p in changed(current, told)] == [8, 9]
