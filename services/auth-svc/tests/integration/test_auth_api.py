"""auth-svc over HTTP against real PostgreSQL: register, login, /me, JWKS, health."""

import time
import uuid

import jwt
import pytest
from auth_svc.keys import SigningKey
from auth_svc.tokens import TokenIssuer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from .conftest import register

pytestmark = pytest.mark.integration


async def test_migrations_create_schema_auth_with_its_own_version_table(app):
    async with app.state.engine.connect() as conn:
        tables = set(
            (await conn.execute(text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema IN ('auth', 'public')"
            ))).scalars()
        )  # the session database is shared with other tests: look only at what auth-svc could have made
        version = (await conn.execute(text("SELECT version_num FROM auth.alembic_version"))).scalar_one()
    assert tables == {"auth.accounts", "auth.login_failures", "auth.refresh_tokens", "auth.wechat_identities",
                      "auth.rate_limits", "auth.alembic_version"}
    assert version == "0004"


async def test_register_then_login(client, username):
    registered = await register(client, username)
    assert registered["token_type"] == "bearer"
    assert registered["expires_in"] == 900  # the default access token lifetime: 15 min
    assert registered["user"] == {"user_id": registered["user"]["user_id"], "user_type": "user", "username": username}

    response = await client.post("/api/v4/auth/login", json={"username": username.upper(), "password": "Passw0rd!"})
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == registered["user"]
    assert set(body) == {"access_token", "token_type", "expires_in", "user", "refresh_token", "refresh_expires_in"}


async def test_registration_never_makes_an_admin(client, username):
    response = await client.post(
        "/api/v4/auth/register", json={"username": username, "password": "Passw0rd!", "user_type": "admin"}
    )
    assert response.json()["user"]["user_type"] == "user"


async def test_username_taken_case_insensitively_is_409(client, username):
    await register(client, username)
    response = await client.post("/api/v4/auth/register", json={"username": username.upper(), "password": "k3v8-q2zt"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "username_taken"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "ab", "password": "Passw0rd!"}, "username"),
        ({"username": "x" * 33, "password": "Passw0rd!"}, "username"),
        ({"username": "bad name", "password": "Passw0rd!"}, "username"),
        ({"username": "goodname", "password": "short"}, "password"),
        ({"username": "goodname", "password": "x" * 129}, "password"),
        ({"password": "Passw0rd!"}, "username"),
    ],
)
async def test_bad_registration_is_422_naming_the_field(client, body, field):
    response = await client.post("/api/v4/auth/register", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == [field]


async def test_unknown_user_and_wrong_password_get_the_same_401(client, username):
    await register(client, username)
    wrong = await client.post("/api/v4/auth/login", json={"username": username, "password": "Wrong-pass1"})
    unknown = await client.post("/api/v4/auth/login", json={"username": username + "x", "password": "Passw0rd!"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {
        "error": {"code": "invalid_credentials", "message": "invalid username or password"}
    }


async def test_me_with_a_good_token(client, username):
    registered = await register(client, username)
    response = await client.get(
        "/api/v4/auth/me", headers={"Authorization": f"Bearer {registered['access_token']}"}
    )
    assert response.status_code == 200
    assert response.json() == registered["user"]


def _bad_tokens(app) -> dict[str, str]:
    key: SigningKey = app.state.signing_key
    now = int(time.time())
    expired = TokenIssuer(key, issuer="platform-auth", audience="platform", ttl_seconds=60, clock=lambda: now - 3600)
    forger = SigningKey(Ed25519PrivateKey.generate(), key.kid)  # another key claiming our kid
    forged = TokenIssuer(forger, issuer="platform-auth", audience="platform", ttl_seconds=60)
    claims = jwt.decode(forged.issue(_someone()).access_token, options={"verify_signature": False})
    return {
        "token_expired": expired.issue(_someone()).access_token,
        "token_bad_signature": forged.issue(_someone()).access_token,
        "token_bad_algorithm": jwt.encode(claims, None, algorithm="none", headers={"kid": key.kid}),
        "token_malformed": "not-a-token",
    }


def _someone():
    from contracts.identity import Principal

    return Principal(user_id=1, user_type="admin", username="admin1")


@pytest.mark.parametrize("code", ["token_expired", "token_bad_signature", "token_bad_algorithm", "token_malformed"])
async def test_me_refuses_bad_tokens_with_distinct_codes(app, client, code):
    token = _bad_tokens(app)[code]
    response = await client.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


async def test_me_without_a_token(client):
    response = await client.get("/api/v4/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_missing"


async def test_jwks_document(app, client):
    response = await client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    assert "max-age=" in response.headers["Cache-Control"]
    (jwk,) = response.json()["keys"]
    assert jwk == app.state.signing_key.public_jwk()
    assert set(jwk) == {"kty", "crv", "x", "kid", "alg", "use"}


async def test_health_checks_the_database(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "service": "auth-svc", "checks": {"database": "ok"}}


async def test_repeated_failed_logins_lock_that_username_only_and_a_success_resets_it(client):
    """Lockout (throttle.py): the 5th failure locks the username (429 too_many_attempts + Retry-After, checked
    before the password, so even the right one is refused while locked); other accounts are unaffected."""
    name = f"lock{uuid.uuid4().hex[:8]}"
    other = f"free{uuid.uuid4().hex[:8]}"
    for username in (name, other):
        assert (await client.post("/api/v4/auth/register", json={"username": username, "password": "Passw0rd!"})
                ).status_code == 201
    for _ in range(2):
        assert (await client.post("/api/v4/auth/login", json={"username": name, "password": "wrong-pass"})
                ).status_code == 401
    ok = await client.post("/api/v4/auth/login", json={"username": name, "password": "Passw0rd!"})
    assert ok.status_code == 200  # and it resets the count
    codes = [(await client.post("/api/v4/auth/login", json={"username": name, "password": "wrong-pass"})).status_code
             for _ in range(5)]
    assert codes == [401, 401, 401, 401, 401]
    locked = await client.post("/api/v4/auth/login", json={"username": name, "password": "Passw0rd!"})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(locked.headers["Retry-After"]) <= 30
    assert (await client.post("/api/v4/auth/login", json={"username": other, "password": "Passw0rd!"})
            ).status_code == 200
