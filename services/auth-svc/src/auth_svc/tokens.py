"""Access tokens: EdDSA JWTs with the platform's claims (docs/ARCHITECTURE.md, "Identity and tokens")."""

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import jwt
from contracts.identity import Principal

from auth_svc.keys import SigningKey


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


class TokenIssuer:
    def __init__(
        self,
        key: SigningKey,
        *,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds
        self._clock = clock

    def issue(self, principal: Principal) -> IssuedToken:
        now = int(self._clock())
        claims = {
            "sub": str(principal.user_id),
            "user_type": principal.user_type,
            "username": principal.username,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        if principal.is_admin:
            claims["role"] = principal.role or "agent"
        elif principal.wx_openid is not None:
            claims["wx_openid"] = principal.wx_openid
        token = jwt.encode(claims, self.key.private_key, algorithm="EdDSA", headers={"kid": self.key.kid})
        return IssuedToken(token, self.ttl_seconds)
