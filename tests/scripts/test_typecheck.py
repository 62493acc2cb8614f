"""The type check of `./scripts/test`: mypy with the root pyproject.toml's [tool.mypy] refuses what it promises to.

One mypy run (the repository's config, pinned mypy) over a small module with one mistake per test below."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = '''\
from pydantic import BaseModel


def untyped(x):
    return x


def half_typed(x: int, y) -> int:
    return x


a: int = "a"  # type: ignore


b: int = 1  # type: ignore[assignment]


class Model(BaseModel):
    known: int


m = Model.model_construct(known="1")
'''


def line_of(text: str) -> int:
    return next(i for i, line in enumerate(CASES.splitlines(), 1) if text in line)


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory) -> str:
    package = tmp_path_factory.mktemp("typecheck") / "probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cases.py").write_text(CASES)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", "/dev/null",
         str(package / "cases.py")],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    return done.stdout


def test_a_function_without_annotations_is_a_type_error(errors: str) -> None:
    assert f"cases.py:{line_of('def untyped')}: error: Function is missing a type annotation  [no-untyped-def]" in errors


def test_a_function_with_some_parameters_unannotated_is_a_type_error(errors: str) -> None:
    assert f"cases.py:{line_of('def half_typed')}: error: Function is missing a type annotation for one or more" in errors


def test_a_type_ignore_without_an_error_code_is_a_type_error(errors: str) -> None:
    assert f"cases.py:{line_of('a: int')}: error:" in errors
    assert "[ignore-without-code]" in errors


def test_a_type_ignore_that_ignores_nothing_is_a_type_error(errors: str) -> None:
    assert f'cases.py:{line_of("b: int")}: error: Unused "type: ignore" comment  [unused-ignore]' in errors


def test_pydantic_models_are_checked_by_the_plugin(errors: str) -> None:
    # Without the plugin, model_construct takes **Any; with it, the model's fields and their types.
    assert f'cases.py:{line_of("model_construct")}: error: Argument "known" to "model_construct" of "Model"' in errors


def test_every_listed_package_exists_and_scripts_test_runs_the_check() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert config["disallow_untyped_defs"] is True and "pydantic.mypy" in config["plugins"]
    for path in config["files"]:
        assert (ROOT / path / "__init__.py").is_file(), path
    assert '\nstep "mypy" mypy\n' in (ROOT / "scripts" / "test").read_text()
