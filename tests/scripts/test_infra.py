"""scripts/infra.sh and docker-compose.yml start RabbitMQ the way docs/SCALING.md measured it: a node whose Erlang
schedulers do not busy-wait (spinning cost the chat path 1.5-2 ms of broker CPU per message on 2 cores)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
NO_SPIN = "+sbwt none +sbwtdcpu none +sbwtdio none"


def _run_with_stubs(body: str, tmp_path: Path) -> str:
    """Sources scripts/infra.sh in bash with root commands and waits stubbed; returns what was run as root."""
    record = tmp_path / "as-root"
    script = f"""
        source "{ROOT}/scripts/infra.sh"
        _infra_as_root() {{ printf '%s\\n' "$*" >> "{record}"; }}
        _infra_as_postgres() {{ printf 'postgres: %s\\n' "$*" >> "{record}"; cat >> "{record}"; }}
        _infra_wait() {{ return 1; }}
        _infra_rabbit_log_tail() {{ :; }}
        _infra_record() {{ :; }}
        {body}
        exit 0
    """
    subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True, timeout=30)
    return record.read_text() if record.exists() else ""


def test_infra_starts_rabbitmq_with_schedulers_that_do_not_busy_wait(tmp_path: Path) -> None:
    ran = _run_with_stubs("rabbitmqctl() { return 1; }\nensure_rabbitmq || true", tmp_path)
    start = [line for line in ran.splitlines() if "rabbitmq-server -detached" in line]
    assert start == [f"env RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS={NO_SPIN} rabbitmq-server -detached"]


def test_compose_starts_rabbitmq_with_schedulers_that_do_not_busy_wait() -> None:
    rabbitmq = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["rabbitmq"]
    assert rabbitmq["environment"]["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] == NO_SPIN
