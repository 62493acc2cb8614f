"""Browser tests: the whole platform behind the edge (nginx), driven by Debian's Chromium via Playwright.

Session fixtures: `stack` (auth-svc, notification-svc, chat-svc, realtime-gateway as real processes on free
ports, against this session's database and vhost from the `servicekit_testing` plugin, plus the edge from
edge/edge.sh on another free port in front of them, with HTTPS/WSS on a third (`edge_tls`: a certificate from a
development CA made for the session), and `browser` (headless /usr/bin/chromium; Playwright
never downloads a browser here). Every page is opened through the edge: `stack.url("edge")`.

Needs nginx, /usr/bin/chromium and web/node_modules (`./scripts/test` installs them; by hand:
`bash scripts/infra.sh web && bash scripts/infra.sh browser`). Missing ones fail the tests with that hint.
Screenshots land in test-artifacts/screenshots/ (git-ignored).

Browsers speak Chinese unless a test says otherwise (`pages.context(locale=...)`): the pages' default and first
language is zh-CN, so the scenarios run in it and assert the Chinese text people read (fonts-noto-cjk, installed
by scripts/infra.sh, draws it in the screenshots).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from tests.integration.stack import HOST, ServiceSpec, Stack, free_port, uvicorn_factory

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
VENDOR = ROOT / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.esm.min.js"
SDK_BUNDLE = ROOT / "clients" / "sdk" / "dist" / "index.js"  # the client SDK the pages import (/sdk/index.js)
EDGE_SOCKETIO_CONN_PER_ADDRESS = 50
PASSWORD = "Passw0rd!"  # AUTH_DEV_SEED accounts admin1..admin3, user1..user5
DEFAULT_LOCALE = "zh-CN"  # the browsers' language unless a test asks for another

AUTH, NOTIFICATION, CHAT, GATEWAY, EDGE = "auth-svc", "notification-svc", "chat-svc", "realtime-gateway", "edge"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.integration)


def _require_tools() -> None:
    missing = []
    if not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)):
        missing.append("nginx")
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(CHROMIUM)
    if not VENDOR.exists():
        missing.append(f"{VENDOR.relative_to(ROOT)} (npm ci in web/)")
    if not SDK_BUNDLE.exists():
        missing.append(f"{SDK_BUNDLE.relative_to(ROOT)} (`bash scripts/infra.sh sdk && node clients/sdk/scripts/build.mjs`)")
    if missing:
        pytest.fail(
            f"browser tests need {', '.join(missing)}: run ./scripts/test, or `bash scripts/infra.sh web` and "
            "`bash scripts/infra.sh browser`", pytrace=False,
        )


@dataclass(frozen=True)
class EdgeTls:
    """The e2e edge's HTTPS/WSS side: its port and a certificate from a development CA (edge/dev-cert.sh)."""

    port: int
    ca: Path
    cert: Path
    key: Path
    hsts_max_age: int = 600

    @property
    def url(self) -> str:
        return f"https://{HOST}:{self.port}"


@pytest.fixture(scope="package")
def edge_tls(tmp_path_factory: pytest.TempPathFactory) -> EdgeTls:
    folder = tmp_path_factory.mktemp("edge-tls")
    made = subprocess.run(["sh", str(ROOT / "edge" / "dev-cert.sh"), str(folder)], capture_output=True, text=True,
                          check=True)
    cert, key = made.stdout.split()[-2:]
    return EdgeTls(free_port(), folder / "ca.pem", Path(cert), Path(key))


@dataclass(frozen=True)
class WeChatStandInProcess:
    """The stand-in of WeChat's API (servicekit_testing.wechat_standin) the e2e auth-svc logs mini program users
    in against; `POST {url}/_standin/codes {"openid"}` issues the code wx.login() would give."""

    url: str
    appid: str
    secret: str
    template_id: str = "tmpl-e2e-reply"
    """The subscribe message template the e2e notification-svc sends (offline reach is on in the e2e stack)."""


@pytest.fixture(scope="package")
def wechat_standin() -> Iterator[WeChatStandInProcess]:
    port = free_port()
    standin = WeChatStandInProcess(f"http://{HOST}:{port}", "wx-e2e-appid", "e2e-standin-secret")
    process = subprocess.Popen(
        [sys.executable, "-m", "servicekit_testing.wechat_standin", "--host", HOST, "--port", str(port),
         "--appid", standin.appid, "--secret", standin.secret],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "wechat stand-in on http://...": it listens
        if "wechat stand-in on" not in line:
            pytest.fail(f"the WeChat stand-in did not start: {line}{process.stdout.read()}", pytrace=False)
        yield standin
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def stack(
    make_database: Callable[[], Awaitable[str]],
    make_vhost: Callable[[], Awaitable[str]],
    tmp_path_factory: pytest.TempPathFactory,
    edge_tls: EdgeTls,
    wechat_standin: WeChatStandInProcess,
) -> AsyncIterator[Stack]:
    """The four services plus the edge in front of them; `stack.url("edge")` is the browser's origin.

    Package scope (with the browser, the TLS files and the WeChat stand-in): stopped after the last test of
    tests/e2e, so the suites after it (the fault tests above all) do not share the machine with an idle stack.

    Its own database and vhost (the plugin's factories, dropped at the end of the session), not the shared
    `database_url` / `amqp_url`: in a full run the whole-stack integration tests' services are still up, and
    services of two stacks on one vhost would take each other's events and commands off shared queues.
    """
    _require_tools()
    database_url, amqp_url = await make_database(), await make_vhost()
    workdir = tmp_path_factory.mktemp("e2e-stack")
    stack = Stack(workdir)
    auth = stack.add(ServiceSpec(AUTH, uvicorn_factory("auth_svc.main:create_app"), {
        "AUTH_DATABASE_URL": database_url,
        "AUTH_AMQP_URL": amqp_url,  # its heartbeat, for the gateway's platform status
        "AUTH_SIGNING_KEY_FILE": str(workdir / "auth-signing-key.pem"),
        "AUTH_DEV_SEED": "true",
        "AUTH_REGISTER_MAX_PER_ADDRESS": "1000",  # the browsers register from 127.0.0.1 (the default access
        # token lifetime stays: the pages renew their tokens as in production)
        # WeChat login (the mini program's end-to-end test) against the stand-in of WeChat's API
        "AUTH_WECHAT_APPID": wechat_standin.appid, "AUTH_WECHAT_SECRET": wechat_standin.secret,
        "AUTH_WECHAT_API_BASE_URL": wechat_standin.url,
    }))
    jwks_url = f"{auth.base_url}/.well-known/jwks.json"
    for name, prefix, package in ((NOTIFICATION, "NOTIFICATION", "notification_svc"), (CHAT, "CHAT", "chat_svc")):
        env = {f"{prefix}_DATABASE_URL": database_url, f"{prefix}_AMQP_URL": amqp_url, f"{prefix}_JWKS_URL": jwks_url}
        if prefix == "NOTIFICATION":
            # Offline reach by WeChat subscribe messages, to the stand-in (the mini program's reply reminders;
            # users without a consent, i.e. every other test's, get none)
            env.update({"NOTIFICATION_WECHAT_APPID": wechat_standin.appid,
                        "NOTIFICATION_WECHAT_SECRET": wechat_standin.secret,
                        "NOTIFICATION_WECHAT_API_BASE_URL": wechat_standin.url,
                        "NOTIFICATION_WECHAT_TEMPLATE_ID": wechat_standin.template_id})
        if prefix == "CHAT":
            env["CHAT_ATTACHMENTS_DIR"] = str(workdir / "chat-attachments")
            # Many tests share admin1-3 in one stack and some leave sessions open: room enough that a later
            # test's session is still assigned (capacity itself is tested in chat-svc and test_agents.py).
            env["CHAT_ADMIN_CAPACITY"] = "50"
            # A first reply deadline short enough to watch (tests/e2e/test_reply_deadlines.py); no reassignment:
            # the browser tests share admin1-3, and a session moving between them would upset the others.
            env["CHAT_REPLY_REMIND_AFTER_SECONDS"] = "4"
            env["CHAT_REPLY_REASSIGN_AFTER_SECONDS"] = "0"
        stack.add(ServiceSpec(name, uvicorn_factory(f"{package}.main:create_app"), env))

    edge_port = free_port()
    edge_origin = f"http://{HOST}:{edge_port}"
    gateway = stack.add(ServiceSpec(GATEWAY, ["-m", "realtime_gateway", "--host", "{host}", "--port", "{port}"], {
        "GATEWAY_AMQP_URL": amqp_url, "GATEWAY_JWKS_URL": jwks_url,
        # The browser's Origin is the edge's (either port): the same origin as the pages.
        "GATEWAY_CORS_ALLOWED_ORIGINS": f'["{edge_origin}", "{edge_tls.url}"]',
    }))

    # nginx's workers (user nobody under root) must read the rendered health.json: a world-readable run
    # directory outside pytest's private tmp tree.
    edge_dir = Path(tempfile.mkdtemp(prefix="e2e-edge-"))
    edge_dir.chmod(0o755)

    def addr(name: str) -> str:
        return stack[name].base_url.removeprefix("http://")

    stack.add(ServiceSpec(
        EDGE,
        # exec: the edge process *is* nginx (its master), so stop/kill reach it directly.
        ["-c", "import os, sys; os.execvp('sh', ['sh', sys.argv[1], 'start'])", str(ROOT / "edge" / "edge.sh")],
        {
            "EDGE_LISTEN": f"{HOST}:{edge_port}", "EDGE_AUTH": addr(AUTH), "EDGE_NOTIFICATION": addr(NOTIFICATION),
            "EDGE_CHAT": addr(CHAT), "EDGE_GATEWAYS": gateway.base_url.removeprefix("http://"),
            "EDGE_RUN_DIR": str(edge_dir), "EDGE_ERROR_LOG": "stderr", "EDGE_ACCESS_LOG": str(edge_dir / "access.log"),
            # Below the gateway's own cap (GATEWAY_MAX_CONNECTIONS_PER_ADDRESS, 100): test_edge.py tells them apart.
            "EDGE_SOCKETIO_CONN_PER_ADDRESS": str(EDGE_SOCKETIO_CONN_PER_ADDRESS),
            "EDGE_TLS_CERT": str(edge_tls.cert), "EDGE_TLS_KEY": str(edge_tls.key),
            "EDGE_TLS_LISTEN": f"{HOST}:{edge_tls.port}", "EDGE_HSTS_MAX_AGE": str(edge_tls.hsts_max_age),
        },
    ), port=edge_port)
    await stack.start(timeout=90)
    try:
        yield stack
    finally:
        await stack.stop()
        shutil.rmtree(edge_dir, ignore_errors=True)


@pytest.fixture(scope="package")
def base_url(stack: Stack) -> str:
    return stack.url(EDGE)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    _require_tools()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


class Pages:
    """Opens browser contexts (one per person) for a test, records page errors and CSP violations, saves
    screenshots, and closes everything at the end."""

    def __init__(self, browser: Browser, base_url: str, test_name: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.test_name = test_name
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        for stale in SCREENSHOTS.glob(f"{test_name}-*.png"):  # from an earlier run of this test
            stale.unlink()

    async def context(self, *, mobile: bool = False, locale: str = DEFAULT_LOCALE) -> BrowserContext:
        """A person's browser; `locale` sets navigator.languages (and Accept-Language), which the pages follow."""
        viewport = {"width": 420, "height": 820} if mobile else {"width": 1280, "height": 800}
        context = await self.browser.new_context(base_url=self.base_url, viewport=viewport, locale=locale)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context

    async def new_page(self, context: BrowserContext) -> Page:
        page = await context.new_page()
        page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        page.on("console", lambda msg: self._console(msg.type, msg.text))

        async def on_dialog(dialog) -> None:  # an alert() would mean injected script ran
            self.dialogs.append(dialog.message)
            await dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    def _console(self, kind: str, text: str) -> None:
        if "Content Security Policy" in text or "Refused to" in text:
            self.problems.append(f"CSP: {text}")

    async def screenshot(self, page: Page, label: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}-{label}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    async def close(self) -> None:
        for context in self.contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def pages(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> AsyncIterator[Pages]:
    pages = Pages(browser, base_url, request.node.name)
    try:
        yield pages
    finally:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            for i, context in enumerate(pages.contexts):
                for j, page in enumerate(context.pages):
                    with contextlib.suppress(Exception):  # best effort: the page may be gone
                        await pages.screenshot(page, f"FAILED-{i}-{j}")
        await pages.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keeps the call's report on the item (failure screenshots), and adds the services' logs to a failure."""
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    stack = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(stack, Stack):
        report.sections.append(("service logs", stack.logs_report()))
    return report
