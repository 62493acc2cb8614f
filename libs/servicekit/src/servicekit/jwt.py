"""Verify platform access tokens against the JWKS that auth-svc serves.

Every service verifies the same way: the algorithm is pinned (checked before any key is touched), the key is
looked up by `kid` in a cached key set that is refetched when an unknown `kid` shows up (at most once per
`min_refresh_interval`, one fetch shared by concurrent callers), then signature and registered claims are checked
and the platform claims become a `contracts.identity.Principal`.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import httpx
import jwt
from contracts.identity import Principal
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nacl.bindings import crypto_sign_open
from nacl.exceptions import BadSignatureError, CryptoError
from pydantic import ValidationError
from pydantic_core import from_json
from pydantic_settings import BaseSettings

log = logging.getLogger(__name__)

REQUIRED_CLAIMS = ("exp", "nbf", "iat", "iss", "aud", "sub", "jti", "user_type", "username")

HEADER_CACHE_SIZE = 64
"""Parsed token headers kept (one per signing key and header layout in practice)."""

_MESSAGES = {
    "token_missing": "unauthorized: missing token",
    "token_expired": "token expired",
    "token_not_yet_valid": "token not yet valid",
    "token_malformed": "unauthorized: malformed token",
    "token_bad_signature": "unauthorized: bad signature",
    "token_bad_algorithm": "unauthorized: algorithm not allowed",
    "token_unknown_key": "unauthorized: unknown signing key",
    "token_bad_claims": "unauthorized: bad claims",
}
TOKEN_ERROR_CODES = frozenset(_MESSAGES)


class TokenError(Exception):
    """A token was refused. `code` is stable (see docs/ARCHITECTURE.md); `message` is for humans."""

    def __init__(self, code: str, message: str | None = None) -> None:
        if code not in _MESSAGES:
            raise ValueError(f"unknown token error code {code!r}")
        self.code = code
        self.message = message or _MESSAGES[code]
        super().__init__(f"{code}: {self.message}")


class KeySetUnavailable(Exception):
    """The JWKS could not be fetched and no cached key answers: a server problem, not a bad token."""


class JwtSettings(BaseSettings):
    """Fields every verifying service composes into its own Settings (env prefix comes from the subclass)."""

    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    """Where auth-svc serves the public keys that verify access tokens (fetched, cached, refetched for an unknown `kid`)."""
    jwt_issuer: str = "platform-auth"
    """The `iss` every accepted token must carry (auth-svc's `AUTH_ISSUER`)."""
    jwt_audience: str = "platform"
    """The `aud` every accepted token must carry (auth-svc's `AUTH_AUDIENCE`)."""

    def jwt_verifier(self, http: httpx.AsyncClient | None = None) -> JwksVerifier:
        return JwksVerifier(self.jwks_url, issuer=self.jwt_issuer, audience=self.jwt_audience, http=http)


class JwksVerifier:
    def __init__(
        self,
        jwks_url: str,
        *,
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = ("EdDSA",),
        http: httpx.AsyncClient | None = None,
        cache_ttl: float = 300.0,
        min_refresh_interval: float = 10.0,
        leeway: float = 0,
        clock: Any = time.monotonic,
        verified_cache_size: int = 4096,
    ) -> None:
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience = audience
        self.algorithms = tuple(algorithms)
        self.cache_ttl = cache_ttl
        self.min_refresh_interval = min_refresh_interval
        self.leeway = leeway
        self._clock = clock
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=5.0)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch attempt, successful or not
        self._inflight: asyncio.Task[None] | None = None
        self.fetch_count = 0
        # Tokens already verified, exact bytes -> (principal, exp, key used). A console sends the same token
        # with every request; its signature check is the costliest step of a request. A hit is still refused
        # once expired or once its key left the key set (a refresh builds new key objects: a clean slate).
        self._verified: OrderedDict[str, tuple[Principal, float, jwt.PyJWK, str]] = OrderedDict()
        self.verified_cache_size = verified_cache_size
        self._headers: dict[str, dict[str, Any]] = {}
        # kid -> (the key set's key, its 32 raw bytes): what libsodium verifies with (see `_fast_claims`)
        self._raw_ed25519: dict[str, tuple[jwt.PyJWK, bytes]] = {}

    async def verify(self, token: str | None) -> Principal:
        if not token:
            raise TokenError("token_missing")
        hit = self._verified.get(token)
        if hit is not None and self._still_valid(*hit):
            self._verified.move_to_end(token)  # the common case: no base64, no JSON, no signature check
            return hit[0]
        header = self._header(token)
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenError("token_bad_algorithm", f"unauthorized: algorithm {alg!r} not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenError("token_unknown_key", "unauthorized: token has no kid")
        key = await self._key(kid)
        if hit is not None:
            principal, expires, used, _ = hit
            if used is key and time.time() < expires + self.leeway:  # a refetch is due but failed: old keys
                self._verified.move_to_end(token)
                return principal
            del self._verified[token]  # expired, or its key is gone or was refetched
        claims = self._fast_claims(token, header, key) or self._decode(token, key)
        principal = _principal(claims)
        if self.verified_cache_size > 0:
            self._verified[token] = (principal, float(claims["exp"]), key, kid)
            if len(self._verified) > self.verified_cache_size:
                self._verified.popitem(last=False)
        return principal

    def verified_expiry(self, token: str | None) -> float | None:
        """The `exp` of `token` if this verifier verified it and still remembers it (its cache of verified
        tokens), else None: what a caller that just verified the token would otherwise decode again."""
        hit = self._verified.get(token) if token else None
        return hit[1] if hit is not None else None

    def _header(self, token: str) -> dict[str, Any]:
        """The token's (unverified) header. Every token signed by one key carries the same header segment, so
        the parsed header is kept per segment (at most `HEADER_CACHE_SIZE` of them; a handshake storm of fresh
        tokens parses it once, not once per token)."""
        segment = token.partition(".")[0]
        header = self._headers.get(segment)
        if header is None:
            try:
                header = jwt.get_unverified_header(token)
            except jwt.PyJWTError:
                raise TokenError("token_malformed") from None
            if len(self._headers) >= HEADER_CACHE_SIZE:
                self._headers.clear()
            self._headers[segment] = header
        return header

    def _still_valid(self, _cached: Principal, expires: float, key: jwt.PyJWK, kid: str) -> bool:
        """A verified token answers from the cache while it has not expired and the key that verified it is
        still the key set's, in a key set that is not due for a refetch (so a withdrawn key is noticed on
        time)."""
        fetched_at = self._fetched_at
        return (
            fetched_at is not None
            and self._clock() - fetched_at < self.cache_ttl
            and self._keys.get(kid) is key
            and time.time() < expires + self.leeway
        )

    def _fast_claims(self, token: str, header: dict[str, Any], key: jwt.PyJWK) -> dict[str, Any] | None:
        """The claims of an Ed25519 token that passes every check, without PyJWT's layers: the signature checked
        by libsodium (PyNaCl; ~55 us on the bench box against ~195 us for OpenSSL through `cryptography`, the
        costliest step of a handshake with a fresh token) with the raw bytes of the key the key set holds, then
        the claims as PyJWT checks them, with a second of margin on every time bound. Anything else (another
        algorithm or header field, a failed check, a claim of an unexpected type, a time bound within a second)
        returns None and PyJWT decides, with its own error; so this accepts only tokens PyJWT accepts. One refusal
        is decided here: a signature that does not verify is `token_bad_signature` at once, as PyJWT would say
        after its own checks that come first (segments, base64), which are made here first too. libsodium is the
        stricter verifier (it also refuses non-canonical encodings and small-order points, which no signer of
        ours produces): such a token is refused too."""
        raw_key = self._raw_key(header.get("kid"), key)
        if raw_key is None or not _PLAIN_HEADER_FIELDS.issuperset(header):
            return None
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            signature, payload = _b64url(signature_b64), _b64url(payload_b64)
        except ValueError:  # binascii.Error is one
            return None
        if len(signature) != 64:
            return None
        try:
            crypto_sign_open(signature + f"{header_b64}.{payload_b64}".encode(), raw_key)
        except BadSignatureError:
            # PyJWT would refuse it too, with this code (its checks before the signature passed above): no
            # second verification by OpenSSL, so a flood of forged tokens costs one cheap check each
            raise TokenError("token_bad_signature") from None
        except CryptoError:
            return None
        try:
            claims = from_json(payload)  # pydantic's JSON parser: ~1 us against ~5 for json.loads
        except ValueError:
            return None
        if not isinstance(claims, dict) or not all(name in claims for name in REQUIRED_CLAIMS):
            return None
        exp, nbf, iat = claims["exp"], claims["nbf"], claims["iat"]
        if type(exp) is not int or type(nbf) is not int or type(iat) is not int:
            return None
        now, leeway = time.time(), self.leeway
        if not (exp > now - leeway + 1 and nbf < now + leeway - 1 and iat < now + leeway - 1):
            return None
        aud, iss, sub, jti = claims["aud"], claims["iss"], claims["sub"], claims["jti"]
        if not (isinstance(aud, str) and aud == self.audience and isinstance(iss, str) and iss == self.issuer
                and isinstance(sub, str) and isinstance(jti, str)):
            return None
        return claims

    def _raw_key(self, kid: Any, key: jwt.PyJWK) -> bytes | None:
        """The 32 raw bytes of `key` when it is an EdDSA key over Ed25519 (kept per `kid` while the key set
        holds that very key object: a refetch builds new ones), else None."""
        held = self._raw_ed25519.get(kid) if isinstance(kid, str) else None
        if held is not None and held[0] is key:
            return held[1]
        public = key.key
        if key.algorithm_name != "EdDSA" or not isinstance(public, Ed25519PublicKey):
            return None
        raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        if len(self._raw_ed25519) >= HEADER_CACHE_SIZE:
            self._raw_ed25519.clear()
        self._raw_ed25519[kid] = (key, raw)
        return raw

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=list(self.algorithms),
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("token_expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenError("token_not_yet_valid") from None
        except jwt.InvalidSignatureError:
            raise TokenError("token_bad_signature") from None
        except jwt.InvalidAlgorithmError:
            raise TokenError("token_bad_algorithm") from None
        except jwt.DecodeError:
            raise TokenError("token_malformed") from None
        except jwt.InvalidTokenError as exc:  # iss, aud, missing claim, bad iat/sub/jti types
            raise TokenError("token_bad_claims", f"unauthorized: bad claims ({exc})") from None

    async def _key(self, kid: str) -> jwt.PyJWK:
        now = self._clock()
        if (self._fetched_at is None or now - self._fetched_at >= self.cache_ttl) and self._may_fetch(now):
            await self._refresh()
        key = self._keys.get(kid)
        if key is None and self._may_fetch(self._clock()):
            await self._refresh()
            key = self._keys.get(kid)
        if key is not None:
            return key
        if self._fetched_at is None:
            raise KeySetUnavailable(f"no key set could be fetched from {self.jwks_url}")
        raise TokenError("token_unknown_key")

    def _may_fetch(self, now: float) -> bool:
        return (
            self._inflight is not None
            or self._attempted_at is None
            or now - self._attempted_at >= self.min_refresh_interval
        )

    async def _refresh(self) -> None:
        """Fetch the key set; concurrent callers await the same fetch. Failures keep the old keys."""
        if self._inflight is None:
            self._attempted_at = self._clock()
            self._inflight = asyncio.create_task(self._fetch())
            self._inflight.add_done_callback(self._fetch_done)
        try:
            await asyncio.shield(self._inflight)
        except (httpx.HTTPError, ValueError):
            pass  # logged once in _fetch_done; stale keys (if any) stay in use

    def _fetch_done(self, task: asyncio.Task[None]) -> None:
        self._inflight = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("JWKS fetch from %s failed: %r", self.jwks_url, task.exception())

    async def _fetch(self) -> None:
        self.fetch_count += 1
        response = await self._http.get(self.jwks_url)
        response.raise_for_status()
        self._keys = _parse_jwks(response.json(), self.algorithms)
        self._fetched_at = self._clock()

    async def aclose(self) -> None:
        if self._inflight is not None:
            self._inflight.cancel()
        if self._owns_http:
            await self._http.aclose()


_PLAIN_HEADER_FIELDS = frozenset({"alg", "typ", "kid"})
"""Header fields `_fast_claims` knows; a token with any other (`crit`, `b64`, ...) goes to PyJWT."""


def _b64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _parse_jwks(document: Any, algorithms: Sequence[str]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys", []) if isinstance(document, dict) else []
    for entry in entries:
        if not isinstance(entry, dict) or not entry.get("kid") or entry.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWTError as exc:
            log.warning("ignoring unusable JWK %r: %s", entry.get("kid"), exc)
            continue
        if key.algorithm_name in algorithms:
            keys[entry["kid"]] = key
    return keys


def _principal(claims: dict[str, Any]) -> Principal:
    sub = claims["sub"]
    if not (isinstance(sub, str) and sub.isascii() and sub.isdigit()):
        raise TokenError("token_bad_claims", "unauthorized: sub is not an account id")
    try:
        user_id = int(sub)
        role = claims.get("role") if claims["user_type"] == "admin" else None  # optional: older tokens have none
        openid = claims.get("wx_openid") if claims["user_type"] == "user" else None  # optional: WeChat logins only
        return Principal(user_id=user_id, user_type=claims["user_type"], username=claims["username"], role=role,
                         wx_openid=openid)
    except (ValueError, TypeError, ValidationError):
        raise TokenError("token_bad_claims", "unauthorized: bad platform claims") from None
