"""WeChat mini program login (`POST /api/v4/auth/wechat/login`) against a stand-in of WeChat's API
(servicekit_testing.wechat_standin): accounts bound by openid/unionid, WeChat's refusals as clear answers, the
app secret kept out of the logs, a limit per client address."""

import asyncio
import logging
import socket
import uuid
from collections.abc import AsyncIterator

import jwt
import pytest
import pytest_asyncio
from fastapi import FastAPI
from servicekit.ratelimit import RateLimit
from servicekit_testing.wechat_standin import WeChatStandIn

from .conftest import client_from, make_app, make_settings, random_address, running

pytestmark = pytest.mark.integration

APPID, SECRET = "wx-test-appid", "very-secret-app-secret-0123456789"
LOGIN = "/api/v4/auth/wechat/login"


@pytest_asyncio.fixture
async def wechat() -> AsyncIterator[WeChatStandIn]:
    async with WeChatStandIn(appid=APPID, secret=SECRET) as standin:
        yield standin


def _app(database_url: str, key_file, base_url: str, **overrides: object) -> FastAPI:
    settings = make_settings(database_url, key_file, wechat_appid=APPID, wechat_secret=SECRET,
                             wechat_api_base_url=base_url, wechat_timeout_seconds=2, **overrides)
    return make_app(settings)


@pytest_asyncio.fixture
async def app_with_wechat(database_url: str, key_file, wechat: WeChatStandIn) -> AsyncIterator[FastAPI]:
    app = _app(database_url, key_file, wechat.base_url)
    async with app.router.lifespan_context(app):
        yield app


def _openid() -> str:
    return f"o-{uuid.uuid4().hex}"


async def test_a_first_wechat_login_makes_an_end_user_and_later_logins_find_the_same_account(
    app_with_wechat: FastAPI, wechat: WeChatStandIn
) -> None:
    openid = _openid()
    async with client_from(app_with_wechat, random_address()) as client:
        first = await client.post(LOGIN, json={"code": wechat.issue_code(openid)})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["created"] is True and body["user"]["user_type"] == "user"
        assert body["user"]["username"].startswith("wx_") and body["refresh_token"]
        me = await client.get("/api/v4/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
        assert me.json()["user_id"] == body["user"]["user_id"]
        again = (await client.post(LOGIN, json={"code": wechat.issue_code(openid)})).json()
    assert again["created"] is False and again["user"]["user_id"] == body["user"]["user_id"]
    [call, _] = wechat.calls
    assert call.query == {"appid": APPID, "secret": SECRET, "js_code": call.query["js_code"],
                          "grant_type": "authorization_code"}


async def test_the_tokens_of_a_wechat_login_and_of_its_refresh_carry_the_openid(
    app_with_wechat: FastAPI, wechat: WeChatStandIn
) -> None:
    openid = _openid()
    async with client_from(app_with_wechat, random_address()) as client:
        login = (await client.post(LOGIN, json={"code": wechat.issue_code(openid)})).json()
        refreshed = (await client.post("/api/v4/auth/refresh", json={"refresh_token": login["refresh_token"]})).json()
        password_login = await client.post("/api/v4/auth/register", json={
            "username": f"plain{uuid.uuid4().hex[:8]}", "password": "Passw0rd!-not-wechat"})
    for tokens in (login, refreshed):
        assert jwt.decode(tokens["access_token"], options={"verify_signature": False})["wx_openid"] == openid
    assert password_login.status_code == 201, password_login.text
    assert "wx_openid" not in jwt.decode(password_login.json()["access_token"], options={"verify_signature": False})


async def test_another_openid_with_the_same_unionid_is_the_same_person(
    app_with_wechat: FastAPI, wechat: WeChatStandIn
) -> None:
    unionid = f"u-{uuid.uuid4().hex}"
    async with client_from(app_with_wechat, random_address()) as client:
        first = (await client.post(LOGIN, json={"code": wechat.issue_code(_openid(), unionid=unionid)})).json()
        second = (await client.post(LOGIN, json={"code": wechat.issue_code(_openid(), unionid=unionid)})).json()
    assert second["created"] is False and second["user"]["user_id"] == first["user"]["user_id"]


async def test_two_first_logins_of_one_user_at_once_make_one_account(
    app_with_wechat: FastAPI, wechat: WeChatStandIn
) -> None:
    openid = _openid()
    async with client_from(app_with_wechat, random_address()) as client:
        answers = await asyncio.gather(*(client.post(LOGIN, json={"code": wechat.issue_code(openid)})
                                         for _ in range(4)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["user"]["user_id"] for a in answers}) == 1
    assert sorted(a.json()["created"] for a in answers) == [False, False, False, True]


async def test_a_wechat_only_account_cannot_log_in_with_any_password(
    app_with_wechat: FastAPI, wechat: WeChatStandIn
) -> None:
    async with client_from(app_with_wechat, random_address()) as client:
        username = (await client.post(LOGIN, json={"code": wechat.issue_code(_openid())})).json()["user"]["username"]
        for password in ("!wechat", "", "Passw0rd!"):
            refused = await client.post("/api/v4/auth/login", json={"username": username, "password": password or "x"})
            assert refused.status_code == 401, refused.text


@pytest.mark.parametrize(("errcode", "status", "code"), [
    (40029, 401, "wechat_code_invalid"),
    (40163, 401, "wechat_code_invalid"),
    (40226, 403, "wechat_user_blocked"),
    (45011, 429, "wechat_rate_limited"),
    (-1, 503, "wechat_unavailable"),
    (40125, 503, "wechat_misconfigured"),
    (99999, 503, "wechat_misconfigured"),
])
async def test_wechat_refusals_become_clear_answers(
    app_with_wechat: FastAPI, wechat: WeChatStandIn, errcode: int, status: int, code: str
) -> None:
    wechat.fail_next(errcode)
    async with client_from(app_with_wechat, random_address()) as client:
        answer = await client.post(LOGIN, json={"code": wechat.issue_code(_openid())})
    assert answer.status_code == status, answer.text
    assert answer.json()["error"]["code"] == code
    if status == 429:
        assert answer.headers["retry-after"] == "60"


async def test_a_used_code_is_refused_as_invalid(app_with_wechat: FastAPI, wechat: WeChatStandIn) -> None:
    code = wechat.issue_code(_openid())
    async with client_from(app_with_wechat, random_address()) as client:
        assert (await client.post(LOGIN, json={"code": code})).status_code == 200
        reused = await client.post(LOGIN, json={"code": code})
    assert reused.status_code == 401 and reused.json()["error"]["code"] == "wechat_code_invalid"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_an_unreachable_wechat_is_503_and_the_secret_is_in_no_log_line(
    database_url: str, key_file, wechat: WeChatStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    unreachable = _app(database_url, key_file, f"http://127.0.0.1:{_closed_port()}")
    async with running(unreachable), client_from(unreachable, random_address()) as client:
        answer = await client.post(LOGIN, json={"code": "anything"})
    assert answer.status_code == 503 and answer.json()["error"]["code"] == "wechat_unavailable"
    # and through every other path: success, refusal, misconfiguration
    reachable = _app(database_url, key_file, wechat.base_url)
    async with running(reachable), client_from(reachable, random_address()) as client:
        assert (await client.post(LOGIN, json={"code": wechat.issue_code(_openid())})).status_code == 200
        assert (await client.post(LOGIN, json={"code": "made-up"})).status_code == 401
        wechat.fail_next(40125)
        assert (await client.post(LOGIN, json={"code": wechat.issue_code(_openid())})).status_code == 503
    assert caplog.records, "nothing was logged at all: the check below would prove nothing"
    for record in caplog.records:
        assert SECRET not in record.getMessage() and SECRET not in str(record.__dict__), record


async def test_wechat_logins_are_limited_per_client_address(
    database_url: str, key_file, wechat: WeChatStandIn
) -> None:
    app = _app(database_url, key_file, wechat.base_url,
               wechat_login_rate_limit=RateLimit(requests=3, per_seconds=60))
    flood_address = random_address()
    async with running(app), client_from(app, flood_address) as flood, \
            client_from(app, random_address()) as other:
        answers = [await flood.post(LOGIN, json={"code": f"made-up-{i}"}) for i in range(5)]
        assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
        assert answers[-1].json()["error"]["code"] == "rate_limited" and int(answers[-1].headers["retry-after"]) >= 1
        assert (await other.post(LOGIN, json={"code": wechat.issue_code(_openid())})).status_code == 200
    assert len(wechat.calls) == 4  # refused logins never reached WeChat


async def test_without_appid_and_secret_wechat_login_answers_404_disabled(client) -> None:
    answer = await client.post(LOGIN, json={"code": "anything"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "wechat_login_disabled"


async def test_a_missing_or_oversized_code_is_422(client) -> None:
    for body in ({}, {"code": ""}, {"code": "x" * 129}, {"code": 5}):
        assert (await client.post(LOGIN, json=body)).status_code == 422, body
