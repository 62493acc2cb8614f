"""Issue 19 over the whole running stack: a private note on a session reaches admins live (`chat:note`) and
never the session's user: not on the user's socket (every event it gets is recorded), not over REST."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx

from tests.integration.conftest import AUTH, CHAT, GATEWAY
from tests.integration.sockets import PASSWORD, Person, connect_person
from tests.integration.stack import Stack

BASE = "/api/v4/customer-service"


async def fresh_user(stack: Stack) -> Person:
    name = f"n{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=stack.url(AUTH), timeout=10) as http:
        response = await http.post("/api/v4/auth/register", json={"username": name, "password": PASSWORD})
    assert response.status_code in (200, 201), response.text
    return await connect_person(stack.url(AUTH), stack.url(GATEWAY), name)


async def test_a_private_note_reaches_admins_and_never_the_sessions_user_over_socket_or_rest(stack):
    user = await fresh_user(stack)
    supervisor = await connect_person(stack.url(AUTH), stack.url(GATEWAY), "admin1")
    secret = f"内部备注-{uuid.uuid4().hex}"
    try:
        async with httpx.AsyncClient(base_url=stack.url(CHAT), timeout=10) as http:
            opened = await http.post(f"{BASE}/sessions", json={"content": "你好"}, headers=user.headers)
            sid = opened.json()["session_id"]
            written = await http.post(f"{BASE}/sessions/{sid}/notes", json={"content": secret},
                                      headers=supervisor.headers)
            assert written.status_code == 201, written.text
            (pushed,) = await supervisor.wait_for("chat:note", lambda d: d["session_id"] == sid)
            assert pushed["content"] == secret  # delivered: the user's silence below is not a broken pipe

            # a barrier: the user's own next message comes back to them after the note was routed
            await http.post(f"{BASE}/sessions/{sid}/messages", json={"content": "还在吗"}, headers=user.headers)
            await user.wait_for("chat:new_message", lambda d: d["message_content"] == "还在吗")
            await asyncio.sleep(1.0)

            rest = {
                "notes": await http.get(f"{BASE}/sessions/{sid}/notes", headers=user.headers),
                "messages": await http.get(f"{BASE}/sessions/{sid}/messages", headers=user.headers),
                "session": await http.get(f"{BASE}/sessions/{sid}", headers=user.headers),
                "my_sessions": await http.get(f"{BASE}/my/sessions", headers=user.headers),
            }
        assert rest["notes"].status_code == 403
        assert all(r.status_code == 200 for k, r in rest.items() if k != "notes")
        assert not [k for k, r in rest.items() if secret in r.text]
        assert user.received and not [e for e, _ in user.received if e == "chat:note"]
        assert secret not in json.dumps(user.received, ensure_ascii=False)
    finally:
        await asyncio.gather(user.sio.disconnect(), supervisor.sio.disconnect(), return_exceptions=True)
