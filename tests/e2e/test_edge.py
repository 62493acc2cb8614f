"""The edge itself, over plain HTTP: routes, the health aggregate, security headers, Socket.IO through it; and
what the repository ships for running it (docker compose)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import httpx
import pytest
import yaml

from tests.e2e.conftest import EDGE_SOCKETIO_CONN_PER_ADDRESS, SDK_BUNDLE, VENDOR, _require_tools
from tests.integration.stack import HOST, Stack, free_port

CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'"
)


async def test_health_aggregates_every_service(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert "websocket" in response.text  # the spec's check: curl localhost:3000/health | grep websocket
    body = response.json()
    assert body["edge"] == "ok"
    for name in ("auth-svc", "notification-svc", "chat-svc", "realtime-gateway"):
        assert body[name]["status"] == "ok", (name, body[name])
        assert body[name]["service"] == name


async def test_health_shows_a_stopped_service_as_unreachable(stack: Stack, base_url: str) -> None:
    chat = stack["chat-svc"]
    await chat.stop()
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
            body = (await client.get("/health")).json()
        assert body["chat-svc"] == {"status": "unreachable"}
        assert body["auth-svc"]["status"] == "ok"
    finally:
        chat.start()
        await chat.wait_healthy(30)


async def test_routes_and_headers(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        root = await client.get("/")
        assert root.status_code == 302 and root.headers["location"] == "/admin/login.html"
        for path in ("/admin/login.html", "/admin/notifications.html", "/admin/customer-service.html", "/h5/chat.html"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert page.headers["content-security-policy"] == CSP
            assert page.headers["x-content-type-options"] == "nosniff"
            assert "referrer-policy" in page.headers
            assert "<script>" not in page.text and " style=" not in page.text and "cdn" not in page.text.lower()
        vendor = await client.get("/vendor/socket.io.esm.min.js")
        assert vendor.status_code == 200 and "Socket.IO v4.7.2" in vendor.text
        assert vendor.headers["content-type"].startswith("text/javascript")
        sdk = await client.get("/sdk/index.js")  # the client SDK the pages import, from this origin
        assert sdk.status_code == 200 and "createClient" in sdk.text
        assert sdk.headers["content-type"].startswith("text/javascript")
        assert (await client.get("/sdk/wx.js")).status_code == 404  # only the pages build is served
        assert (await client.get("/.well-known/jwks.json")).json()["keys"]
        # Each API prefix reaches its service: an unauthenticated call gets that service's own 401 body.
        for path in ("/api/v4/notifications", "/api/v4/customer-service/sessions", "/api/v4/auth/me"):
            refused = await client.get(path)
            assert refused.status_code == 401, path
            assert refused.json()["error"]["code"] == "token_missing"
        assert (await client.get("/nothing-here")).status_code == 404


async def test_socketio_handshake_through_the_edge(base_url: str) -> None:
    """Long-polling handshake (the first request of every client) goes through to the gateway."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"},
                                    headers={"Origin": base_url})
    assert response.status_code == 200
    assert '"sid"' in response.text and "websocket" in response.text


async def test_the_root_redirect_is_relative_whatever_host_the_client_claims(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        for host in ("evil.example", "evil.example:8443", "localhost"):
            response = await client.get("/", headers={"Host": host})
            assert response.status_code == 302
            assert response.headers["location"] == "/admin/login.html", host


async def test_the_access_log_never_holds_socketio_session_ids(stack: Stack, base_url: str) -> None:
    access_log = Path(stack["edge"].spec.env["EDGE_ACCESS_LOG"])
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers={"Origin": base_url}) as client:
        handshake = await client.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
        sid = handshake.text[handshake.text.index("{"):].split('"sid":"')[1].split('"')[0]
        posted = await client.post("/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid},
                                   content="1")  # an engine.io close: the session ends at once
        assert posted.status_code == 200, posted.text
        marker = f"/admin/login.html?after-{sid[:6]}"
        assert (await client.get(marker)).status_code == 200
    for _ in range(100):  # nginx writes each line when its request ends; the marker is the last one
        if marker in access_log.read_text():
            break
        await asyncio.sleep(0.05)
    log = access_log.read_text()
    assert marker in log  # other URLs are logged as sent, query string included
    socketio_lines = [line for line in log.splitlines() if "/socket.io/" in line]
    assert len(socketio_lines) >= 2 and all(" /socket.io/ HTTP/1.1" in line for line in socketio_lines)
    assert sid not in log and "transport=" not in log


ROOT = Path(__file__).resolve().parents[2]


def test_compose_publishes_only_the_edge_and_seeds_nothing_unless_the_dev_file_is_added() -> None:
    base = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    dev = yaml.safe_load((ROOT / "docker-compose.dev.yml").read_text())["services"]
    assert {name for name, service in base.items() if service.get("ports")} == {"edge"}
    assert base["edge"]["ports"] == ["3000:3000"]
    assert all("AUTH_DEV_SEED" not in service.get("environment", {}) for service in base.values())
    assert dev["auth-svc"]["environment"]["AUTH_DEV_SEED"] == "true"
    published = {name: service["ports"] for name, service in dev.items() if service.get("ports")}
    assert published == {
        "postgres": ["5432:5432"], "rabbitmq": ["5672:5672", "15672:15672"], "auth-svc": ["8001:8001"],
        "notification-svc": ["8002:8002"], "chat-svc": ["8003:8003"], "realtime-gateway": ["8010:8010"],
    }
    assert set(dev) <= set(base)  # an override of services the base defines, never new ones


def _dockerfile_args(text: str) -> set[str]:
    return {line.split()[1].split("=")[0] for line in text.splitlines() if line.startswith("ARG ")}


def test_every_service_image_is_built_from_the_one_dockerfile_installing_the_lock_as_a_non_root_user() -> None:
    dockerfiles = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("Dockerfile*")
                         if not {"node_modules", ".venv", ".git", ".tools"} & set(p.parts))
    assert dockerfiles == ["docker/Dockerfile"]
    dockerfile = (ROOT / "docker/Dockerfile").read_text()
    run_stage = dockerfile.rsplit("\nFROM ", 1)[1]
    assert "uv sync --frozen" in dockerfile and "pip install" not in dockerfile  # the lock, nothing resolved
    assert "\nUSER app\n" in run_stage and "useradd --create-home --uid 10001" in run_stage
    assert "\nHEALTHCHECK " in run_stage and "SERVICE_PORT" in run_stage.split("HEALTHCHECK", 1)[1]
    declared = _dockerfile_args(dockerfile)
    base = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    built = {name: service for name, service in base.items() if "build" in service}
    assert set(built) == {"auth-svc", "notification-svc", "chat-svc", "realtime-gateway"}
    edge_env = base["edge"]["environment"]
    upstream = {"auth-svc": edge_env["EDGE_AUTH"], "notification-svc": edge_env["EDGE_NOTIFICATION"],
                "chat-svc": edge_env["EDGE_CHAT"], "realtime-gateway": edge_env["EDGE_GATEWAYS"]}
    for name, service in built.items():
        build = service["build"]
        assert (build["context"], build["dockerfile"]) == (".", "docker/Dockerfile"), name
        args = build["args"]
        assert set(args) <= declared, f"{name}: build args the Dockerfile does not declare"
        assert args["SERVICE"] == name and (ROOT / "services" / name / "pyproject.toml").is_file()
        module, _, factory = args["APP"].partition(":")
        source = ROOT / "services" / name / "src" / module.replace(".", "/")
        if factory:  # an ASGI factory uvicorn calls
            assert f"def {factory}(" in source.with_suffix(".py").read_text(), name
        else:  # a module run with python -m
            assert (source / "__main__.py").is_file(), name
        port = str(args["PORT"])
        assert upstream[name] == f"{name}:{port}", name
        assert f"127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"]), name
    assert built["auth-svc"]["build"]["args"]["STATE_DIR"] == "/var/lib/auth"
    assert "auth-keys:/var/lib/auth" in built["auth-svc"]["volumes"]


# --- the edge wherever the repository is cloned (issue 15, item 5) -----------------------------------------


@pytest.fixture
def private_clone() -> AsyncIterator[Path]:
    """This checkout's HEAD cloned into a directory only its owner can read (mode 0700, like `mktemp -d` or
    /root), with web/node_modules' socket.io-client bundle and Chart.js in place as `npm ci` would leave them, and
    the client SDK's pages build as its build would."""
    _require_tools()
    parent = Path(tempfile.mkdtemp(prefix="private-clone-"))
    parent.chmod(0o700)
    clone = parent / "platform"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    shutil.copytree(VENDOR.parent, clone / VENDOR.parent.relative_to(ROOT))
    charts = ROOT / "web" / "node_modules" / "chart.js" / "dist"  # the reports page's charts (/vendor/chart.js/)
    shutil.copytree(charts, clone / charts.relative_to(ROOT))
    (clone / SDK_BUNDLE.parent.relative_to(ROOT)).mkdir(parents=True)
    shutil.copy(SDK_BUNDLE, clone / SDK_BUNDLE.relative_to(ROOT))
    try:
        yield clone
    finally:
        snapshot = clone / ".run" / "edge" / "served-from"
        if snapshot.exists():
            shutil.rmtree(snapshot.read_text().strip(), ignore_errors=True)
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root nginx master hands requests to workers of another user")
async def test_the_edge_serves_the_pages_from_a_clone_in_a_directory_only_root_can_read(private_clone: Path) -> None:
    port = free_port()
    unused = f"{HOST}:{free_port()}"  # no service runs: the pages and the health aggregate need none
    env = {**os.environ, "EDGE_LISTEN": f"{HOST}:{port}", "EDGE_AUTH": unused, "EDGE_NOTIFICATION": unused,
           "EDGE_CHAT": unused, "EDGE_GATEWAYS": unused, "EDGE_ERROR_LOG": "stderr"}
    for name in ("EDGE_RUN_DIR", "EDGE_WEB_ROOT", "EDGE_VENDOR_DIR", "EDGE_SDK_DIR", "EDGE_WORKER_USER"):
        env.pop(name, None)  # the defaults: everything inside the private clone
    edge = await asyncio.create_subprocess_exec("sh", str(private_clone / "edge" / "edge.sh"), "start", env=env)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}") as client:
            for _ in range(200):
                assert edge.returncode is None, "edge.sh exited: see its output above"
                try:
                    page = await client.get("/admin/login.html")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("the edge did not answer")
            assert page.status_code == 200, page.text
            assert "<html" in page.text.lower()
            for path in ("/h5/chat.html", "/vendor/socket.io.esm.min.js", "/sdk/index.js"):
                assert (await client.get(path)).status_code == 200, path
            health = await client.get("/health")
            assert health.status_code == 200
            assert health.json()["edge"] == "ok"
            assert health.json()["auth-svc"] == {"status": "unreachable"}
    finally:
        edge.terminate()
        await edge.wait()


def test_the_edge_refuses_to_start_without_the_sdk_build_and_says_how_to_make_it(tmp_path: Path) -> None:
    """The pages import /sdk/index.js: an edge without it would serve pages that never connect."""
    _require_tools()
    env = {**os.environ, "EDGE_RUN_DIR": str(tmp_path / "run"), "EDGE_SDK_DIR": str(tmp_path / "no-sdk-build"),
           "EDGE_ERROR_LOG": "stderr"}
    done = subprocess.run(["sh", str(ROOT / "edge" / "edge.sh"), "render"], env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode != 0
    assert "no-sdk-build/index.js" in done.stderr and "node clients/sdk/scripts/build.mjs" in done.stderr, done.stderr


def test_a_relative_certificate_path_is_read_from_where_the_edge_was_started_not_its_run_directory(
    tmp_path: Path,
) -> None:
    """scripts/run names the development certificate by a path relative to the repository: nginx alone would look
    for it under its run directory and refuse to start (the README's first command failed so)."""
    _require_tools()
    made = subprocess.run(["sh", str(ROOT / "edge" / "dev-cert.sh"), "tls"], cwd=tmp_path, capture_output=True,
                          text=True, check=True, timeout=60)
    cert, key = made.stdout.strip().splitlines()[-1].split()
    assert not cert.startswith("/"), "the certificate is named relative to the caller's directory"
    env = {**os.environ, "EDGE_RUN_DIR": str(tmp_path / "run"), "EDGE_ERROR_LOG": "stderr", "EDGE_TLS_CERT": cert,
           "EDGE_TLS_KEY": key}
    done = subprocess.run(["sh", str(ROOT / "edge" / "edge.sh"), "render"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"ssl_certificate {tmp_path / cert};" in (tmp_path / "run" / "nginx.conf").read_text()


def _rendered_worker_connections(tmp_path: Path, soft_limit: int, **env: str) -> subprocess.CompletedProcess[str]:
    run_dir = tmp_path / "run"
    done = subprocess.run(["sh", "-c", f'ulimit -Sn {soft_limit} && exec sh "$0" render', str(ROOT / "edge" / "edge.sh")],
                          env={**os.environ, "EDGE_RUN_DIR": str(run_dir), "EDGE_ERROR_LOG": "stderr", **env},
                          capture_output=True, text=True, check=False, timeout=60)
    if done.returncode == 0:
        done.stdout = next(line.strip() for line in (run_dir / "nginx.conf").read_text().splitlines()
                           if line.strip().startswith("worker_connections"))
    return done


def test_the_edge_sizes_its_connections_by_the_descriptor_limit_not_a_fixed_4096(tmp_path: Path) -> None:
    """Every proxied socket is two connections of the one worker: 4096 capped the edge near 2,000 sockets."""
    _require_tools()
    hard = int(subprocess.run(["sh", "-c", "ulimit -Hn"], capture_output=True, text=True, check=True).stdout)
    assert _rendered_worker_connections(tmp_path, 1024).stdout == f"worker_connections {max(1024, min(hard - 64, 200000))};"
    assert _rendered_worker_connections(tmp_path, 1024, EDGE_WORKER_CONNECTIONS="5000").stdout == \
        "worker_connections 5000;"
    refused = _rendered_worker_connections(tmp_path, 1024, EDGE_WORKER_CONNECTIONS="lots")
    assert refused.returncode != 0 and "EDGE_WORKER_CONNECTIONS must be a number" in refused.stderr


# --- connection caps and the client's address (issue 14, findings 3 and 8) ----------------------------------


def _from(source: str) -> aiohttp.ClientSession:
    """HTTP from another loopback address: nginx sees it as `$remote_addr`."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0), force_close=True))


async def test_the_edge_caps_concurrent_socketio_connections_per_address(base_url: str) -> None:
    url = f"{base_url}/socket.io/?EIO=4&transport=websocket"
    async with _from("127.0.0.21") as crowd, _from("127.0.0.22") as other:
        sockets = [await crowd.ws_connect(url, headers={"Origin": base_url})
                   for _ in range(EDGE_SOCKETIO_CONN_PER_ADDRESS)]
        try:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await crowd.ws_connect(url, headers={"Origin": base_url})
            assert refused.value.status == 429  # the edge's cap: the gateway's (100) is not reached
            async with crowd.get(f"{base_url}/socket.io/", params={"EIO": "4", "transport": "polling"}) as poll:
                assert poll.status == 429
                assert (await poll.json())["error"]["code"] == "too_many_connections"
            lone = await other.ws_connect(url, headers={"Origin": base_url})  # another address is unaffected
            await lone.close()
        finally:
            await asyncio.gather(*(ws.close() for ws in sockets))


async def test_a_spoofed_x_forwarded_for_through_the_edge_does_not_change_the_address_the_gateway_caps(
    base_url: str,
) -> None:
    """Polling handshakes end at once (the edge no longer counts them) but their Engine.IO sessions stay on the
    gateway, which caps them per client address: the address nginx saw, whatever X-Forwarded-For says."""
    gateway_cap = 100  # GATEWAY_MAX_CONNECTIONS_PER_ADDRESS default
    handshake = {"EIO": "4", "transport": "polling"}
    sids: list[str] = []
    async with _from("127.0.0.23") as spoofer, _from("127.0.0.24") as other:
        try:
            for n in range(gateway_cap):
                async with spoofer.get(f"{base_url}/socket.io/", params=handshake,
                                       headers={"X-Forwarded-For": f"198.51.100.{n % 250 + 1}",
                                                "X-Real-IP": f"198.51.100.{n % 250 + 1}"}) as opened:
                    assert opened.status == 200, await opened.text()
                    sids.append(json.loads((await opened.text())[1:])["sid"])
            async with spoofer.get(f"{base_url}/socket.io/", params=handshake,
                                   headers={"X-Forwarded-For": "203.0.113.77"}) as refused:
                assert refused.status == 429
                assert (await refused.json())["error"]["code"] == "too_many_connections"
            async with other.get(f"{base_url}/socket.io/", params=handshake) as fine:
                assert fine.status == 200
                sids.append(json.loads((await fine.text())[1:])["sid"])
        finally:  # close the sessions (Engine.IO close packet) instead of leaving them to the ping timeout
            for sid in sids:
                async with spoofer.post(f"{base_url}/socket.io/", params={**handshake, "sid": sid}, data="1"):
                    pass


async def test_the_edge_makes_a_request_id_when_the_client_sent_none_and_passes_the_clients_own_through(
    stack: Stack, base_url: str,
) -> None:
    access_log = Path(stack["edge"].spec.env["EDGE_ACCESS_LOG"])
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        made = await client.get("/api/v4/notifications")
        kept = await client.get("/api/v4/notifications", headers={"X-Request-ID": "edge-test-rid-1"})
    assert made.status_code == 401 and kept.status_code == 401  # answered by notification-svc, which echoes it
    rid = made.headers["x-request-id"]
    assert len(rid) == 32 and all(c in "0123456789abcdef" for c in rid)  # nginx's $request_id
    assert kept.headers["x-request-id"] == "edge-test-rid-1"
    for _ in range(100):
        if "rid=edge-test-rid-1" in access_log.read_text():
            break
        await asyncio.sleep(0.05)
    log = access_log.read_text()
    assert f"rid={rid}" in log and "rid=edge-test-rid-1" in log


# --- pictures (issue 16): the upload route takes a large body, signed URLs serve the bytes -------------------


def _png(width: int, height: int) -> bytes:
    """A PNG of about 3 bytes per pixel (noise does not compress), made with Pillow."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), os.urandom(width * height * 3)).save(out, "PNG", compress_level=0)
    return out.getvalue()


async def test_pictures_go_through_the_edge_with_a_large_body_on_the_upload_route_only_and_signed_urls(
    stack: Stack, base_url: str
) -> None:
    access_log = Path(stack["edge"].spec.env["EDGE_ACCESS_LOG"])
    picture = _png(900, 900)
    assert 2_000_000 < len(picture) < 10_000_000  # above the edge's 1m elsewhere, below the 10 MB upload limit
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        # A user of its own: the session it opens stays waiting, and the seeded users belong to the scenarios
        # (test_scenarios.py's first test needs user1 to have no open session).
        login = await client.post("/api/v4/auth/register",
                                  json={"username": f"pictures{uuid.uuid4().hex[:8]}", "password": "correct horse 42"})
        assert login.status_code == 201, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        opened = await client.post("/api/v4/customer-service/sessions", json={"content": "图片"}, headers=headers)
        session_id = opened.json()["session_id"]
        too_big_elsewhere = await client.post(f"/api/v4/customer-service/sessions/{session_id}/messages",
                                              content=picture, headers=headers)
        assert too_big_elsewhere.status_code == 413
        uploaded = await client.post(f"/api/v4/customer-service/sessions/{session_id}/attachments",
                                     files={"file": ("p.png", picture, "image/png")}, headers=headers)
        assert uploaded.status_code == 201, uploaded.text
        attachment = uploaded.json()
        served = await client.get(attachment["thumbnail_url"])
        assert served.status_code == 200 and served.content.startswith(b"\x89PNG")
        assert served.headers["content-type"] == "image/png"
        assert served.headers.get_list("x-content-type-options") == ["nosniff"]
        assert served.headers["content-disposition"].startswith('inline; filename="picture-')
        assert served.headers["cache-control"].startswith("private")
        assert CSP in served.headers.get_list("content-security-policy")
        forged = attachment["url"].rsplit("sig=", 1)[0] + "sig=AAAA"
        assert (await client.get(forged)).status_code == 403
    sig = attachment["url"].rsplit("sig=", 1)[1]
    for _ in range(100):  # nginx writes each line when its request ends
        if "sig=AAAA" in access_log.read_text() or f"/attachments/{attachment['attachment_id']}/full " in \
                access_log.read_text():
            break
        await asyncio.sleep(0.05)
    log = access_log.read_text()
    assert f"/api/v4/customer-service/attachments/{attachment['attachment_id']}/thumbnail " in log
    assert sig not in log and "sig=" not in log
