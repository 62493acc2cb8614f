"""The WeChat mini program (clients/miniprogram) end to end: its Node tests (clients/miniprogram/test/e2e/) run its
own chat logic and the vendored SDK through the stand-in `wx` (no Origin, no cookies) over wss:// to this session's
edge (`edge_tls`; its development CA trusted with NODE_EXTRA_CA_CERTS), logged in with WeChat against the stand-in
of WeChat's API the stack's auth-svc uses (`wechat_standin`); the admin on the pages' socket.io-client 4.7.2. The
same stand-in is WeChat for the stack's notification-svc (offline reach on, template `wechat_standin.template_id`):
the reply reminder test counts the subscribe messages it accepted. The rating test gives a closed session a
rating from the mini program logic and reads it as the admin.

Needs clients/sdk/node_modules (`bash scripts/infra.sh sdk`) and web/node_modules."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import EdgeTls, WeChatStandInProcess
from tests.integration.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
MINIPROGRAM = ROOT / "clients" / "miniprogram"
SDK = ROOT / "clients" / "sdk"
RECOVERY_WINDOW_SECONDS = 3  # the gateway's window for the "past the window" test (120 s by default)
GATEWAY = "realtime-gateway"


async def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *args, cwd=MINIPROGRAM, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(errors="replace")


async def _node_e2e(name: str, edge_tls: EdgeTls, wechat: WeChatStandInProcess, **env: str) -> None:
    node = shutil.which("node")
    if node is None or not (SDK / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("the mini program's tests need node and clients/sdk/node_modules: `bash scripts/infra.sh sdk`",
                    pytrace=False)
    code, out = await _run(node, "scripts/vendor-sdk.mjs", "--build")
    assert code == 0, out
    code, out = await _run(node, "--test", "--test-timeout=120000", f"test/e2e/{name}", env={
        "PLATFORM_URL": edge_tls.url, "WECHAT_STANDIN_URL": wechat.url, "NODE_EXTRA_CA_CERTS": str(edge_tls.ca), **env,
    })
    assert code == 0, out
    assert "# skipped 0" in out, out  # the stack's URLs reached the Node test


async def test_miniprogram_over_wss_recovers_the_replies_sent_while_hidden(
    stack: Stack, edge_tls: EdgeTls, wechat_standin: WeChatStandInProcess,
) -> None:
    await _node_e2e("chat-recovery.e2e.test.mjs", edge_tls, wechat_standin)


async def test_miniprogram_past_the_recovery_window_refetches_what_it_missed(
    stack: Stack, edge_tls: EdgeTls, wechat_standin: WeChatStandInProcess,
) -> None:
    # The session's gateway gets a short window for this test only, then its own settings back.
    gateway = stack[GATEWAY]
    original = gateway.spec
    gateway.spec = dataclasses.replace(
        original, env={**original.env, "GATEWAY_RECOVERY_WINDOW_SECONDS": str(RECOVERY_WINDOW_SECONDS)})
    try:
        await gateway.restart()
        await _node_e2e("chat-resync.e2e.test.mjs", edge_tls, wechat_standin,
                        RECOVERY_WINDOW_SECONDS=str(RECOVERY_WINDOW_SECONDS))
    finally:
        gateway.spec = original
        await gateway.restart()


async def test_miniprogram_reply_reminder_consent_then_offline_reply_makes_exactly_one_subscribe_message(
    stack: Stack, edge_tls: EdgeTls, wechat_standin: WeChatStandInProcess,
) -> None:
    await _node_e2e("chat-reminder.e2e.test.mjs", edge_tls, wechat_standin,
                    WECHAT_TEMPLATE_ID=wechat_standin.template_id)


async def test_miniprogram_rating_after_the_agent_closes_the_session_reaches_chat_svc_and_can_be_changed(
    stack: Stack, edge_tls: EdgeTls, wechat_standin: WeChatStandInProcess,
) -> None:
    await _node_e2e("chat-rating.e2e.test.mjs", edge_tls, wechat_standin)
