"""Which relay mode a service's settings choose (servicekit.service.BrokerSettings.relay_runs_in)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict
from servicekit.service import BrokerSettings, RelayMode, ServiceSettings


class _Settings(ServiceSettings, BrokerSettings):
    model_config = SettingsConfigDict(env_prefix="RELAYTEST_")


class _ThreadByDefault(_Settings):
    default_relay_mode: ClassVar[RelayMode] = "thread"


def test_relay_mode_is_the_service_default_when_nothing_is_set() -> None:
    assert _Settings().relay_runs_in() == "process"  # servicekit's default: every publishing service
    assert _ThreadByDefault().relay_runs_in() == "thread"  # a service may choose another


@pytest.mark.parametrize(("thread", "mode"), [("false", "inline"), ("true", "thread")])
def test_the_older_relay_thread_switch_still_chooses_when_relay_mode_is_unset(
    monkeypatch: pytest.MonkeyPatch, thread: str, mode: str,
) -> None:
    monkeypatch.setenv("RELAYTEST_RELAY_THREAD", thread)
    assert _Settings().relay_runs_in() == mode


def test_relay_mode_wins_over_relay_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYTEST_RELAY_THREAD", "false")
    monkeypatch.setenv("RELAYTEST_RELAY_MODE", "thread")
    assert _Settings().relay_runs_in() == "thread"


def test_a_relay_process_is_configured_by_the_same_relay_settings_as_the_other_modes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from servicekit.relay_process import relay_process

    for name, value in [("RELAY_BATCH_EVENTS", "false"), ("RELAY_BATCH_MAX_EVENTS", "7"), ("RELAY_MARK_DELAY", "0.2"),
                        ("RELAY_POLL_INTERVAL", "0.5"), ("PUBLISH_TIMEOUT", "2.5"), ("LOG_FORMAT", "text")]:
        monkeypatch.setenv(f"RELAYTEST_{name}", value)
    config = relay_process("toy-svc", "toy", _Settings()).config
    assert (config.name, config.schema_name) == ("toy-svc", "toy")
    assert (config.batch_events, config.batch_max_events, config.mark_delay) == (False, 7, 0.2)
    assert (config.poll_interval, config.publish_timeout, config.log_format) == (0.5, 2.5, "text")
