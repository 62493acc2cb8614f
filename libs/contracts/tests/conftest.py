from pathlib import Path

import pytest


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "docs" / "websocket-protocol.md").is_file():
            return parent
    raise RuntimeError("cannot find the repository root (docs/websocket-protocol.md) above the tests")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return _repo_root()


@pytest.fixture(scope="session")
def spec_text(repo_root: Path) -> str:
    return (repo_root / "docs" / "websocket-protocol.md").read_text(encoding="utf-8")
