"""Issue 14: registration throttled per address, weak passwords refused, a lockout an attacker cannot use against
the owner, and refresh tokens (rotation, reuse detection, logout). Client addresses are loopback addresses of
their own (every 127.x.y.z is the machine itself), given to the in-process app as `request.client.host`."""

import uuid

import pytest

from .conftest import client_from, make_app, make_settings, random_address, register, running

pytestmark = pytest.mark.integration

LOGIN = "/api/v4/auth/login"
REFRESH = "/api/v4/auth/refresh"
LOGOUT = "/api/v4/auth/logout"


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


async def test_registrations_from_one_address_past_the_limit_get_429_and_other_addresses_are_unaffected(
    make_database, tmp_path
):
    url = await make_database()
    app = make_app(make_settings(url, tmp_path / "k.pem", register_max_per_address=3))
    async with running(app), client_from(app, "127.0.0.2") as flood, client_from(app, "127.0.0.3") as other:
        codes = [(await flood.post("/api/v4/auth/register", json={"username": _name("r"), "password": "Passw0rd!"})
                  ).status_code for _ in range(5)]
        refused = await flood.post("/api/v4/auth/register", json={"username": _name("r"), "password": "Passw0rd!"})
        elsewhere = await other.post("/api/v4/auth/register", json={"username": _name("r"), "password": "Passw0rd!"})
    assert codes == [201, 201, 201, 429, 429]
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_attempts"
    assert "registrations" in refused.json()["error"]["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert elsewhere.status_code == 201


def test_the_registration_limit_has_a_documented_default():
    from auth_svc.settings import Settings

    field = Settings.model_fields["register_max_per_address"]
    assert field.default == 20
    assert Settings.model_fields["token_ttl_seconds"].default == 900


@pytest.mark.parametrize(("password", "why"), [("password1", "common"), ("12345678", "common"),
                                               ("Iloveyou", "common"), (None, "the username")])
async def test_weak_passwords_are_refused_at_registration_with_422_weak_password(client, username, password, why):
    response = await client.post("/api/v4/auth/register",
                                 json={"username": username, "password": password or username.upper()})
    assert response.status_code == 422, why
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert [d["field"] for d in error["details"]] == ["password"]
    login = await client.post(LOGIN, json={"username": username, "password": password or username.upper()})
    assert login.status_code == 401  # nothing was created


async def test_an_attackers_failures_from_one_address_do_not_lock_the_owner_out_from_another(app, client):
    owner = _name("own")
    await register(client, owner)
    async with client_from(app, random_address()) as attacker, client_from(app, random_address()) as home:
        tries = [(await attacker.post(LOGIN, json={"username": owner, "password": "wrong-pass"})).status_code
                 for _ in range(7)]
        locked = await attacker.post(LOGIN, json={"username": owner, "password": "Passw0rd!"})
        mine = await home.post(LOGIN, json={"username": owner, "password": "Passw0rd!"})
    assert tries == [401, 401, 401, 401, 401, 429, 429]
    assert locked.status_code == 429  # the attacker's address is locked for this username, even the right password
    assert mine.status_code == 200, mine.text


async def test_a_guesser_rotating_addresses_is_slowed_per_username_but_not_the_owner_at_a_known_address(
    app, client
):
    """Two guesses from each of many addresses (never enough to lock a pair): the username's own count still
    slows them down after `login_max_failures_per_username` (20) failures, with a short Retry-After; the owner,
    at an address they logged in from before, is not slowed."""
    owner = _name("rot")
    await register(client, owner)
    home = random_address()
    async with client_from(app, home) as at_home:
        assert (await at_home.post(LOGIN, json={"username": owner, "password": "Passw0rd!"})).status_code == 200
    codes = []
    for _ in range(12):
        async with client_from(app, random_address()) as guesser:
            for _ in range(2):
                codes.append((await guesser.post(LOGIN, json={"username": owner, "password": "wrong-pass"})
                              ).status_code)
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}  # the 20th failure locked the username for a moment
    async with client_from(app, random_address()) as fresh:
        slowed = await fresh.post(LOGIN, json={"username": owner, "password": "Passw0rd!"})
    assert slowed.status_code == 429
    assert slowed.json()["error"]["code"] == "too_many_attempts"
    assert 1 <= int(slowed.headers["Retry-After"]) <= 60  # slowed, not locked for long
    async with client_from(app, home) as at_home:
        mine = await at_home.post(LOGIN, json={"username": owner, "password": "Passw0rd!"})
    assert mine.status_code == 200, mine.text


async def test_refresh_rotates_and_the_old_refresh_token_is_used_up(client, username):
    first = await register(client, username)
    assert first["refresh_expires_in"] > first["expires_in"] > 0
    second = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["user"] == first["user"]
    assert body["refresh_token"] != first["refresh_token"] and body["access_token"] != first["access_token"]
    me = await client.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == username
    third = await client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    assert third.status_code == 200


async def test_reusing_a_rotated_refresh_token_revokes_its_whole_family(client, username):
    first = await register(client, username)
    other_login = (await client.post(LOGIN, json={"username": username, "password": "Passw0rd!"})).json()
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    reused = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "refresh_token_reused"
    after = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401  # the thief's or the owner's copy: both ended
    assert after.json()["error"]["code"] == "refresh_token_invalid"
    elsewhere = await client.post(REFRESH, json={"refresh_token": other_login["refresh_token"]})
    assert elsewhere.status_code == 200  # another login of the same account is another family


async def test_logout_revokes_the_refresh_token_family(client, username):
    first = await register(client, username)
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    out = await client.post(LOGOUT, json={"refresh_token": second["refresh_token"]})
    assert out.status_code == 204
    refused = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "refresh_token_invalid"
    assert (await client.post(LOGOUT, json={"refresh_token": second["refresh_token"]})).status_code == 204
    assert (await client.post(LOGOUT, json={"refresh_token": "never-issued"})).status_code == 204


async def test_unknown_or_expired_refresh_tokens_are_401(make_database, tmp_path):
    url = await make_database()
    app = make_app(make_settings(url, tmp_path / "k.pem", refresh_token_ttl_seconds=1))
    async with running(app) as client:
        unknown = await client.post(REFRESH, json={"refresh_token": "x" * 43})
        tokens = await register(client, _name("exp"))
        assert tokens["refresh_expires_in"] <= 1
        async with app.state.engine.begin() as conn:  # no sleeping: age the token in the database
            from sqlalchemy import text

            await conn.execute(text("UPDATE auth.refresh_tokens SET expires_at = now() - interval '1 second'"))
        expired = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert (unknown.status_code, expired.status_code) == (401, 401)
    assert unknown.json()["error"]["code"] == expired.json()["error"]["code"] == "refresh_token_invalid"


async def test_registrations_hash_one_at_a_time_so_logins_keep_cores_to_verify(make_database, tmp_path):
    """`register_concurrent_hashes` (1): a burst of registrations, from many addresses, hashes in turn."""
    import asyncio

    from auth_svc.main import create_app
    from auth_svc.passwords import Passwords

    from .conftest import FAST_PASSWORDS

    class Counting(Passwords):
        now = most = 0

        async def hash(self, password: str) -> str:
            Counting.now += 1
            Counting.most = max(Counting.most, Counting.now)
            try:
                await asyncio.sleep(0.02)  # let the others in, if they may come
                return await super().hash(password)
            finally:
                Counting.now -= 1

    url = await make_database()
    app = create_app(make_settings(url, tmp_path / "k.pem"), passwords=Counting(FAST_PASSWORDS))
    async with running(app):
        async def one(n: int) -> int:
            async with client_from(app, f"127.0.3.{n + 1}") as c:
                return (await c.post("/api/v4/auth/register", json={"username": _name("h"), "password": "Passw0rd!"})
                        ).status_code
        codes = await asyncio.gather(*(one(n) for n in range(6)))
    assert codes == [201] * 6
    assert Counting.most == 1
