"""Limits per account and per client address (clients/admission.py, clients/ratelimit.py): one account or one address cannot
take what others need, and a spoofed X-Forwarded-For does not move a client to another address."""

import asyncio
import json
import random
from typing import Any

import aiohttp
import pytest

pytestmark = pytest.mark.integration

FLOODER, OTHER = 910001, 910002


async def test_one_user_with_many_sockets_over_the_per_user_rate_gets_rate_limited_and_another_user_is_not(
    start_gateway, connect_client,
):
    # the per-socket buckets (20) never empty here: only the account's bucket (10, nearly no refill) does
    gw = await start_gateway(user_rate_limit_per_second=0.001, user_rate_limit_burst=10)
    sockets = [await connect_client(gw, FLOODER, "user") for _ in range(10)]
    other = await connect_client(gw, OTHER, "user")
    acks = await asyncio.gather(*(s.call("hack", {}) for s in sockets for _ in range(3)))
    codes = [ack["error"]["code"] for ack in acks]
    assert codes.count("unknown_event") == 10 and codes.count("rate_limited") == 20, codes
    assert (await other.call("hack", {}))["error"]["code"] == "unknown_event"
    assert all(s.sio.connected for s in sockets)


async def test_the_21st_socket_of_one_account_gets_a_too_many_connections_connect_error(
    start_gateway, connect_client, refused, mint,
):
    gw = await start_gateway()  # default GATEWAY_MAX_SOCKETS_PER_USER: 20
    sockets = [await connect_client(gw, FLOODER, "user") for _ in range(20)]
    data = await refused(gw.url, {"token": mint.token(FLOODER, "user")})
    assert "too many connections" in data["message"] and data["data"]["code"] == "too_many_connections", data
    await connect_client(gw, OTHER, "user")  # another account is unaffected
    await sockets[0].sio.disconnect()
    async with asyncio.timeout(5):
        while gw.gateway.connections.sockets > 20:  # 19 of FLOODER + OTHER
            await asyncio.sleep(0.05)
    await connect_client(gw, FLOODER, "user")  # a freed seat can be taken again


async def _handshake(url: str, source: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """One Engine.IO polling handshake from `source` (a 127.x address); no Socket.IO CONNECT follows."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http, http.get(
        f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"}, headers=headers or {},
    ) as response:
        body = await response.text()
        if response.status == 200:
            return 200, json.loads(body[1:])["sid"]
        return response.status, (json.loads(body), response.headers.get("Retry-After"))


async def test_connections_per_address_are_capped_counting_ones_that_never_connect(start_gateway):
    gw = await start_gateway(max_connections_per_address=5)
    opened = [await _handshake(gw.url, "127.0.0.2") for _ in range(5)]
    assert [status for status, _ in opened] == [200] * 5
    status, (body, retry_after) = await _handshake(gw.url, "127.0.0.2")
    assert status == 429 and body["error"]["code"] == "too_many_connections" and int(retry_after) >= 1
    assert (await _handshake(gw.url, "127.0.0.3"))[0] == 200  # another address is unaffected

    # the end of one connection frees its seat
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.2", 0), force_close=True)
    async with aiohttp.ClientSession(connector=connector) as http:
        closing = await http.post(f"{gw.url}/socket.io/", params={"EIO": "4", "transport": "polling",
                                                                  "sid": opened[0][1]}, data="1")
        assert closing.status == 200
    async with asyncio.timeout(5):
        while (await _handshake(gw.url, "127.0.0.2"))[0] != 200:
            await asyncio.sleep(0.1)


async def test_a_spoofed_x_forwarded_for_does_not_change_the_address_the_cap_sees(start_gateway):
    gw = await start_gateway(max_connections_per_address=3)  # trusts X-Forwarded-For from 127.0.0.1 only
    answers = [await _handshake(gw.url, "127.0.0.4", {"X-Forwarded-For": f"198.51.100.{random.randint(1, 254)}"})
               for _ in range(5)]
    assert [status for status, _ in answers] == [200, 200, 200, 429, 429]
    # from the edge's address the header names the client: another client, its own seats
    assert (await _handshake(gw.url, "127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}))[0] == 200
    assert gw.gateway.addresses.count("203.0.113.9") == 1 and gw.gateway.addresses.count("127.0.0.4") == 3
