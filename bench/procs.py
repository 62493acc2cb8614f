"""The child processes of a bench cell: servers stopped as an operator would (SIGINT, then killed after a grace
period), and load generators asked over JSON lines (one command in, one `{"ok": ...}` answer out)."""

from __future__ import annotations

import json
import signal
import subprocess
from typing import Any


def stop_process(proc: subprocess.Popen[Any], grace: float = 10) -> None:
    """SIGINT (a process already gone is left alone), then SIGKILL if it has not exited within `grace` seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def ask(proc: subprocess.Popen[str], what: str, log_name: str, cmd: str, **args: Any) -> dict[str, Any]:
    """Send `cmd` with `args` to a JSON-lines generator and return its answer without `ok`; a generator that died or
    refused raises, naming `what` and its log."""
    assert proc.stdin and proc.stdout
    proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"{what} died (see {log_name})")
    answer: dict[str, Any] = json.loads(line)
    if not answer.pop("ok"):
        raise RuntimeError(f"{what}: {cmd}: {answer['error']}")
    return answer
