"""The edge itself, over plain HTTP: routes, the health aggregate, security headers, Socket.IO through it."""

from __future__ import annotations

import httpx

from tests.integration.stack import Stack

CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
)


async def test_health_aggregates_every_service(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert "websocket" in response.text  # the spec's check: curl localhost:3000/health | grep websocket
    body = response.json()
    assert body["edge"] == "ok"
    for name in ("auth-svc", "notification-svc", "chat-svc", "realtime-gateway"):
        assert body[name]["status"] == "ok", (name, body[name])
        assert body[name]["service"] == name


async def test_health_shows_a_stopped_service_as_unreachable(stack: Stack, base_url: str) -> None:
    chat = stack["chat-svc"]
    await chat.stop()
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            body = (await client.get("/health")).json()
        assert body["chat-svc"] == {"status": "unreachable"}
        assert body["auth-svc"]["status"] == "ok"
    finally:
        chat.start()
        await chat.wait_healthy(30)


async def test_routes_and_headers(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        root = await client.get("/")
        assert root.status_code == 302 and root.headers["location"].endswith("/admin/login.html")
        for path in ("/admin/login.html", "/admin/notifications.html", "/admin/customer-service.html", "/h5/chat.html"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-security-policy"] == CSP
            assert page.headers["x-content-type-options"] == "nosniff"
            assert "referrer-policy" in page.headers
            assert "<script>" not in page.text and " style=" not in page.text and "cdn" not in page.text.lower()
        vendor = await client.get("/vendor/socket.io.esm.min.js")
        assert vendor.status_code == 200 and "Socket.IO v4.7.2" in vendor.text
        assert vendor.headers["content-type"].startswith("text/javascript")
        assert (await client.get("/.well-known/jwks.json")).json()["keys"]
        # Each API prefix reaches its service: an unauthenticated call gets that service's own 401 body.
        for path in ("/api/v4/notifications", "/api/v4/customer-service/sessions", "/api/v4/auth/me"):
            refused = await client.get(path)
            assert refused.status_code == 401, path
            assert refused.json()["error"]["code"] == "token_missing"
        assert (await client.get("/nothing-here")).status_code == 404


async def test_socketio_handshake_through_the_edge(base_url: str) -> None:
    """Long-polling handshake (the first request of every client) goes through to the gateway."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"},
                                    headers={"Origin": base_url})
    assert response.status_code == 200
    assert '"sid"' in response.text and "websocket" in response.text
