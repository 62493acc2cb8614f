"""notification-svc's WeChat API client against the WeChat stand-in (a real HTTP server)."""

import asyncio

import pytest
from notification_svc.wechat_api import WeChatApi, WeChatError
from pydantic import SecretStr
from servicekit_testing.wechat_standin import WeChatStandIn

TOKEN = "/cgi-bin/stable_token"
SEND = "/cgi-bin/message/subscribe/send"


def message(n: int) -> dict:
    return {"touser": f"openid-{n}", "template_id": "t", "page": "pages/chat/index", "data": {"thing1": {"value": "x"}}}


async def test_concurrent_sends_fetch_the_access_token_once():
    async with WeChatStandIn(appid="wx-a", secret="s") as wechat:
        api = WeChatApi(wechat.base_url, "wx-a", SecretStr("s"))
        try:
            await asyncio.gather(*(api.send_subscribe_message(message(n)) for n in range(20)))
        finally:
            await api.aclose()
        assert len(wechat.calls_to(TOKEN)) == 1
        assert len(wechat.sent) == 20


async def test_the_access_token_is_fetched_again_before_it_expires():
    now = [0.0]
    async with WeChatStandIn(appid="wx-a", secret="s", token_ttl=7200) as wechat:
        api = WeChatApi(wechat.base_url, "wx-a", SecretStr("s"), margin_seconds=300, clock=lambda: now[0])
        try:
            first = await api.access_token()
            now[0] = 7200 - 301.0
            assert await api.access_token() == first
            now[0] = 7200 - 299.0  # inside the margin
            assert await api.access_token() != first
        finally:
            await api.aclose()
        assert len(wechat.calls_to(TOKEN)) == 2


async def test_an_expired_access_token_is_replaced_once_and_the_send_goes_through():
    async with WeChatStandIn(appid="wx-a", secret="s") as wechat:
        api = WeChatApi(wechat.base_url, "wx-a", SecretStr("s"))
        try:
            await api.access_token()
            wechat.expire_tokens()
            await api.send_subscribe_message(message(1))
            wechat.fail_next(40001)
            wechat.fail_next(40001)
            with pytest.raises(WeChatError) as refused:  # the send says invalid, the new fetch fails: no third try
                await api.send_subscribe_message(message(2))
        finally:
            await api.aclose()
        assert refused.value.errcode == 40001
        assert len(wechat.calls_to(TOKEN)) == 3
        assert [m["touser"] for m in wechat.sent] == ["openid-1"]


async def test_wechat_errors_never_name_the_secret_or_the_token():
    async with WeChatStandIn(appid="wx-a", secret="s3cret-value") as wechat:
        api = WeChatApi("http://127.0.0.1:9", "wx-a", SecretStr("s3cret-value"), timeout_seconds=1)
        try:
            with pytest.raises(WeChatError) as unreachable:
                await api.access_token()
        finally:
            await api.aclose()
        assert "s3cret" not in str(unreachable.value) and wechat.calls == []
