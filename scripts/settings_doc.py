"""`python scripts/settings_doc.py [--check]`: the table of every setting, from the services' pydantic-settings
models, written to docs/SETTINGS.md, and the same settings as a commented .env.example.

Each service's model is `services/<name>/src/<package>/settings.py`'s `Settings` (found by that path: a new
service is in the table without registering it); a field's meaning is the docstring under it, in its own class
or in the servicekit class it comes from (`servicekit.jwt.JwtSettings`, ...). `--check` writes nothing and exits
1 when either file is out of date (scripts/test runs it).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import sys
import textwrap
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "docs" / "SETTINGS.md"
ENV_EXAMPLE = ROOT / ".env.example"
COMMAND = "python scripts/settings_doc.py"


@dataclass(frozen=True)
class Setting:
    service: str
    variable: str
    type: str
    default: str
    meaning: str
    shared_from: str | None
    """The servicekit class that declares the field, when it is not the service's own."""


def service_models(root: Path = ROOT) -> list[tuple[str, type[BaseSettings]]]:
    """(service folder name, its Settings class), in folder order."""
    models = []
    for path in sorted(root.glob("services/*/src/*/settings.py")):
        module = importlib.import_module(f"{path.parent.name}.settings")
        models.append((path.parents[2].name, module.Settings))
    return models


def field_docstrings(cls: type) -> dict[str, str]:
    """`name -> docstring` of the fields declared in `cls`'s own body (the string literal right under them)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    docs = {}
    for stmt, after in zip(body.body, body.body[1:], strict=False):
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) \
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
                and isinstance(after.value.value, str):
            docs[stmt.target.id] = inspect.cleandoc(after.value.value)
    return docs


def declaring_class(model: type[BaseSettings], name: str) -> type:
    """The most derived class in `model`'s MRO whose own body declares the field `name`."""
    for cls in model.__mro__:
        if name in inspect.get_annotations(cls):
            return cls
    return model


def type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(str(arg) for arg in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "none"
    if annotation is SecretStr:
        return "secret str"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"{annotation.__name__} (JSON)"
    return getattr(annotation, "__name__", str(annotation))


def constraints(field: FieldInfo) -> str:
    words = []
    for item in field.metadata:
        for attr, sign in (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<=")):
            value = getattr(item, attr, None)
            if value is not None:
                words.append(f"{sign} {value}")
    return ", ".join(words)


def env_value(value: Any) -> str:
    """The default as one would write it in the environment (lists and models as JSON)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, list | dict | tuple):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def settings_of(service: str, model: type[BaseSettings]) -> list[Setting]:
    prefix = model.model_config.get("env_prefix", "")
    docs: dict[type, dict[str, str]] = {}
    rows = []
    for name, field in model.model_fields.items():
        owner = declaring_class(model, name)
        meaning = field.description or ""
        for cls in model.__mro__:  # the docstring may sit in the class that declares it or one it overrides
            if not meaning and isinstance(cls, type) and issubclass(cls, BaseSettings) and cls is not BaseSettings:
                meaning = docs.setdefault(cls, field_docstrings(cls)).get(name, "")
        kind = type_name(field.annotation)
        if limits := constraints(field):
            kind = f"{kind} ({limits})"
        default = "(required)" if field.is_required() else env_value(field.get_default(call_default_factory=True))
        shared = None if owner.__module__ == model.__module__ else f"{owner.__module__}.{owner.__qualname__}"
        rows.append(Setting(service, f"{prefix}{name}".upper(), kind, default, meaning, shared))
    return rows


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_table(rows: list[Setting]) -> str:
    lines = [
        "# Settings",
        "",
        f"Generated by `{COMMAND}` from the services' pydantic-settings models: do not edit by hand;",
        "`./scripts/test` fails when this file or `.env.example` is out of date.",
        "",
        "Every setting is an environment variable: the service's prefix and the field's name in capitals. Lists",
        "and objects are JSON (`GATEWAY_CORS_ALLOWED_ORIGINS='[\"http://localhost:3000\"]'`); an empty default",
        "means unset. A value that fails its type or limits stops the service at start (the error names the field).",
        "The edge's `EDGE_*` variables are listed at the top of `edge/edge.sh`.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for row in rows:
        meaning = row.meaning + (f" (shared: `{row.shared_from}`)" if row.shared_from else "")
        default = f"`{cell(row.default)}`" if row.default and row.default != "(required)" else row.default
        lines.append(f"| `{row.variable}` | {cell(row.type)} | {default} | {cell(meaning)} |")
    lines += ["", "## Shared settings classes (libs/servicekit)", "",
              "A service composes these into its own `Settings`; its prefix applies.", "",
              "| class | fields | services |", "|---|---|---|"]
    shared: dict[str, tuple[list[str], list[str]]] = {}
    for row in rows:
        if row.shared_from:
            fields, services = shared.setdefault(row.shared_from, ([], []))
            field = row.variable.split("_", 1)[1]
            if field not in fields:
                fields.append(field)
            if row.service not in services:
                services.append(row.service)
    for cls, (fields, services) in sorted(shared.items()):
        lines.append(f"| `{cls}` | {', '.join(f'`<PREFIX>_{f}`' for f in fields)} | {', '.join(services)} |")
    return "\n".join(lines) + "\n"


def shell_value(value: str) -> str:
    if value and all(c.isalnum() or c in "-_./:@+,=" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def render_env_example(rows: list[Setting]) -> str:
    lines = [
        f"# Every setting of every service with its default, generated by `{COMMAND}`",
        "# (docs/SETTINGS.md is the same as a table). Nothing reads this file by itself: copy the lines you",
        "# change into the service's environment (docker compose `environment:`, scripts/run's exports, or",
        "# `set -a; . ./.env; set +a` in a shell). A commented-out variable is unset by default.",
    ]
    service = None
    for row in rows:
        if row.service != service:
            service = row.service
            lines += ["", f"# --- {service}"]
        if row.meaning:
            lines += [f"# {line}" for line in textwrap.wrap(" ".join(row.meaning.split()), 108)]
        if row.default in ("", "(required)"):  # unset by default: an empty value would not mean the same
            lines.append(f"# {row.variable}=")
        else:
            lines.append(f"{row.variable}={shell_value(row.default)}")
    return "\n".join(lines) + "\n"


def all_settings(root: Path = ROOT) -> list[Setting]:
    return [row for service, model in service_models(root) for row in settings_of(service, model)]


def expected_files(rows: list[Setting]) -> dict[Path, str]:
    return {TABLE: render_table(rows), ENV_EXAMPLE: render_env_example(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is out of date")
    args = parser.parse_args(argv)
    rows = all_settings()
    undocumented = [row.variable for row in rows if not row.meaning]
    for variable in undocumented:
        print(f"undocumented: {variable} (a docstring under the field says what it does)", file=sys.stderr)
    stale = []
    for path, content in expected_files(rows).items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == content:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(content, encoding="utf-8")
    for path in stale:
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{'stale' if args.check else 'wrote'}: {rel}", file=sys.stderr)
    if args.check and stale:
        print(f"settings: run `{COMMAND}` and commit the result", file=sys.stderr)
    return 1 if undocumented or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
