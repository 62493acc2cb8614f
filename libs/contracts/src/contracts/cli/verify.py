"""``contracts-verify [PATHS...]``: check every Socket.IO event name used in source code.

Scans .js/.mjs/.cjs/.ts/.html/.htm/.py files (and the fenced js/ts/html/python blocks of .md files) for
``.emit(`` / ``.on(`` / ``.once(`` / ``.off(`` (which covers python-socketio's ``@sio.on(`` and ``sio.emit(``),
and the client SDK's ``.request(`` / ``.send(`` (clients/sdk: ``client.request("chat:send_message", ...)``),
whose first argument is a string literal, and fails for any name that is not a registered, built-in or legacy
event. A line containing ``contracts-verify: ignore`` is skipped.
"""

import argparse
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contracts.socketio.events import EVENT_NAMES, NAME_PATTERN, is_known_event

SOURCE_SUFFIXES = {".js", ".mjs", ".cjs", ".ts", ".html", ".htm", ".py"}
SKIP_DIRS = {"node_modules", ".venv", ".git", "generated", "dist", "build"}
IGNORE_MARK = "contracts-verify: ignore"
FENCE_LANGS = {"js", "javascript", "mjs", "ts", "typescript", "html", "py", "python"}

CALL = re.compile(r"""\.(?:emit|on|once|off|request|send)\(\s*(?P<q>['"`])(?P<name>(?:(?!(?P=q))[^\\\n])*)(?P=q)""")
FENCE = re.compile(r"^```\s*([A-Za-z]*)\s*$")


@dataclass(frozen=True)
class Finding:
    path: Path
    line: int
    name: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.name!r} {self.reason}"


def reason_for(name: str) -> str | None:
    """None when ``name`` is acceptable, else why it is not."""
    if is_known_event(name):
        return None
    rule = "<module>:<action> in lowercase snake_case, e.g. 'notification:new'"
    if NAME_PATTERN.match(name):
        modules = sorted({n.split(":")[0] for n in EVENT_NAMES})
        module = name.split(":")[0]
        hint = "" if module in modules else f" (unknown module {module!r}; modules: {', '.join(modules)})"
        return (
            f"is well-formed but not in the contracts registry{hint}; "
            "add an EventSpec in contracts.socketio.events"
        )
    if ":" not in name:
        kind = "uses camelCase/uppercase and " if re.search(r"[A-Z]", name) else ""
        return f"breaks the naming rule: {kind}is missing the module prefix; expected {rule}"
    if re.search(r"[A-Z]", name):
        return f"breaks the naming rule: uses camelCase/uppercase; expected {rule}"
    return f"breaks the naming rule; expected {rule}"


def _markdown_code(text: str) -> str:
    """Keep only the lines of fenced code blocks in checked languages; blank the rest (line numbers hold)."""
    out, keep, inside = [], False, False
    for line in text.splitlines():
        fence = FENCE.match(line.strip())
        if fence:
            inside, keep = (not inside), (not inside and fence.group(1).lower() in FENCE_LANGS)
            out.append("")
            continue
        out.append(line if inside and keep else "")
    return "\n".join(out)


def scan_text(path: Path, text: str) -> Iterator[tuple[int, str, str | None]]:
    """(line, name, reason-or-None) for every literal event name in ``text``."""
    lines = text.splitlines()
    for match in CALL.finditer(text):
        name = match.group("name")
        if not name or (match.group("q") == "`" and "${" in name):
            continue  # dynamic names cannot be checked; an empty literal is prose like ``.on(``
        start = text.count("\n", 0, match.start()) + 1
        end = text.count("\n", 0, match.end()) + 1
        if any(IGNORE_MARK in lines[n - 1] for n in range(start, end + 1) if n <= len(lines)):
            continue
        yield end, name, reason_for(name)


def iter_files(paths: list[Path]) -> Iterator[Path]:
    for root in paths:
        if root.is_file():
            yield root
            continue
        for folder, dirs, names in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)  # prune: never descend into them
            for name in sorted(names):
                path = Path(folder) / name
                if path.suffix in SOURCE_SUFFIXES or path.suffix == ".md":
                    yield path


def verify(paths: list[Path]) -> tuple[int, int, list[Finding]]:
    """(files scanned, names checked, findings)."""
    files = checked = 0
    findings: list[Finding] = []
    for path in iter_files(paths):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        files += 1
        if path.suffix == ".md":
            text = _markdown_code(text)
        for line, name, reason in scan_text(path, text):
            checked += 1
            if reason:
                findings.append(Finding(path, line, name, reason))
    return files, checked, findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="contracts-verify", description=__doc__.splitlines()[0])
    parser.add_argument(
        "paths", nargs="*", type=Path, default=[Path(".")], help="files or directories (default .)"
    )
    args = parser.parse_args(argv)
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        print(f"contracts-verify: no such file or directory: {', '.join(map(str, missing))}", file=sys.stderr)
        return 2
    files, checked, findings = verify(args.paths)
    for finding in findings:
        print(finding)
    summary = f"{files} files scanned, {checked} event names checked"
    if findings:
        print(f"contracts-verify: FAILED: {len(findings)} bad event name(s); {summary}", file=sys.stderr)
        return 1
    print(f"contracts-verify: OK: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
