"""argon2id hashing, off the event loop."""

import asyncio

from argon2 import PasswordHasher
from auth_svc.passwords import Passwords

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


async def test_hash_is_argon2id_and_verifies():
    passwords = Passwords(CHEAP)
    hashed = await passwords.hash("Passw0rd!")
    assert hashed.startswith("$argon2id$")
    assert await passwords.verify(hashed, "Passw0rd!")
    assert not await passwords.verify(hashed, "passw0rd!")


async def test_unknown_user_checks_a_dummy_hash_and_fails():
    passwords = Passwords(CHEAP)
    assert not await passwords.verify(None, "anything")
    assert not await passwords.verify("not-a-hash", "anything")


async def test_hashing_does_not_block_the_event_loop():
    passwords = Passwords()  # the real, slow parameters
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    await passwords.hash("Passw0rd!")
    task.cancel()
    assert ticks >= 3


def test_default_parameters_are_argon2id():
    assert Passwords().needs_rehash(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("x"))
