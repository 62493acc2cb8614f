"""A chat message whose ack is lost on the wire (the gateway answered, the page never heard it) is sent again by the
page with the same `client_msg_id` and stored once: the bubble ends "sent", never "not sent", and a reload shows the
message once. The loss is real and deterministic: the page's websocket goes through Playwright's route, which
forwards every frame both ways except the first ack that carries this message."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

from playwright.async_api import WebSocketRoute, expect

from tests.e2e.conftest import Pages
from tests.e2e.helpers import connected, tid


async def test_an_h5_message_whose_first_ack_is_lost_is_sent_again_with_its_id_and_stored_once(pages: Pages) -> None:
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
            ws.send(frame)

        ws.on_message(from_page)
        server.on_message(from_server)

    await user.route_web_socket(re.compile(r"/socket\.io/"), route)
    await user.goto("/h5/chat.html")
    await tid(user, "h5-username").fill(f"resender{uuid.uuid4().hex[:8]}")
    await tid(user, "h5-password").fill("correct horse 42")
    await tid(user, "h5-register").click()
    await expect(tid(user, "h5-chat")).to_be_visible()
    await connected(user)
    await tid(user, "composer-input").fill("你好")  # the first message opens the session (REST)
    await tid(user, "composer-send").click()
    await expect(tid(user, "end-session")).to_be_visible()

    await tid(user, "composer-input").fill(text)  # over the socket; its first ack is dropped
    await tid(user, "composer-send").click()
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
