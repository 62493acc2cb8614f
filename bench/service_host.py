"""A service of the platform run for a bench cell (bench/chat_host.py, bench/notification_host.py): started as its
own process, waited for until /health answers, timed GETs against one endpoint, stopped with SIGINT."""

from __future__ import annotations

import http.client
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from procs import stop_process

BENCH = Path(__file__).resolve().parent


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


class ServiceHost:
    """`script` (a bench/*_host.py) on `port` with `env` added to this process's; `start_seconds`: until healthy."""

    def __init__(self, python: str, script: str, jwks: Path, env: dict[str, str], log: Any, port: int,
                 what: str) -> None:
        self.port = port
        started = time.time()
        self.proc = subprocess.Popen([python, str(BENCH / script), "--port", str(port), "--jwks", str(jwks)],
                                     env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=log)
        deadline = started + 300
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{what} did not start (see {log.name})")
            time.sleep(0.2)
        self.start_seconds = time.time() - started

    def timed_gets(self, path: str, token: str, *, warm_up: int, requests: int,
                   timeout: float = 60) -> tuple[list[float], bytes]:
        """Milliseconds of each of `requests` GETs of `path` (after `warm_up` untimed ones) and the last answer;
        any status but 200 raises."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {token}"}
        times: list[float] = []
        answer = b""
        for i in range(warm_up + requests):
            t0 = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"GET {path} answered {response.status}: {answer[:200]!r}")
            if i >= warm_up:
                times.append((time.perf_counter() - t0) * 1000)
        conn.close()
        return times, answer

    def stop(self) -> None:
        stop_process(self.proc)
