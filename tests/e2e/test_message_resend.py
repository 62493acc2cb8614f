"""A chat message whose ack is lost on the wire (the gateway answered, the page never heard it) is sent again by the
page with the same `client_msg_id` and stored once: the bubble says it is sending again, ends "sent", never "not
sent", and a reload shows the message once. The loss is real and deterministic: the page's websocket goes through Playwright's route, which
forwards every frame both ways except the first ack that carries this message."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest
from playwright.async_api import Route, WebSocketRoute, expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import register_on_h5, tid


@pytest.mark.parametrize("echo_lost", [False, True], ids=["echo-arrives", "echo-lost-too"])
async def test_an_h5_message_whose_first_ack_is_lost_is_sent_again_with_its_id_and_stored_once(
    pages: Pages, echo_lost: bool,
) -> None:
    """echo-arrives: the message's own `chat:new_message` reaches the page and confirms the bubble while the SDK
    sends again. echo-lost-too: nothing about the message reaches the page until the resend's ack, and meanwhile
    the bubble says it is being sent again."""
    user = await pages.new_page(await pages.context(mobile=True))
    text = f"ack-lost-{uuid.uuid4().hex[:8]}"
    sends: list[dict] = []
    dropped: list[str] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(frame: str | bytes) -> None:
            if isinstance(frame, str) and frame.startswith("42") and text in frame:
                packet = json.loads(frame[re.match(r"42\d*", frame).end():])
                if packet[0] == "chat:send_message":
                    sends.append(packet[1])
            server.send(frame)

        def from_server(frame: str | bytes) -> None:
            if isinstance(frame, str) and frame.startswith("43") and text in frame and not dropped:
                dropped.append(frame)  # the ack of the first send: lost
                return
            if echo_lost and isinstance(frame, str) and frame.startswith('42["chat:') and text in frame:
                return  # its chat:new_message / chat:session_update to the sender: lost too
            ws.send(frame)

        ws.on_message(from_page)
        server.on_message(from_server)

    await user.route_web_socket(re.compile(r"/socket\.io/"), route)
    await register_on_h5(user, "resender")
    await tid(user, "composer-input").fill("你好")  # the first message opens the session (REST)
    await tid(user, "composer-send").click()
    await expect(tid(user, "end-session")).to_be_visible()

    await tid(user, "composer-input").fill(text)  # over the socket; its first ack is dropped
    await tid(user, "composer-send").click()
    if echo_lost:  # while the backoff runs (~1 s) the bubble says it is being sent again, in zh-CN
        resending = user.locator('[data-testid="message"].mine[data-state="sending"][data-resend="1"]')
        await expect(resending.filter(has_text=text)).to_contain_text("正在重发（第 1 次）", timeout=15_000)
    for _ in range(300):  # the page's ack deadline (8 s), then its backoff (~1 s), then the resend
        if len(sends) >= 2 and not await user.locator('[data-testid="message"].mine[data-state="sending"]').count():
            break
        await asyncio.sleep(0.1)

    assert len(dropped) == 1
    assert len(sends) == 2, sends
    assert sends[0]["client_msg_id"] == sends[1]["client_msg_id"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", sends[0]["client_msg_id"])
    mine = user.locator('[data-testid="message"].mine').filter(has_text=text)
    await expect(mine).to_have_count(1)
    await expect(mine).to_have_attribute("data-state", "sent")
    await expect(tid(user, "message-retry")).to_have_count(0)

    await user.reload()  # the history the server keeps: the message once
    await expect(tid(user, "h5-chat")).to_be_visible()
    await expect(tid(user, "message-text").filter(has_text="你好")).to_have_count(1)
    await expect(tid(user, "message-text").filter(has_text=text)).to_have_count(1)
    assert not pages.problems, pages.problems


async def test_an_h5_first_message_whose_answer_is_lost_opens_the_session_once_on_retry(pages: Pages) -> None:
    """The first message opens the session over REST. Its answer is lost on the wire (the server opened the session,
    the page heard a network failure): the page's retry sends it with the same Idempotency-Key, so the server answers
    with the same session instead of adding the message again."""
    user = await pages.new_page(await pages.context(mobile=True))
    text = f"open-lost-{uuid.uuid4().hex[:8]}"
    keys: list[str | None] = []

    async def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        keys.append(await route.request.header_value("idempotency-key"))
        if len(keys) == 1:
            await route.fetch()  # the server opens the session...
            await route.abort("connectionreset")  # ...and its answer never reaches the page
            return
        await route.continue_()

    def quiet_until_retried(ws: WebSocketRoute) -> None:
        """The socket's events about the new session are held back until the retry: otherwise they tell the page
        about the session (and replace the failed bubble) before the person could tap retry."""
        server = ws.connect_to_server()
        ws.on_message(server.send)
        server.on_message(lambda frame: None if (
            isinstance(frame, str) and frame.startswith("42") and len(keys) < 2) else ws.send(frame))

    await user.route(re.compile(r"/api/v4/customer-service/sessions$"), lose_first_answer)
    await user.route_web_socket(re.compile(r"/socket\.io/"), quiet_until_retried)
    await register_on_h5(user, "opener")
    await tid(user, "composer-input").fill(text)
    await tid(user, "composer-send").click()
    await tid(user, "message-retry").click()  # the bubble failed: the person taps retry
    await expect(tid(user, "end-session")).to_be_visible()

    assert len(keys) == 2, keys
    assert keys[0] and keys[1] == keys[0]
    await user.reload()  # the history the server keeps: the message once
    await expect(tid(user, "h5-chat")).to_be_visible()
    await expect(tid(user, "message-text").filter(has_text=text)).to_have_count(1)
    assert not pages.problems, pages.problems


async def test_an_h5_message_sent_while_the_page_reloads_its_conversation_keeps_its_bubble(pages: Pages) -> None:
    """The race CI met: the first message opens the session, and the socket's news of that session arrives before
    the answer, so the page also reloads its conversation. The person sends a second message while that reload is
    on its way; the reload read the history before the second message was stored. The second message's bubble must
    stay (it is on its way) and end "sent" once, never vanish. The order is forced: the reload's answer and the
    second message's frame are held until the other has happened."""
    user = await pages.new_page(await pages.context(mobile=True))
    tag = uuid.uuid4().hex[:8]
    first, second = f"你好 {tag}", f"我想查询退款进度，订单号 {tag}"
    opened = asyncio.Event()  # the server opened the session; its answer to the page is still held
    second_held = asyncio.Event()  # the second message's frame waits in the route
    release_second = asyncio.Event()
    reloads: list[str] = []

    async def hold_the_reload(route: Route) -> None:
        if not opened.is_set():
            await route.continue_()  # the page's own first look (nothing yet)
            return
        reloads.append(route.request.url)
        response = await route.fetch()  # read now: the second message is not stored yet
        await second_held.wait()
        await route.fulfill(response=response)

    async def answer_the_open_late(route: Route) -> None:
        response = await route.fetch()
        opened.set()
        await asyncio.sleep(0.5)  # the session is open: its socket news reaches the page first
        await route.fulfill(response=response)

    def hold_the_second(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        async def later(frame: str) -> None:
            second_held.set()
            await release_second.wait()
            server.send(frame)

        def from_page(frame: str | bytes) -> None:
            if isinstance(frame, str) and frame.startswith("42") and second in frame:
                asyncio.get_running_loop().create_task(later(frame))
                return
            server.send(frame)

        ws.on_message(from_page)
        server.on_message(ws.send)

    await user.route(re.compile(r"/api/v4/customer-service/my/sessions\?"), hold_the_reload)
    await user.route(re.compile(r"/api/v4/customer-service/sessions$"), answer_the_open_late)
    await user.route_web_socket(re.compile(r"/socket\.io/"), hold_the_second)
    await register_on_h5(user, "reloader")
    await tid(user, "composer-input").fill(first)
    await tid(user, "composer-send").click()
    await expect(tid(user, "end-session")).to_be_visible()  # the open's answer arrived: the page knows the session
    await tid(user, "composer-input").fill(second)
    await tid(user, "composer-send").click()

    async with user.expect_response(re.compile(r"/sessions/\d+/messages\?")) as history:
        await asyncio.wait_for(second_held.wait(), 10)  # the reload's history is read after its clear-and-show
    await history.value
    assert reloads, "the socket's news of the new session did not make the page reload its conversation"
    sending = user.locator('[data-testid="message"].mine[data-state="sending"]').filter(has_text=second)
    await expect(sending).to_have_count(1)  # still on its way, still shown
    release_second.set()
    mine = user.locator('[data-testid="message"].mine').filter(has_text=second)
    await expect(mine).to_have_attribute("data-state", "sent")
    await expect(mine).to_have_count(1)
    await expect(tid(user, "message-text").filter(has_text=first)).to_have_count(1)
    assert not pages.problems, pages.problems
