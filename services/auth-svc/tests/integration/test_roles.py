"""Admins' roles: stored on the account, carried in the access token's `role` claim, verified into Principal."""

import uuid

import jwt
import pytest
from auth_svc import accounts, db
from auth_svc.cli import _set_role
from servicekit.jwt import JwksVerifier

from .conftest import register

pytestmark = pytest.mark.integration


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def _login(client, username: str) -> dict:
    response = await client.post("/api/v4/auth/login", json={"username": username, "password": "k3v8-q2zt-Lm"})
    assert response.status_code == 200, response.text
    return response.json()


def _claims(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def test_an_admin_is_an_agent_unless_made_a_supervisor_and_the_token_says_which(app, client):
    agent, supervisor = _name("agent"), _name("super")
    await accounts.create_account(app.state.engine, app.state.passwords, agent, "k3v8-q2zt-Lm", "admin")
    await accounts.create_account(app.state.engine, app.state.passwords, supervisor, "k3v8-q2zt-Lm", "admin",
                                  role="supervisor")
    as_agent, as_supervisor = await _login(client, agent), await _login(client, supervisor)
    assert (as_agent["user"]["role"], as_supervisor["user"]["role"]) == ("agent", "supervisor")
    assert _claims(as_agent["access_token"])["role"] == "agent"
    assert _claims(as_supervisor["access_token"])["role"] == "supervisor"

    me = await client.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {as_supervisor['access_token']}"})
    assert me.json()["role"] == "supervisor"


async def test_an_end_users_token_has_no_role_claim(client):
    registered = await register(client, _name("u"))
    assert "role" not in _claims(registered["access_token"])
    assert registered["user"]["role"] is None


async def test_a_verified_token_gives_a_principal_with_the_role(app, client):
    supervisor = _name("super")
    await accounts.create_account(app.state.engine, app.state.passwords, supervisor, "k3v8-q2zt-Lm", "admin",
                                  role="supervisor")
    token = (await _login(client, supervisor))["access_token"]
    verifier = JwksVerifier("http://auth/.well-known/jwks.json", issuer="platform-auth", audience="platform",
                            http=client)
    principal = await verifier.verify(token)
    assert principal.role == "supervisor" and principal.is_supervisor


async def test_set_role_promotes_an_agent_and_the_next_token_carries_it(app, client, settings):
    name = _name("agent")
    await accounts.create_account(app.state.engine, app.state.passwords, name, "k3v8-q2zt-Lm", "admin")
    assert await _set_role(settings, name, "supervisor") == 0
    assert _claims((await _login(client, name))["access_token"])["role"] == "supervisor"
    async with app.state.engine.begin() as conn:
        assert await db.set_role(conn, _name("nobody"), "agent") is None
