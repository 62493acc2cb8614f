"""The client's address behind the edge: `X-Forwarded-For` is believed only when the peer is a trusted proxy.

The edge (nginx) sets `X-Forwarded-For: $remote_addr` (replacing whatever the client sent), so a request that
comes through it carries exactly one address. A request from anywhere else keeps its TCP peer address, whatever
headers it sends: a client cannot pick the address that its limits (login lockout, connection caps) are kept
under.

    class Settings(ForwardedSettings, ...): ...         # <PREFIX>_FORWARDED_ALLOW_IPS
    app.add_middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies())   # FastAPI services
    client_address(peer, request.headers.get("X-Forwarded-For"), trusted)           # anything else

Uvicorn has its own proxy-header handling (on by default, trusting 127.0.0.1 or `FORWARDED_ALLOW_IPS`); the
services run it with `--no-proxy-headers` so that this setting alone decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
VERDICTS_KEPT = 4096
"""Peer addresses whose trust verdict is remembered (all forgotten at once when full)."""


@dataclass(frozen=True)
class TrustedProxies:
    """Addresses / networks whose `X-Forwarded-For` is believed; `*` trusts every peer (only behind a proxy
    that is the sole way in)."""

    networks: tuple[Network, ...] = ()
    everyone: bool = False
    _verdicts: dict[str, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)
    """address -> trusted: a gateway asks for every handshake (twice), and parsing the address with `ipaddress`
    was ~5% of a WebSocket handshake's CPU; peers are few (the edge, or the same clients again)."""

    @classmethod
    def parse(cls, entries: Iterable[str]) -> TrustedProxies:
        entries = [e.strip() for e in entries if e.strip()]
        if "*" in entries:
            return cls(everyone=True)
        return cls(tuple(ipaddress.ip_network(e, strict=False) for e in entries))

    def __contains__(self, address: object) -> bool:
        if self.everyone:
            return True
        if not isinstance(address, str):
            return False
        verdict = self._verdicts.get(address)
        if verdict is None:
            try:
                ip = ipaddress.ip_address(address)
            except ValueError:
                verdict = False
            else:
                verdict = any(ip in net for net in self.networks)
            if len(self._verdicts) >= VERDICTS_KEPT:
                self._verdicts.clear()
            self._verdicts[address] = verdict
        return verdict


def client_address(peer: str | None, forwarded_for: str | None, trusted: TrustedProxies) -> str | None:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then the right-most address of
    `X-Forwarded-For` that is not itself a trusted proxy (the one the nearest trusted proxy saw)."""
    if peer is None or peer not in trusted or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return hops[0] if hops else peer


class ForwardedSettings(BaseSettings):
    """The field every HTTP service composes into its Settings (env prefix from the subclass)."""

    forwarded_allow_ips: list[str] = Field(default_factory=lambda: ["127.0.0.1"])
    """Peers whose `X-Forwarded-For` names the client (JSON list of addresses or CIDR networks; `["*"]` trusts
    everyone). Default: the edge of the local run. Docker compose sets the edge container's address."""

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _valid(cls, value: list[str]) -> list[str]:
        TrustedProxies.parse(value)  # raises ValueError on a bad entry
        return value

    def trusted_proxies(self) -> TrustedProxies:
        return TrustedProxies.parse(self.forwarded_allow_ips)


class TrustedProxyMiddleware:
    """ASGI: replaces `scope["client"]` with `client_address(...)` for http and websocket scopes."""

    def __init__(self, app: Any, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            peer = scope["client"][0]
            forwarded = _header(scope, b"x-forwarded-for")
            address = client_address(peer, forwarded, self.trusted)
            if address != peer:
                scope = {**scope, "client": (address, 0)}
        await self.app(scope, receive, send)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key.lower() == name]
    return ",".join(values) if values else None
