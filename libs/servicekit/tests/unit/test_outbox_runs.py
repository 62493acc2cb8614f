"""How the relay cuts a round of outbox rows into messages (servicekit.outbox_runs)."""

from dataclasses import dataclass

from servicekit.outbox_runs import runs


@dataclass(frozen=True)
class Row:
    n: int
    exchange: str
    routing_key: str
    body: bytes = b"x" * 100


def test_consecutive_rows_of_one_routing_key_go_together_in_order_and_another_key_between_them_splits_the_run():
    rows = [Row(0, "chat", "a"), Row(1, "chat", "a"), Row(2, "chat", "b"), Row(3, "chat", "a"), Row(4, "chat", "a"),
            Row(5, "notif", "a")]
    assert [[r.n for r in run] for run in runs(rows, max_events=100, max_bytes=10_000)] == [[0, 1], [2], [3, 4], [5]]


def test_a_run_is_bounded_by_events_and_bytes_and_one_event_per_run_without_batching():
    rows = [Row(n, "chat", "a") for n in range(7)]
    assert [len(run) for run in runs(rows, max_events=3, max_bytes=10_000)] == [3, 3, 1]
    assert [len(run) for run in runs(rows, max_events=100, max_bytes=350)] == [3, 3, 1]  # 3 x 101 bytes + framing
    assert [len(run) for run in runs(rows, max_events=1, max_bytes=10_000)] == [1] * 7
    big = [Row(0, "chat", "a", b"x" * 500), Row(1, "chat", "a")]
    assert [len(run) for run in runs(big, max_events=100, max_bytes=350)] == [1, 1]  # too big: alone, still sent
