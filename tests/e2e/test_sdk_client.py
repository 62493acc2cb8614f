"""The client SDK (clients/sdk) end to end: its Node tests (clients/sdk/test/e2e/) run against this session's
stack behind the edge (`PLATFORM_URL`), the SDK over the stand-in `wx` transport (no Origin, no cookies), the
admin on the pages' socket.io-client 4.7.2. The Node side registers its own end user through REST.

Needs clients/sdk/node_modules (`bash scripts/infra.sh sdk`, which `./scripts/test` runs)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
from pathlib import Path

import pytest

from tests.integration.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "clients" / "sdk"
RECOVERY_WINDOW_SECONDS = 3  # the gateway's window for the "past the window" test (120 s by default)
GATEWAY = "realtime-gateway"


async def _run(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *args, cwd=SDK, env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), timeout)
    return process.returncode or 0, out.decode(errors="replace")


async def _node_e2e(name: str, base_url: str, **env: str) -> None:
    node = shutil.which("node")
    if node is None or not (SDK / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("the SDK's tests need node and clients/sdk/node_modules: `bash scripts/infra.sh sdk`", pytrace=False)
    code, out = await _run(node, "scripts/build.mjs")
    assert code == 0, out
    code, out = await _run(node, "--test", "--test-timeout=120000", f"test/e2e/{name}",
                           env={"PLATFORM_URL": base_url, **env})
    assert code == 0, out
    assert "# skipped 0" in out, out  # the stack's URL reached the Node test


async def test_sdk_over_wx_recovers_the_replies_sent_while_the_app_was_hidden(base_url: str) -> None:
    await _node_e2e("recovery.e2e.test.mjs", base_url)


async def test_sdk_past_the_recovery_window_is_not_recovered_and_resyncs_over_rest(stack: Stack, base_url: str) -> None:
    # The session's gateway gets a short window for this test only, then its own settings back.
    gateway = stack[GATEWAY]
    original = gateway.spec
    gateway.spec = dataclasses.replace(
        original, env={**original.env, "GATEWAY_RECOVERY_WINDOW_SECONDS": str(RECOVERY_WINDOW_SECONDS)})
    try:
        await gateway.restart()
        await _node_e2e("resync.e2e.test.mjs", base_url, RECOVERY_WINDOW_SECONDS=str(RECOVERY_WINDOW_SECONDS))
    finally:
        gateway.spec = original
        await gateway.restart()
