"""Issue 3's acceptance over the running stack: a real login's token verifies against auth-svc's JWKS, and
forged, expired, `alg: none` and HS256-with-the-public-key tokens are each refused with their own clear error,
both by the shared verifier and at the REST edge of a service."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from servicekit.jwt import JwksVerifier, TokenError

from tests.integration.conftest import AUTH
from tests.integration.stack import Stack

PASSWORD = "Passw0rd!"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join([_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), _b64(signature)])


async def _login(client: httpx.AsyncClient, username: str) -> dict:
    response = await client.post("/api/v4/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def auth(stack: Stack):
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=10) as client:
        yield client


@pytest.fixture
async def verifier(stack: Stack):
    verifier = JwksVerifier(f"{stack.url(AUTH)}/.well-known/jwks.json", issuer="platform-auth", audience="platform")
    yield verifier
    await verifier.aclose()


async def test_seeded_admin_logs_in_and_the_token_verifies_against_the_jwks(auth, verifier):
    body = await _login(auth, "admin1")
    assert body["token_type"] == "bearer" and body["expires_in"] > 0
    assert body["user"]["user_type"] == "admin" and body["user"]["username"] == "admin1"
    principal = await verifier.verify(body["access_token"])
    assert principal.user_id == body["user"]["user_id"] and principal.user_type == "admin"
    me = await auth.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json() == body["user"]


async def test_seeded_end_user_gets_a_user_token(auth, verifier):
    body = await _login(auth, "user1")
    assert (await verifier.verify(body["access_token"])).user_type == "user"


async def test_bad_tokens_are_refused_each_with_its_own_error(stack: Stack, auth, verifier):
    good = (await _login(auth, "admin2"))["access_token"]
    header = jwt.get_unverified_header(good)
    claims = jwt.decode(good, options={"verify_signature": False})
    real_key = load_pem_private_key((stack.workdir / "auth-signing-key.pem").read_bytes(), password=None)
    now = int(time.time())

    forged = jwt.encode({**claims, "username": "admin3"}, Ed25519PrivateKey.generate(), algorithm="EdDSA",
                        headers={"kid": header["kid"]})
    expired = jwt.encode({**claims, "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600, "jti": uuid.uuid4().hex},
                         real_key, algorithm="EdDSA", headers={"kid": header["kid"]})
    alg_none = _unsigned({"alg": "none", "typ": "JWT", "kid": header["kid"]}, claims)
    jwks = (await auth.get("/.well-known/jwks.json")).json()
    public_x = jwks["keys"][0]["x"].encode()
    hs_header = {"alg": "HS256", "typ": "JWT", "kid": header["kid"]}
    signing_input = f"{_b64(json.dumps(hs_header).encode())}.{_b64(json.dumps(claims).encode())}"
    hs256 = f"{signing_input}.{_b64(hmac.new(public_x, signing_input.encode(), hashlib.sha256).digest())}"

    expected = {
        "forged": (forged, "token_bad_signature"),
        "expired": (expired, "token_expired"),
        "alg none": (alg_none, "token_bad_algorithm"),
        "HS256 with the public key": (hs256, "token_bad_algorithm"),
        "garbage": ("not-a-jwt", "token_malformed"),
    }
    for name, (token, code) in expected.items():
        with pytest.raises(TokenError) as refused:
            await verifier.verify(token)
        assert refused.value.code == code, name
        response = await auth.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, name
        error = response.json()["error"]
        assert error["code"] == code, name
        assert error["message"], name
    messages = {(await auth.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {t}"})).json()["error"]["message"]
                for t, _ in (expected["forged"], expected["expired"], expected["alg none"])}
    assert len(messages) == 3  # a person (or a page) can tell the three apart
    assert "expired" in (await auth.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {expired}"})).json()["error"]["message"]
