"""Signing key file, JWKS shape, token claims (checked with the same verifier every service uses)."""

import stat
import time

import httpx
import jwt
import pytest
from auth_svc.keys import KeyFileMissing, SigningKey, jwks, load_or_generate, thumbprint
from auth_svc.tokens import TokenIssuer
from contracts.identity import Principal
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from servicekit.jwt import JwksVerifier, TokenError

ALICE = Principal(user_id=42, user_type="user", username="alice")


def test_thumbprint_matches_rfc_8037_example():
    assert thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo") == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_key_file_is_generated_private_and_stable(tmp_path):
    path = tmp_path / "run" / "key.pem"
    first = load_or_generate(path, generate=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_or_generate(path, generate=True)
    assert first.kid == second.kid
    assert list(path.parent.iterdir()) == [path]  # no temp files left behind


def test_missing_key_file_is_an_error_when_generation_is_off(tmp_path):
    with pytest.raises(KeyFileMissing):
        load_or_generate(tmp_path / "absent.pem", generate=False)


def test_jwks_shape():
    key = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    document = jwks([key])
    assert list(document) == ["keys"]
    (jwk,) = document["keys"]
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("OKP", "Ed25519", "EdDSA", "sig")
    assert jwk["kid"] == thumbprint(jwk["x"]) == key.kid
    assert "d" not in jwk


def test_token_claims_and_header():
    key = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    issuer = TokenIssuer(key, issuer="platform-auth", audience="platform", ttl_seconds=600, clock=lambda: 1_000_000)
    issued = issuer.issue(ALICE)
    assert issued.expires_in == 600
    header = jwt.get_unverified_header(issued.access_token)
    assert (header["alg"], header["kid"]) == ("EdDSA", key.kid)
    claims = jwt.decode(issued.access_token, options={"verify_signature": False})
    assert {k: claims[k] for k in ("sub", "user_type", "username", "iss", "aud", "iat", "nbf", "exp")} == {
        "sub": "42", "user_type": "user", "username": "alice", "iss": "platform-auth", "aud": "platform",
        "iat": 1_000_000, "nbf": 1_000_000, "exp": 1_000_600,
    }
    assert len(claims["jti"]) == 32
    assert claims["jti"] != jwt.decode(issuer.issue(ALICE).access_token, options={"verify_signature": False})["jti"]


async def test_issued_token_passes_the_platform_verifier_and_expires():
    key = SigningKey.from_private_key(Ed25519PrivateKey.generate())
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=jwks([key])))
    async with httpx.AsyncClient(transport=transport) as http:
        verifier = JwksVerifier("http://auth/jwks", issuer="platform-auth", audience="platform", http=http)
        fresh = TokenIssuer(key, issuer="platform-auth", audience="platform", ttl_seconds=600)
        assert await verifier.verify(fresh.issue(ALICE).access_token) == ALICE
        old = TokenIssuer(key, issuer="platform-auth", audience="platform", ttl_seconds=600,
                          clock=lambda: time.time() - 3600)
        with pytest.raises(TokenError) as info:
            await verifier.verify(old.issue(ALICE).access_token)
        assert info.value.code == "token_expired"
