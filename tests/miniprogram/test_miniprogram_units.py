"""The WeChat mini program's Node tests (clients/miniprogram/test/unit and test/pages, Node's own test runner):
its page logic against a fake REST API and realtime client (queue position, read state, pictures, system texts,
resync, WeChat login and token storage), the catalogues' parity with each other and with the web pages' wording,
and its pages rendered by miniprogram-simulate. Needs clients/miniprogram/node_modules and clients/sdk/node_modules
(`bash scripts/infra.sh miniprogram` and `bash scripts/infra.sh sdk`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from notification_svc.settings import Settings as NotificationSettings

ROOT = Path(__file__).resolve().parents[2]
MINIPROGRAM = ROOT / "clients" / "miniprogram"
SDK = ROOT / "clients" / "sdk"


def _node(*args: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (MINIPROGRAM / "node_modules" / "miniprogram-simulate").is_dir() \
            or not (SDK / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("the mini program's tests need node, clients/miniprogram/node_modules and clients/sdk/node_modules: "
                    "`bash scripts/infra.sh miniprogram && bash scripts/infra.sh sdk`", pytrace=False)
    return subprocess.run([node, *args], capture_output=True, text=True, check=False, timeout=180, cwd=MINIPROGRAM,
                          env={**os.environ})


def test_miniprogram_page_logic_and_pages_pass_their_node_tests() -> None:
    vendored = _node("scripts/vendor-sdk.mjs")
    assert vendored.returncode == 0, vendored.stdout + vendored.stderr
    done = _node("--test", "--test-timeout=30000", "test/unit/", "test/pages/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "# fail 0" in done.stdout and "# skipped 0" in done.stdout, done.stdout


def test_miniprogram_vendors_the_sdk_it_runs_into_lib() -> None:
    vendored = _node("scripts/vendor-sdk.mjs")
    assert vendored.returncode == 0, vendored.stdout + vendored.stderr
    built = (SDK / "dist" / "miniprogram" / "index.js").read_bytes()
    assert (MINIPROGRAM / "lib" / "realtime-sdk.js").read_bytes() == built
    ignored = subprocess.run(["git", "check-ignore", "-q", "clients/miniprogram/lib/realtime-sdk.js"], cwd=ROOT,
                             check=False)
    assert ignored.returncode == 0, "the vendored SDK is built output: git must ignore it"


def test_a_subscribe_message_opens_the_mini_programs_chat_page_on_its_session() -> None:
    """notification-svc's `page` (NOTIFICATION_WECHAT_PAGE + `?session_id=<id>`) is a page the mini program has, the
    one its past sessions list opens a session with (logic/routes.js; the page reads `session_id`)."""
    page = NotificationSettings.model_fields["wechat_page"].default
    assert page in json.loads((MINIPROGRAM / "app.json").read_text())["pages"]
    routes = (MINIPROGRAM / "logic" / "routes.js").read_text()
    found = re.search(r'const CHAT_PAGE = "([^"]+)";', routes)
    assert found is not None and found[1] == page
