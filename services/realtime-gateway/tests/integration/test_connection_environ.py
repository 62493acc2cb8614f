"""What a connection keeps of the HTTP request that opened it (transport/connection_environ.py): its client address,
not the request, its headers or its body reader; and what needed the request still works (the client's address in
the protocol log behind the edge, polling, the upgrade to websocket, events both ways)."""

import asyncio
import gc
import json
import logging
import weakref
from typing import Any

import aiohttp
import pytest
from aiohttp import web

pytestmark = pytest.mark.integration

BOUND = 10


def engineio_environs(gw: Any) -> list[dict[str, Any]]:
    return list(gw.gateway.sio.environ.values())


@pytest.mark.parametrize("transports", [["websocket"], ["polling"], ["polling", "websocket"]])
async def test_a_connection_keeps_its_client_address_not_its_handshake_request(
    start_gateway, connect_client, transports: list[str],
):
    gw = await start_gateway()
    client = await connect_client(gw, 7101, "admin", transports=transports)
    assert engineio_environs(gw) == [{"REMOTE_ADDR": "127.0.0.1"}]
    # what needed the request after the handshake still works: a client event and its ack
    assert (await client.call("hack", {}))["error"]["code"] == "unknown_event"


async def test_a_finished_polling_handshake_request_is_freed_while_its_session_lives(start_gateway, connect_client):
    gw = await start_gateway()
    seen: list[weakref.ref[web.Request]] = []
    translate = gw.gateway.sio.eio._async["translate_request"]

    def remember(request: web.Request) -> dict[str, Any]:
        seen.append(weakref.ref(request))
        return translate(request)

    gw.gateway.sio.eio._async = {**gw.gateway.sio.eio._async, "translate_request": remember}
    await connect_client(gw, 7102, "admin", transports=["polling"])
    handshake = seen[0]
    async with asyncio.timeout(BOUND):
        while handshake() is not None:
            gc.collect()
            await asyncio.sleep(0.05)
    assert gw.gateway.connections.sockets == 1


async def test_a_violation_after_connect_is_logged_with_the_client_address_the_edge_forwarded(
    start_gateway, mint, caplog,
):
    gw = await start_gateway()  # trusts X-Forwarded-For from 127.0.0.1 (the edge of a local run)
    caplog.set_level(logging.INFO)
    url = gw.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as http, http.ws_connect(
        url, headers={"X-Forwarded-For": "203.0.113.77"}, autoping=False,
    ) as ws:
        assert (await asyncio.wait_for(ws.receive_str(), BOUND)).startswith("0")
        await ws.send_str("40" + json.dumps({"token": mint.token(7103, "user")}))
        assert (await asyncio.wait_for(ws.receive_str(), BOUND)).startswith("40{")
        assert engineio_environs(gw) == [{"REMOTE_ADDR": "203.0.113.77"}]
        await ws.send_str("42[")
        async with asyncio.timeout(BOUND):
            while (await ws.receive()).type not in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                pass
    lines = [r.getMessage() for r in caplog.records if "closing a connection from" in r.getMessage()]
    assert lines and "203.0.113.77" in lines[0], lines
