"""servicekit.ratelimit.decide: the sliding-window counter, pure (no clock, no database)."""

import pytest
from pydantic import ValidationError
from servicekit.ratelimit import RateLimit, Window, decide

LIMIT = RateLimit(requests=3, per_seconds=10)


def run(times: list[float], limit: RateLimit = LIMIT) -> list[bool | int]:
    """Each request at its time: True when allowed, else its Retry-After."""
    window, answers = Window(), []
    for at in times:
        window, decision = decide(window, at, limit)
        answers.append(True if decision.allowed else decision.retry_after)
    return answers


def test_requests_beyond_the_limit_in_one_window_are_refused_with_the_wait_until_one_fits():
    # window [1000, 1010): 3 allowed; the 4th waits for the next window, where 3 previous hits still weigh
    # 3 * (1 - f): one more fits once f >= 1/3, i.e. at 1013.33 -> from 1001, 12.33 s -> 13.
    assert run([1000, 1000.5, 1000.9, 1001]) == [True, True, True, 13]


def test_refused_requests_are_not_counted_so_the_client_gets_through_when_retry_after_says():
    answers = run([1000, 1000, 1000, *[1001] * 50, 1014])
    assert answers[:3] == [True, True, True] and all(a == 13 for a in answers[3:-1])
    assert answers[-1] is True


def test_the_previous_window_weighs_by_its_overlap():
    # 3 hits late in window 100 ([1000, 1010)); at 1015 half of them still count (1.5): one more fits, not two.
    assert run([1009, 1009, 1009, 1015, 1015]) == [True, True, True, True, 2]


def test_a_long_pause_forgets_everything():
    assert run([1000, 1000, 1000, 1100, 1100, 1100]) == [True] * 6


def test_limits_are_validated():
    with pytest.raises(ValidationError):
        RateLimit(requests=0, per_seconds=10)
    with pytest.raises(ValidationError):
        RateLimit(requests=10, per_seconds=7200)
