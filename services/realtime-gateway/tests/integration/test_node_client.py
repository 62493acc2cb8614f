"""The spec's own client, socket.io-client 4.7.2 from npm in Node, against the in-process gateway:
websocket only, polling only, default (polling then upgrade); `notification:new`; `connect_error` with
`unauthorized`; `chat:send_message` with an ack. The script's JSON and exit code decide."""

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from contracts.events import commands as c
from contracts.events import payloads as p
from contracts.events import registry as r
from contracts.payloads import NotificationData
from contracts.time import now_beijing
from servicekit.commands import serve_commands
from servicekit_testing.tokens import TokenMint

pytestmark = pytest.mark.integration

NODE_DIR = Path(__file__).resolve().parent.parent / "node"

ADMIN = 501


async def test_socket_io_client_4_7_2_in_node(node_client, start_gateway, broker, mint):
    async def send_message(principal, payload, command):
        return {"session_id": payload.session_id, "sender_id": principal.user_id}

    await serve_commands(broker.connection, broker.publisher, service="chat-svc",
                         handlers={c.CHAT_SEND_MESSAGE: send_message})
    gw = await start_gateway()
    env = {
        **os.environ, "GATEWAY_URL": gw.url, "ADMIN_TOKEN": mint.token(ADMIN, "admin"),
        "BAD_TOKEN": TokenMint(kid=mint.kid).token(ADMIN, "admin"),
    }
    proc = await asyncio.create_subprocess_exec(
        str(node_client), "client-check.mjs", cwd=NODE_DIR, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    final: dict[str, Any] | None = None
    async with asyncio.timeout(60):
        async for raw in proc.stdout:
            line = json.loads(raw)
            if "ready" in line:  # the script is connected: publish its notification
                data = NotificationData(notification_id=line["notification_id"], type="user", title="hi",
                                        content="c", created_at=now_beijing(), is_read=False, target_user_id=ADMIN)
                await broker.publish(r.NOTIFICATION_CREATED, p.NotificationCreated(notification=data,
                                                                                    target_user_id=ADMIN))
            elif "result" in line:
                final = line
        code = await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    assert final is not None, f"no result from the script (exit {code}): {stderr}"
    result = final["result"]
    assert code == 0 and final["ok"], json.dumps(result, indent=2) + stderr
    for index, (mode, transport) in enumerate((("websocket", "websocket"), ("polling", "polling"),
                                               ("upgrade", "websocket"))):
        assert result[mode] == {
            "transport": transport, "notification_id": 9000 + index,
            "ack": {"ok": True, "data": {"session_id": 7, "sender_id": ADMIN}},
        }
    assert result["refused"] == {"message": "unauthorized: bad signature", "data": {"code": "token_bad_signature"}}
