"""Whole-stack harness: the platform's services as real subprocesses on free loopback ports.

Each service runs as `sys.executable <args>` (so the venv running pytest runs the services too), writes its
output to `<workdir>/<name>.log`, and counts as up once `GET /health` answers 200. Processes are managed with
`subprocess.Popen`, but every wait is `async`, so clients a test keeps open on the same event loop (Socket.IO,
AMQP consumers) go on running while a service is stopped, killed or restarted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"


class ServiceStartError(RuntimeError):
    """A service exited or did not answer `/health` in time; the message carries its log tail."""


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service. `args` follow `python`; `{host}` and `{port}` are filled in."""

    name: str
    args: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    health_path: str = "/health"


def uvicorn_factory(factory: str) -> list[str]:
    """Arguments that start an ASGI app factory such as `notification_svc.main:create_app`."""
    # --no-proxy-headers: the app's own FORWARDED_ALLOW_IPS decides whose X-Forwarded-For counts (servicekit.forwarded)
    return ["-m", "uvicorn", "--factory", factory, "--host", "{host}", "--port", "{port}", "--no-proxy-headers"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the service gets SIGKILL if pytest dies, so no orphan keeps a port or a database session."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class ServiceProcess:
    """One service; its port stays the same across restarts, so URLs handed to clients stay valid."""

    def __init__(self, spec: ServiceSpec, workdir: Path, port: int | None = None) -> None:
        self.spec = spec
        self.port = port or free_port()
        self.log_path = workdir / f"{spec.name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Spawn the process (does not wait: see `wait_healthy`)."""
        if self.running:
            raise RuntimeError(f"{self.name} is already running")
        args = [a.replace("{host}", HOST).replace("{port}", str(self.port)) for a in self.spec.args]
        env = {**os.environ, **self.spec.env, "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            log.write(f"\n===== {time.strftime('%H:%M:%S')} start: python {' '.join(args)}\n".encode())
            log.flush()
            # preexec_fn only sets the child's parent-death signal: no lock or thread state of ours is touched.
            self.process = subprocess.Popen(
                [sys.executable, *args], env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )

    async def wait_healthy(self, timeout: float = 30.0) -> None:
        """Poll `/health` until 200; raise `ServiceStartError` with the log tail on exit or timeout."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if not self.running:
                    code = self.process.returncode if self.process else None
                    raise ServiceStartError(self._failure(f"exited with code {code} before answering /health"))
                try:
                    if (await client.get(self.spec.health_path)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise ServiceStartError(self._failure(f"did not answer {self.spec.health_path} in {timeout} s"))
                await asyncio.sleep(0.1)

    async def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL if the process has not exited after `timeout` s. Returns the exit code."""
        if not self.running:
            return self.process.returncode if self.process else None
        assert self.process is not None
        self.process.terminate()
        if await self._wait_exit(timeout) is None:
            self.process.kill()
            await self._wait_exit(5.0)
        return self.process.returncode

    async def kill(self) -> int | None:
        """`kill -9`: no shutdown code runs (a crash, as far as the service's peers can tell)."""
        if self.running:
            assert self.process is not None
            self.process.kill()
            await self._wait_exit(5.0)
        return self.process.returncode if self.process else None

    async def restart(self, timeout: float = 30.0) -> None:
        """Stop (gracefully) if running, start on the same port, wait until healthy."""
        await self.stop()
        self.start()
        await self.wait_healthy(timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log yet)"

    async def _wait_exit(self, timeout: float) -> int | None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while (code := self.process.poll()) is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return code

    def _failure(self, what: str) -> str:
        return f"{self.name} {what}; log {self.log_path}, last lines:\n{self.log_tail()}"


class Stack:
    """A set of services sharing one work directory (their logs, key files)."""

    def __init__(self, workdir: Path, database_url: str = "", amqp_url: str = "") -> None:
        self.workdir = workdir
        self.database_url = database_url  # what its services were given (tests reach their data with these)
        self.amqp_url = amqp_url
        self.services: dict[str, ServiceProcess] = {}

    def add(self, spec: ServiceSpec, port: int | None = None) -> ServiceProcess:
        """Register a service and reserve its port (known before any process starts)."""
        service = ServiceProcess(spec, self.workdir, port)
        self.services[spec.name] = service
        return service

    def __getitem__(self, name: str) -> ServiceProcess:
        return self.services[name]

    def url(self, name: str) -> str:
        return self.services[name].base_url

    async def start(self, timeout: float = 30.0) -> None:
        """Start every service not yet running, wait for all; on failure stop everything and re-raise."""
        pending = [s for s in self.services.values() if not s.running]
        for service in pending:
            service.start()
        try:
            await asyncio.gather(*(s.wait_healthy(timeout) for s in pending))
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.services.values()))

    def logs_report(self, lines: int = 30) -> str:
        return "\n\n".join(
            f"--- {s.name} ({s.log_path}) ---\n{s.log_tail(lines)}" for s in self.services.values()
        )
