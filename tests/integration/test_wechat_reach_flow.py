"""Issue 18's offline reach over the whole running stack, with the WeChat stand-in as WeChat for auth-svc (login)
and notification-svc (subscribe messages): a WeChat user consents once; an admin's reply while their socket is
open reaches them by socket only; once they have closed it, a reply becomes exactly one subscribe message.

A stack of its own: WeChat settings on in auth-svc and notification-svc.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import socketio
from servicekit_testing.wechat_standin import WeChatStandIn

from tests.integration.conftest import AUTH, CHAT, GATEWAY, NOTIFICATION, start_stack
from tests.integration.sockets import Person, connect_person
from tests.integration.stack import Stack

APPID, SECRET, TEMPLATE = "wx-flow-appid", "wx-flow-secret", "tmpl-flow-reply"


@pytest_asyncio.fixture(loop_scope="session")
async def wechat() -> AsyncIterator[WeChatStandIn]:
    async with WeChatStandIn(appid=APPID, secret=SECRET) as standin:
        yield standin


@pytest_asyncio.fixture(loop_scope="session")
async def reach_stack(
    make_database: Callable[[], Awaitable[str]], make_vhost: Callable[[], Awaitable[str]],
    tmp_path_factory: pytest.TempPathFactory, wechat: WeChatStandIn,
) -> AsyncIterator[Stack]:
    common = {"APPID": APPID, "SECRET": SECRET, "API_BASE_URL": wechat.base_url}
    stack = await start_stack(
        make_database, make_vhost, Path(tmp_path_factory.mktemp("reach-stack")), start_timeout=120,
        auth_env={f"AUTH_WECHAT_{k}": v for k, v in common.items()},
        notification_env={**{f"NOTIFICATION_WECHAT_{k}": v for k, v in common.items()},
                          "NOTIFICATION_WECHAT_TEMPLATE_ID": TEMPLATE, "NOTIFICATION_WECHAT_RETRY_SECONDS": "0.1"},
    )
    try:
        yield stack
    finally:
        await stack.stop()


async def wechat_person(stack: Stack, wechat: WeChatStandIn, openid: str) -> Person:
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=10) as http:
        response = await http.post("/api/v4/auth/wechat/login", json={"code": wechat.issue_code(openid)})
    assert response.status_code == 200, response.text
    body = response.json()
    sio = socketio.AsyncClient(reconnection=False)
    person = Person(body["user"]["username"], body["user"]["user_id"], body["access_token"], sio)

    @sio.on("*")
    async def record(event: str, *args: Any) -> None:
        person.received.append((event, args[0] if args else None))
        person.changed.set()

    await sio.connect(stack.url(GATEWAY), socketio_path="/socket.io", transports=["websocket"],
                      auth={"token": person.token}, wait_timeout=10)
    return person


async def call(stack: Stack, service: str, method: str, path: str, person: Person, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=stack.url(service), timeout=10) as http:
        response = await http.request(method, path, json=body, headers=person.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_a_reply_reaches_an_online_wechat_user_by_socket_and_an_offline_one_by_one_subscribe_message(
    reach_stack: Stack, wechat: WeChatStandIn
) -> None:
    stack, openid = reach_stack, f"o-{uuid.uuid4().hex}"
    agent = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin1")
    user = await wechat_person(stack, wechat, openid)
    try:
        consent = await call(stack, NOTIFICATION, "POST", "/api/v4/notifications/wechat/subscriptions", user,
                             {"template_id": TEMPLATE})
        assert consent == {"template_id": TEMPLATE, "remaining": 1}
        session = await call(stack, CHAT, "POST", "/api/v4/customer-service/sessions", user, {"content": "在吗"})
        sid = session["session_id"]
        mine = lambda d: d["session_id"] == sid
        await agent.wait_for("chat:session_assigned", mine, timeout=15)

        online = await agent.call("chat:send_message", {"session_id": sid, "content": "在的，请讲"})
        assert online["ok"] is True
        await user.wait_for("chat:new_message", lambda d: mine(d) and d["message_content"] == "在的，请讲")
        await user.sio.disconnect()

        # Replies until one reaches WeChat: the first may be decided before the gateway's word that the user left
        # has arrived. The one consent allows one message, however many replies follow.
        replies = 0
        async with asyncio.timeout(20):
            while not wechat.sent:
                replies += 1
                ack = await agent.call("chat:send_message", {"session_id": sid, "content": f"您的问题已处理 {replies}"})
                assert ack["ok"] is True  # the chat path answers as always
                await asyncio.sleep(0.3)
        await asyncio.sleep(1.0)  # room for a second message, which must not come
        [message] = wechat.sent
        assert message["touser"] == openid and message["template_id"] == TEMPLATE
        assert message["page"] == f"pages/chat/index?session_id={sid}"
        assert message["data"]["thing1"]["value"].startswith("您的问题已处理 ")  # never the reply sent while online
        assert len(wechat.calls_to("/cgi-bin/message/subscribe/send")) == 1
        left = await call(stack, NOTIFICATION, "GET", "/api/v4/notifications/wechat/subscriptions", user)
        assert left["remaining"] == 0
    finally:
        for person in (agent, user):
            if person.sio.connected:
                await person.sio.disconnect()
