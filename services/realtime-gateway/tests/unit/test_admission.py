"""clients/admission.py and the per-account bucket: pure bookkeeping, no I/O."""

from realtime_gateway.clients.admission import AddressConnections, user_refusal
from realtime_gateway.clients.ratelimit import PerUserLimiter
from servicekit.forwarded import TrustedProxies


def test_an_address_at_its_cap_is_refused_until_one_of_its_connections_ends():
    caps = AddressConnections(2, TrustedProxies.parse(["127.0.0.1"]))
    assert caps.admit("a", "10.0.0.1") and caps.admit("b", "10.0.0.1")
    assert not caps.admit("c", "10.0.0.1")
    assert caps.admit("d", "10.0.0.2")
    caps.release("a")
    caps.release("a")  # idempotent
    assert caps.count("10.0.0.1") == 1 and caps.admit("e", "10.0.0.1")


def test_the_refusal_for_too_many_sockets_says_so_with_a_code():
    assert user_refusal(19, 20) is None
    refusal = user_refusal(20, 20)
    assert refusal is not None
    assert "too many connections" in refusal.error_args["message"]
    assert refusal.error_args["data"]["code"] == "too_many_connections"


def test_an_accounts_bucket_is_shared_and_kept_while_in_debt():
    now = [0.0]
    limiter = PerUserLimiter(rate=1, burst=2, clock=lambda: now[0])
    assert [limiter.allow(7), limiter.allow(7), limiter.allow(7)] == [True, True, False]
    assert limiter.allow(8)
    limiter.last_socket_left(7)
    assert len(limiter) == 2 and not limiter.allow(7)  # reconnecting does not refill it
    now[0] = 5.0
    limiter.last_socket_left(7)
    assert len(limiter) == 1
