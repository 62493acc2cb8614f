"""The bench's throwaway signing key: real Ed25519 tokens with the platform's claims, and a `JwksVerifier`
that reads the public key from a JWKS file (no auth-svc, and production auth is untouched: the servers
verify these tokens exactly as they verify auth-svc's)."""

import json
from pathlib import Path

import httpx
from servicekit.jwt import JwksVerifier
from servicekit_testing.tokens import AUDIENCE, ISSUER, JWKS_URL, TokenMint


def write_mint(directory: Path, count: int) -> tuple[Path, list[str], str]:
    """A fresh key: its JWKS file, `count` admin tokens (ids 1..count) and a token for the API caller."""
    mint = TokenMint(kid="bench-key")
    jwks = directory / "jwks.json"
    jwks.write_text(json.dumps(mint.jwks()))
    tokens = [mint.token(i, "admin") for i in range(1, count + 1)]
    return jwks, tokens, mint.token(1, "admin")


def verifier_from(jwks_file: str) -> JwksVerifier:
    keys = json.loads(Path(jwks_file).read_text())
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=keys))
    return JwksVerifier(JWKS_URL, issuer=ISSUER, audience=AUDIENCE, http=httpx.AsyncClient(transport=transport))
