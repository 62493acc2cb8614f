import pytest


def test_docs_spec_is_byte_identical_to_the_shared_spec(repo_root):
    shared = repo_root.parent / "shared" / "spec" / "websocket-protocol.md"
    if not shared.is_file():
        pytest.skip(f"no shared spec at {shared} to compare with")
    assert (repo_root / "docs" / "websocket-protocol.md").read_bytes() == shared.read_bytes()
