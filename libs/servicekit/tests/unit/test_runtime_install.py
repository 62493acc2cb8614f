"""A production install of servicekit carries no test machinery: the pytest plugin and TokenMint live in the
separate, test-only package platform-servicekit-testing."""

import ast
import importlib.metadata
from pathlib import Path

import servicekit

TEST_ONLY = {"pytest", "pytest_asyncio", "testcontainers", "servicekit_testing"}


def test_the_runtime_package_registers_no_pytest_plugin():
    entry_points = importlib.metadata.distribution("platform-servicekit").entry_points
    assert [e for e in entry_points if e.group == "pytest11"] == []
    assert "testing" not in (importlib.metadata.metadata("platform-servicekit").get_all("Provides-Extra") or [])


def test_no_runtime_module_imports_a_test_only_package():
    offenders = []
    for path in Path(servicekit.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in TEST_ONLY]
    assert offenders == []
