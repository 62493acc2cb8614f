"""``contracts-gen [--check] [--out DIR]``: write (or check) the documents generated from the contracts.

Writes ``schemas/<Model>.json`` (one JSON Schema per contract model), ``asyncapi.json`` (AsyncAPI 3.0 of the
Socket.IO API) and ``payloads.d.ts`` (TypeScript declarations). ``--check`` writes nothing and exits 1 when
any file is stale, missing or extra.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from contracts.catalog import ALL_MODELS
from contracts.cli.asyncapi import build_asyncapi
from contracts.cli.typescript import build_typescript

DEFAULT_OUT = Path(__file__).resolve().parents[3] / "generated"
"""``libs/contracts/generated``, located from the package source, not the working directory."""
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def dump_json(document: Any) -> str:
    """Deterministic JSON: sorted keys, 2-space indent, UTF-8 text, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[str, str]:
    """Relative path (POSIX) -> content of every generated file."""
    files = {}
    for model in ALL_MODELS:
        schema = {"$schema": SCHEMA_DIALECT, **model.model_json_schema(mode="validation")}
        files[f"schemas/{model.__name__}.json"] = dump_json(schema)
    files["asyncapi.json"] = dump_json(build_asyncapi())
    files["payloads.d.ts"] = build_typescript()
    return files


def _present(out: Path) -> set[str]:
    """Files already in ``out`` that this tool owns (so --check can report extras)."""
    owned = {p for p in ("asyncapi.json", "payloads.d.ts") if (out / p).is_file()}
    schemas = out / "schemas"
    if schemas.is_dir():
        owned |= {f"schemas/{p.name}" for p in schemas.iterdir() if p.is_file()}
    return owned


def check(out: Path, expected: dict[str, str]) -> list[str]:
    """One line per problem: ``stale``, ``missing`` or ``extra`` and the path."""
    problems = []
    for rel, content in sorted(expected.items()):
        path = out / rel
        if not path.is_file():
            problems.append(f"missing: {path}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"stale: {path}")
    problems += [f"extra: {out / rel}" for rel in sorted(_present(out) - expected.keys())]
    return problems


def write(out: Path, expected: dict[str, str]) -> list[str]:
    """Write what changed, delete owned files no longer generated; returns the paths touched."""
    touched = []
    for rel in sorted(_present(out) - expected.keys()):
        (out / rel).unlink()
        touched.append(f"deleted: {out / rel}")
    for rel, content in sorted(expected.items()):
        path = out / rel
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8", newline="\n")
        touched.append(f"wrote: {path}")
    return touched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contracts-gen", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if anything is stale")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory ({DEFAULT_OUT})")
    args = parser.parse_args(argv)
    expected = expected_files()
    if args.check:
        problems = check(args.out, expected)
        for line in problems:
            print(line)
        if problems:
            summary = f"contracts-gen --check: {len(problems)} file(s) out of date; run contracts-gen"
            print(summary, file=sys.stderr)
            return 1
        print(f"contracts-gen --check: {len(expected)} generated files up to date in {args.out}")
        return 0
    touched = write(args.out, expected)
    for line in touched:
        print(line)
    print(f"contracts-gen: {len(expected)} files in {args.out}, {len(touched)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
