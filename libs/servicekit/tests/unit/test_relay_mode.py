"""Which relay mode a service's settings choose (servicekit.service.BrokerSettings.relay_runs_in)."""

from __future__ import annotations

from typing import ClassVar

import pytest
from pydantic_settings import SettingsConfigDict
from servicekit.service import BrokerSettings, RelayMode, ServiceSettings


class _Settings(ServiceSettings, BrokerSettings):
    model_config = SettingsConfigDict(env_prefix="RELAYTEST_")


class _ProcessByDefault(_Settings):
    default_relay_mode: ClassVar[RelayMode] = "process"


def test_relay_mode_is_the_service_default_when_nothing_is_set() -> None:
    assert _Settings().relay_runs_in() == "thread"
    assert _ProcessByDefault().relay_runs_in() == "process"


@pytest.mark.parametrize(("thread", "mode"), [("false", "inline"), ("true", "thread")])
def test_the_older_relay_thread_switch_still_chooses_when_relay_mode_is_unset(
    monkeypatch: pytest.MonkeyPatch, thread: str, mode: str,
) -> None:
    monkeypatch.setenv("RELAYTEST_RELAY_THREAD", thread)
    assert _ProcessByDefault().relay_runs_in() == mode


def test_relay_mode_wins_over_relay_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAYTEST_RELAY_THREAD", "false")
    monkeypatch.setenv("RELAYTEST_RELAY_MODE", "process")
    assert _Settings().relay_runs_in() == "process"
