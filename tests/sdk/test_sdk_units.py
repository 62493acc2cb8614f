"""The client SDK's unit tests (clients/sdk/test/unit/, Node's own test runner) and its size budget: backoff
and jitter, ack deadlines, token renewal timing, the wx transport's framing and the mini program life cycle
against a stand-in `wx` on `ws`. Needs clients/sdk/node_modules (`bash scripts/infra.sh sdk`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2] / "clients" / "sdk"


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (SDK / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("the SDK's tests need node and clients/sdk/node_modules: `bash scripts/infra.sh sdk`", pytrace=False)
    return subprocess.run([node, *args], capture_output=True, text=True, check=False, timeout=180, cwd=SDK,
                          env={**os.environ})


def test_sdk_builds_within_the_mini_program_size_budget_and_its_unit_tests_pass() -> None:
    built = _node("scripts/build.mjs", "--check-size")
    assert built.returncode == 0, built.stdout + built.stderr
    assert "mini program build dist/wx.js" in built.stdout
    done = _node("--experimental-websocket", "--test", "--test-timeout=30000", "test/unit/")
    assert done.returncode == 0, done.stdout + done.stderr


def test_sdk_build_fails_when_the_mini_program_bundle_is_over_its_budget() -> None:
    over = subprocess.run([shutil.which("node") or "node", "scripts/build.mjs", "--check-size"], capture_output=True,
                          text=True, check=False, timeout=180, cwd=SDK, env={**os.environ, "SDK_WX_BUDGET_BYTES": "1024"})
    assert over.returncode == 1, over.stdout + over.stderr
    assert "over the 1024-byte budget" in over.stderr
