"""scripts/settings_doc.py: docs/SETTINGS.md and .env.example, generated from the services' Settings."""

import importlib.util
import sys
import types
from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parents[2]


def load_generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("settings_doc", ROOT / "scripts" / "settings_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("settings_doc", module)
    spec.loader.exec_module(module)
    return module


gen = load_generator()


def test_the_settings_table_has_every_field_of_every_service_with_its_variable_default_and_meaning() -> None:
    models = dict(gen.service_models())
    assert set(models) == {"auth-svc", "chat-svc", "notification-svc", "realtime-gateway"}
    table = (ROOT / "docs" / "SETTINGS.md").read_text()
    example = (ROOT / ".env.example").read_text()
    for model in models.values():
        prefix = model.model_config["env_prefix"]
        for name in model.model_fields:
            variable = f"{prefix}{name}".upper()
            assert f"| `{variable}` |" in table, variable
            assert f"\n{variable}=" in example or f"\n# {variable}=" in example, variable
    # the meaning is the docstring under the field; shared fields name their servicekit class
    assert "| `CHAT_ADMIN_CAPACITY` | int (>= 1, <= 1000) | `5` | Active sessions one admin may hold at most" in table
    assert "| `GATEWAY_JWKS_URL` | str | `http://127.0.0.1:8001/.well-known/jwks.json` |" in table
    assert "(shared: `servicekit.jwt.JwtSettings`)" in table
    assert "\nCHAT_SESSION_RATE_LIMIT='{\"requests\":20,\"per_seconds\":60.0}'\n" in example


class Documented(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")

    batch_size: int = Field(10, gt=0)
    """Rows handled per round."""


class Undocumented(Documented):
    retries: int = 3


def generate_into(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: type[BaseSettings]) -> None:
    """The generator writes into tmp_path, from `model` alone."""
    monkeypatch.setattr(gen, "TABLE", tmp_path / "SETTINGS.md")
    monkeypatch.setattr(gen, "ENV_EXAMPLE", tmp_path / ".env.example")
    monkeypatch.setattr(gen, "all_settings", lambda: gen.settings_of("demo", model))


def test_the_check_fails_when_a_file_is_stale_and_passes_once_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_into(tmp_path, monkeypatch, Documented)
    assert gen.main(["--check"]) == 1
    assert "stale: " in capsys.readouterr().err
    assert gen.main([]) == 0
    assert "| `DEMO_BATCH_SIZE` | int (> 0) | `10` | Rows handled per round. |" in (tmp_path / "SETTINGS.md").read_text()
    assert gen.main(["--check"]) == 0
    (tmp_path / ".env.example").write_text("DEMO_BATCH_SIZE=11\n")
    assert gen.main(["--check"]) == 1


def test_the_check_fails_on_a_setting_without_a_docstring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    generate_into(tmp_path, monkeypatch, Undocumented)
    assert gen.main([]) == 1
    assert gen.main(["--check"]) == 1
    assert "undocumented: DEMO_RETRIES" in capsys.readouterr().err
