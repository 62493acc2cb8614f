"""servicekit.forwarded: X-Forwarded-For names the client only when the peer is a trusted proxy."""

import httpx
import pytest
from fastapi import FastAPI, Request
from servicekit.forwarded import ForwardedSettings, TrustedProxies, TrustedProxyMiddleware, client_address

EDGE = TrustedProxies.parse(["127.0.0.1"])


def test_an_untrusted_peer_keeps_its_own_address_whatever_it_sends():
    assert client_address("127.0.0.2", "1.2.3.4", EDGE) == "127.0.0.2"
    assert client_address("10.0.0.9", "1.2.3.4, 127.0.0.1", EDGE) == "10.0.0.9"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client():
    assert client_address("127.0.0.1", "203.0.113.7", EDGE) == "203.0.113.7"
    # a client's own header before the proxy's entry does not count (an appending proxy)
    assert client_address("127.0.0.1", "6.6.6.6, 203.0.113.7", EDGE) == "203.0.113.7"
    assert client_address("127.0.0.1", None, EDGE) == "127.0.0.1"


def test_networks_and_star_are_understood():
    compose = TrustedProxies.parse(["172.28.0.0/16"])
    assert client_address("172.28.0.10", "198.51.100.1", compose) == "198.51.100.1"
    assert client_address("172.29.0.10", "198.51.100.1", compose) == "172.29.0.10"
    assert client_address("8.8.8.8", "198.51.100.1", TrustedProxies.parse(["*"])) == "198.51.100.1"
    with pytest.raises(ValueError):
        ForwardedSettings(forwarded_allow_ips=["not-an-address"])


@pytest.mark.parametrize(("peer", "seen"), [("127.0.0.1", "203.0.113.7"), ("127.0.0.2", "127.0.0.2")])
async def test_the_middleware_rewrites_the_client_only_for_a_trusted_peer(peer: str, seen: str):
    app = FastAPI()

    @app.get("/who")
    async def who(request: Request) -> str:
        return request.client.host if request.client else ""

    app.add_middleware(TrustedProxyMiddleware, trusted=EDGE)
    transport = httpx.ASGITransport(app, client=(peer, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as http:
        answer = await http.get("/who", headers={"X-Forwarded-For": "203.0.113.7"})
    assert answer.json() == seen


def test_a_peer_address_is_parsed_once_and_its_verdict_remembered(monkeypatch: pytest.MonkeyPatch):
    import ipaddress

    from servicekit import forwarded

    parsed: list[str] = []
    real = ipaddress.ip_address

    def counting(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        parsed.append(address)
        return real(address)

    monkeypatch.setattr(forwarded.ipaddress, "ip_address", counting)
    edge = TrustedProxies.parse(["127.0.0.1"])
    for _ in range(3):
        assert "127.0.0.1" in edge
        assert "10.0.0.9" not in edge
        assert "not-an-address" not in edge
    assert parsed == ["127.0.0.1", "10.0.0.9", "not-an-address"]


def test_the_remembered_verdicts_are_bounded(monkeypatch: pytest.MonkeyPatch):
    from servicekit import forwarded

    monkeypatch.setattr(forwarded, "VERDICTS_KEPT", 4)
    edge = TrustedProxies.parse(["10.0.0.0/8"])
    assert all(f"10.0.0.{i}" in edge for i in range(10))
    assert len(edge._verdicts) <= 4
    assert edge == TrustedProxies.parse(["10.0.0.0/8"])  # the memo is not part of equality or hashing
    assert hash(edge) == hash(TrustedProxies.parse(["10.0.0.0/8"]))
