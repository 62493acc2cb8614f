"""Handshake refusals, health, metrics, compression."""

import aiohttp
import httpx
import pytest
from servicekit.jwt import JwksVerifier
from servicekit_testing.tokens import AUDIENCE, ISSUER, JWKS_URL, TokenMint

pytestmark = pytest.mark.integration


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


@pytest.mark.parametrize(
    ("auth", "message", "code"),
    [
        (None, "unauthorized: missing token", "token_missing"),
        ({"token": ""}, "unauthorized: missing token", "token_missing"),
        ({"token": "not-a-jwt"}, "unauthorized: malformed token", "token_malformed"),
        ("forged", "unauthorized: bad signature", "token_bad_signature"),
        ("expired", "unauthorized: token expired", "token_expired"),
    ],
)
async def test_bad_tokens_are_refused_with_an_unauthorized_connect_error(
    start_gateway, refused, mint, auth, message, code
):
    gw = await start_gateway()
    if auth == "forged":
        auth = {"token": TokenMint(kid=mint.kid).token(1, "admin")}  # same kid, another key
    elif auth == "expired":
        auth = {"token": mint.token(1, "admin", iat=1, nbf=1, exp=2)}
    assert await refused(gw.url, auth) == {"message": message, "data": {"code": code}}
    assert gw.gateway.connections.sockets == 0
    _, metrics = await get(f"{gw.url}/metrics")
    assert f'gateway_handshakes_refused_total{{code="{code}"}} 1.0' in metrics


async def test_unreachable_key_set_is_unavailable_not_unauthorized(start_gateway, refused, mint):
    down = httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(503)))
    gw = await start_gateway(verifier=JwksVerifier(JWKS_URL, issuer=ISSUER, audience=AUDIENCE, http=down))
    data = await refused(gw.url, {"token": mint.token(1, "admin")})
    assert data == {"message": "unavailable: cannot verify tokens right now", "data": {"code": "unavailable"}}


async def test_health_reports_sockets_and_the_broker_link(start_gateway, connect_client):
    gw = await start_gateway(gateway_id="gw-health", status_services=["chat-svc"])
    await connect_client(gw, 1, "admin")
    await connect_client(gw, 1, "admin")
    await connect_client(gw, 2, "user")
    async with aiohttp.ClientSession() as session, session.get(f"{gw.url}/health") as response:
        status, body = response.status, await response.json()
    assert status == 200
    assert body == {
        "status": "ok", "service": "realtime-gateway", "gateway_id": "gw-health",
        "websocket": {"connected_sockets": 3, "admins_online": 1, "users_online": 1},
        "broker": {"connected": True}, "stream": {"position_known": True},
        "services": {"chat-svc": "operational"},  # what it reports about them (its startup grace: not heard yet)
    }
    _, metrics = await get(f"{gw.url}/metrics")
    assert "gateway_connected_sockets 3.0" in metrics


async def test_health_is_503_while_the_broker_is_unreachable(start_gateway):
    gw = await start_gateway(amqp_url="amqp://guest:guest@127.0.0.1:1/", wait=False)
    async with aiohttp.ClientSession() as session, session.get(f"{gw.url}/health") as response:
        assert response.status == 503
        body = await response.json()
    assert body["status"] == "degraded" and body["broker"] == {"connected": False}


@pytest.mark.parametrize(("setting", "negotiated"), [(False, False), (True, True)])
async def test_websocket_compression_is_a_setting_and_off_by_default(start_gateway, setting, negotiated):
    overrides = {} if setting is False else {"websocket_compression": True}
    gw = await start_gateway(**overrides)
    async with aiohttp.ClientSession() as session, session.ws_connect(
        f"{gw.url}/socket.io/?EIO=4&transport=websocket", compress=15
    ) as ws:
        assert bool(ws.compress) is negotiated
        extensions = ws._response.headers.get("Sec-WebSocket-Extensions", "")
        assert ("permessage-deflate" in extensions) is negotiated


async def test_every_gateway_response_echoes_the_request_id_or_carries_a_new_one(start_gateway):
    gw = await start_gateway()
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{gw.url}/health", headers={"X-Request-ID": "gw-rid-1"}) as kept:
            assert kept.headers["X-Request-ID"] == "gw-rid-1"
        async with session.get(f"{gw.url}/socket.io/", params={"EIO": "4", "transport": "polling"}) as made:
            assert made.status == 200 and len(made.headers["X-Request-ID"]) == 32
        async with session.get(f"{gw.url}/health", headers={"X-Request-ID": "bad id\"injected"}) as replaced:
            assert replaced.headers["X-Request-ID"] != "bad id\"injected"
