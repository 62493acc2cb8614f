"""TokenExpiry: one timer for the earliest exp, forgotten sockets skipped, due sockets handed over in a batch."""

import asyncio
import time

from realtime_gateway.clients.token_expiry import TokenExpiry, token_exp
from servicekit_testing.tokens import TokenMint


async def test_due_sockets_are_expired_in_one_batch_and_forgotten_ones_never():
    batches: list[list[str]] = []
    done = asyncio.Event()

    async def expire(due: list[tuple[str, float]]) -> None:
        batches.append(sorted(sid for sid, _ in due))
        done.set()

    expiry = TokenExpiry(expire)
    soon = time.time() + 0.05
    for sid in ("a", "b", "c"):
        expiry.watch(sid, soon)
    expiry.watch("later", time.time() + 3600)
    expiry.forget("b")
    await asyncio.wait_for(done.wait(), 5)
    assert batches == [["a", "c"]]
    assert len(expiry) == 1
    expiry.close()


async def test_a_thousand_sockets_share_one_timer_and_stale_entries_are_compacted():
    expiry = TokenExpiry(lambda due: asyncio.sleep(0))
    now = time.time()
    for n in range(1000):
        expiry.watch(f"s{n}", now + 3600 + n)
    armed = expiry._timer
    for n in range(1, 1000):
        expiry.watch(f"late{n}", now + 7200)
    assert expiry._timer is armed  # a later exp does not re-arm
    for n in range(1000):
        expiry.forget(f"s{n}")
    assert len(expiry._heap) <= 2 * len(expiry) + 1
    expiry.close()


def test_token_exp_reads_the_claim_and_ignores_what_is_not_a_token():
    token = TokenMint().token(1, "user", exp=1_900_000_000)
    assert token_exp({"token": token}) == 1_900_000_000
    assert token_exp({"token": "garbage"}) is None
    assert token_exp({"token": "a.!!!.c"}) is None and token_exp({"token": "a.bnVsbA.c"}) is None  # not base64; null
    assert token_exp({"token": TokenMint().token(1, "user", exp=True)}) is None
    assert token_exp(None) is None
