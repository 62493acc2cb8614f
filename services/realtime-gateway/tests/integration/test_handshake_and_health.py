"""Handshake refusals, health, metrics, compression."""

import base64
import json
import shutil
import subprocess
import time
from pathlib import Path

import aiohttp
import httpx
import jwt
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


def _unsigned(kid: str) -> str:
    """A token with `alg: none` and no signature, naming the gateway's key."""
    def segment(part: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
    now = int(time.time())
    claims = {"sub": "1", "user_type": "admin", "username": "admin1", "iss": ISSUER, "aud": AUDIENCE,
              "iat": now - 10, "nbf": now - 10, "exp": now + 600, "jti": "x"}
    return f"{segment({'alg': 'none', 'kid': kid})}.{segment(claims)}."


@pytest.mark.parametrize(
    ("case", "message", "code"),
    [
        ("not_yet_valid", "unauthorized: token not yet valid", "token_not_yet_valid"),
        ("unknown_kid", "unauthorized: unknown signing key", "token_unknown_key"),
        ("alg_none", "unauthorized: algorithm 'none' not allowed", "token_bad_algorithm"),
        ("wrong_issuer", "unauthorized: bad claims (Invalid issuer)", "token_bad_claims"),
        ("wrong_audience", "unauthorized: bad claims (Audience doesn't match (strict))", "token_bad_claims"),
        ("no_jti", "unauthorized: bad claims (Token is missing the \"jti\" claim)", "token_bad_claims"),
        ("sub_not_an_id", "unauthorized: sub is not an account id", "token_bad_claims"),
    ],
)
async def test_each_token_refusal_reaches_the_client_with_its_reason_and_code(
    start_gateway, refused, mint, case, message, code
):
    """What the cheap verification path (servicekit.jwt `_fast_claims`, tokens issued more than a second ago)
    does not accept is refused exactly as before, each reason with its own `connect_error`."""
    gw = await start_gateway()
    issued = int(time.time()) - 10
    tokens = {
        "not_yet_valid": lambda: mint.token(1, "admin", iat=issued, nbf=issued + 3600),
        "unknown_kid": lambda: TokenMint(kid="another-key").token(1, "admin", iat=issued, nbf=issued),
        "alg_none": lambda: _unsigned(mint.kid),
        "wrong_issuer": lambda: mint.token(1, "admin", iat=issued, nbf=issued, iss="someone-else"),
        "wrong_audience": lambda: mint.token(1, "admin", iat=issued, nbf=issued, aud="elsewhere"),
        "no_jti": lambda: mint.token(1, "admin", iat=issued, nbf=issued, jti=None),
        "sub_not_an_id": lambda: mint.token(1, "admin", iat=issued, nbf=issued, sub="admin"),
    }
    data = await refused(gw.url, {"token": tokens[case]()})
    assert data == {"message": message, "data": {"code": code}}
    assert gw.gateway.connections.sockets == 0


async def test_a_token_issued_a_while_ago_connects_through_the_cheap_path_as_its_account(
    start_gateway, connect_client, mint, monkeypatch
):
    monkeypatch.setattr(jwt, "decode", lambda *_, **__: pytest.fail("PyJWT decoded a token the fast path accepts"))
    gw = await start_gateway()
    issued = int(time.time()) - 10
    await connect_client(gw, 7, "admin", token=mint.token(7, "admin", iat=issued, nbf=issued, role="supervisor"))
    [principal] = gw.gateway.connections._principals.values()
    assert (principal.user_id, principal.user_type, principal.role) == (7, "admin", "supervisor")


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


def _listen_backlog(url: str) -> int:
    """The backlog of the socket listening at `url`, as the kernel holds it (`ss`: a listener's Send-Q)."""
    port = url.rsplit(":", 1)[1]
    assert shutil.which("ss"), "ss (Debian's iproute2) is needed to read a listening socket's backlog"
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(out.split()[2])


async def test_the_gateway_listens_with_the_backlog_its_setting_asks_for(start_gateway):
    # A reconnect storm after a restart fills a short accept queue (aiohttp's default was 128): the kernel drops the
    # handshakes past it and the clients try again only after 1 s. GATEWAY_LISTEN_BACKLOG sets it; the kernel caps it.
    asked = await start_gateway(listen_backlog=777, wait=False)
    assert _listen_backlog(asked.url) == 777
    default = await start_gateway(wait=False)
    somaxconn = int(Path("/proc/sys/net/core/somaxconn").read_text())
    assert _listen_backlog(default.url) == min(4096, somaxconn) > 128
