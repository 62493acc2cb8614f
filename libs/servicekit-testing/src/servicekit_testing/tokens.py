"""Tokens for a service's own tests, without starting auth-svc: a throwaway Ed25519 key, tokens with the
platform's claims, and a ``JwksVerifier`` that reads this key's JWKS through ``httpx.MockTransport``.

    mint = TokenMint()
    app = create_app(settings, jwt_verifier=mint.verifier())
    headers = mint.headers(user_id=1, user_type="admin", username="admin1")
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import jwt
from contracts.identity import UserType
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm
from servicekit.jwt import JwksVerifier

ISSUER = "platform-auth"
AUDIENCE = "platform"
JWKS_URL = "http://auth.test/.well-known/jwks.json"


class TokenMint:
    def __init__(self, kid: str = "test-key") -> None:
        self.kid = kid
        self._key = Ed25519PrivateKey.generate()

    def jwks(self) -> dict[str, Any]:
        jwk = OKPAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "alg": "EdDSA", "use": "sig"}]}

    def token(self, user_id: int, user_type: UserType, username: str | None = None, **overrides: Any) -> str:
        """A valid token; ``overrides`` replace or add claims (``exp=...``), a claim set to None is removed."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": str(user_id), "user_type": user_type, "username": username or f"{user_type}{user_id}",
            "iss": ISSUER, "aud": AUDIENCE, "iat": now, "nbf": now, "exp": now + 3600, "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, user_id: int, user_type: UserType, username: str | None = None, **overrides: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user_id, user_type, username, **overrides)}"}

    def verifier(self) -> JwksVerifier:
        transport = httpx.MockTransport(lambda request: httpx.Response(200, json=self.jwks()))
        return JwksVerifier(JWKS_URL, issuer=ISSUER, audience=AUDIENCE, http=httpx.AsyncClient(transport=transport))
