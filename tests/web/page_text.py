"""What the page-text checks read: the catalogues (through Node, which imports them as the browser does), the
pages' scripts as a stream of string literals with where each one sits, and the HTML's static text.

A pragmatic check, not a JavaScript parser: it knows enough of JavaScript (comments, the three string kinds,
template `${}` holes, regex literals) to find every string literal of web/js and the call or property it is
given to. Which places count as "shown to a person" is the SINKS tables below.
"""

from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
CATALOGUE_DIR = WEB / "js" / "i18n"
LOCALES = ("zh-CN", "en")

# A literal given to one of these is put on the page (h's children are its arguments from the third on).
SINK_CALLS = {
    "toast", "showTyping", "fail", "retryLater", "banner", "alert", "confirm", "prompt", "replaceChildren",
    "append", "prepend", "after", "before", "createTextNode", "show",
}
SINK_CALL_FROM_ARG = {"h": 2, "show": 1}
# ... and as the value of one of these properties or assignments.
SINK_PROPERTIES = {"text", "title", "message", "label", "placeholder", "alt", "aria-label", "body"}
SINK_ASSIGNMENTS = re.compile(r"\b(textContent|innerText|innerHTML|outerHTML|title|placeholder|alt)\s*\+?=(?!=)")
TRANSLATE_CALLS = {"t", "t.has"}
# Values of these properties are class lists and link relations, never read as words.
TECHNICAL_PROPS = {"className", "class", "rel", "autocomplete"}
# Keys, test ids, codes: "not_admin", "conv-title", "lang.name" (at least one separator, lower case).
IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*([-_.][a-z0-9]+)+$")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
PROSE = re.compile(r"[A-Za-z]{2,}[,.!?…:;]?\s+[A-Za-z]{2,}")
REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}
REGEX_KEYWORDS = {"return", "typeof", "case", "in", "of", "void", "throw", "delete", "new"}


@dataclass(frozen=True)
class Literal:
    path: str
    line: int
    text: str  # a template literal without its ${} holes
    callee: str | None  # the innermost call it is an argument of
    arg_index: int
    prop: str | None  # the property it is the value of, in an object literal
    before: str  # the code just before it on its line
    compared: bool  # an operand of ===, !==, ==, !=
    dynamic: bool  # a template literal with ${} holes

    @property
    def function(self) -> str | None:
        """The called function's own name: `replaceChildren` for `meta.replaceChildren(...)`."""
        return self.callee.rsplit(".", 1)[-1] if self.callee else None

    def where(self) -> str:
        return f"{self.path}:{self.line}: {self.text!r}"


def has_letter(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def literals(source: str, path: str = "<js>") -> list[Literal]:
    """Every string literal of `source` with its context (template holes are scanned too)."""
    found: list[Literal] = []
    _scan(source, path, found, 0, source)
    return found


def _line_of(full: str, offset: int) -> int:
    return full.count("\n", 0, offset) + 1


def _scan(src: str, path: str, found: list[Literal], base: int, full: str) -> None:
    i, n = 0, len(src)
    stack: list[list] = []  # [bracket, callee, arg_index, prop]
    last = ""  # the last significant token
    pending_prop: str | None = None
    while i < n:
        ch = src[i]
        if ch in " \t\r\n":
            i += 1
            continue
        if src.startswith("//", i):
            i = src.find("\n", i)
            i = n if i < 0 else i
            continue
        if src.startswith("/*", i):
            end = src.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if ch == "/" and (last in REGEX_BEFORE or last in REGEX_KEYWORDS):
            j, in_class = i + 1, False
            while j < n and (src[j] != "/" or in_class):
                if src[j] == "\\":
                    j += 1
                elif src[j] == "[":
                    in_class = True
                elif src[j] == "]":
                    in_class = False
                j += 1
            i = j + 1
            while i < n and src[i].isalpha():
                i += 1
            last = "regex"
            continue
        if ch in "'\"`":
            j, parts, holes = i + 1, [], []
            while j < n and src[j] != ch:
                if src[j] == "\\":
                    parts.append(src[j + 1] if j + 1 < n else "")
                    j += 2
                    continue
                if ch == "`" and src.startswith("${", j):
                    depth, k = 1, j + 2
                    while k < n and depth:
                        depth += {"{": 1, "}": -1}.get(src[k], 0)
                        k += 1
                    holes.append((j + 2, k - 1))
                    parts.append(" ")
                    j = k
                    continue
                parts.append(src[j])
                j += 1
            line_start = full.rfind("\n", 0, base + i) + 1
            before = full[line_start:base + i]
            top = stack[-1] if stack else None
            in_call = top is not None and top[0] == "("
            is_key = top is not None and top[0] == "{" and last in {"{", ","} and src[j + 1:].lstrip().startswith(":")
            prop = pending_prop if top is not None and top[0] == "{" and not is_key else None
            found.append(Literal(
                path, _line_of(full, base + i), "".join(parts).strip() if ch == "`" else "".join(parts),
                top[1] if in_call else None, top[2] if in_call else 0, prop, before,
                bool(re.search(r"[=!]==?\s*$", before)) or bool(re.match(r"\s*[=!]==?", src[j + 1:])),
                bool(holes),
            ))
            for start, end in holes:
                _scan(src[start:end], path, found, base + start, full)
            i = j + 1
            last = "string"
            if is_key:
                pending_prop = "".join(parts)
            continue
        if ch.isalnum() or ch in "_$":
            j = i
            while j < n and (src[j].isalnum() or src[j] in "_$."):
                j += 1
            if stack and stack[-1][0] == "{" and last in {"{", ","} and src[j:].lstrip().startswith(":"):
                pending_prop = src[i:j]
            last = src[i:j]
            i = j
            continue
        if ch in "([{":
            callee = last if ch == "(" and last not in REGEX_BEFORE and last not in {"string", "regex"} else None
            stack.append([ch, callee, 0, None])
            last = ch
            i += 1
            continue
        if ch in ")]}":
            if stack:
                stack.pop()
            last = ch
            i += 1
            continue
        if ch == ",":
            if stack:
                stack[-1][2] += 1
            pending_prop = None
        last = ch
        i += 1


def problems_in_script(source: str, path: str) -> list[str]:
    """User-visible literals in one page script: text in a sink, or prose anywhere (CJK or English words)."""
    out = []
    for lit in literals(source, path):
        if lit.callee in TRANSLATE_CALLS and lit.arg_index == 0:
            continue  # a catalogue key
        if not has_letter(lit.text):
            continue  # punctuation, separators, symbols
        if CJK.search(lit.text):
            out.append(lit.where())
            continue
        if IDENTIFIER.match(lit.text):
            continue
        sink = (
            (lit.function in SINK_CALLS and lit.arg_index >= SINK_CALL_FROM_ARG.get(lit.function, 0))
            or (lit.callee == "h" and lit.arg_index >= SINK_CALL_FROM_ARG["h"])
            or (lit.prop in SINK_PROPERTIES)
            or (lit.callee is None and bool(SINK_ASSIGNMENTS.search(lit.before)))
        )
        technical = lit.prop in TECHNICAL_PROPS or bool(re.search(r"\b(className|rel)\s*=\s*$", lit.before))
        prose = bool(PROSE.search(lit.text)) and not lit.compared and not technical
        if sink or prose:
            out.append(lit.where())
    return out


def page_scripts() -> list[Path]:
    return sorted(p for p in (WEB / "js").glob("*.js"))


def translation_keys(source: str) -> set[str]:
    """Keys given literally to t() / t.has() (template keys such as t(`error.${code}`) are not listed)."""
    return {lit.text for lit in literals(source) if lit.callee in TRANSLATE_CALLS and lit.arg_index == 0
            and not lit.dynamic and lit.text}


class _PageText(HTMLParser):
    VISIBLE_ATTRIBUTES: ClassVar[set[str]] = {"placeholder", "title", "aria-label", "alt"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []
        self.keys: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in {"meta", "link", "input", "br", "img", "hr"}:
            self.stack.append(tag)
        for name, value in attrs:
            if name in self.VISIBLE_ATTRIBUTES and value and has_letter(value):
                self.text.append(f"<{tag} {name}={value!r}>")
            if name.startswith("data-i18n") and value:
                self.keys.add(value)

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if has_letter(data) and not (self.stack and self.stack[-1] in {"script", "style"}):
            self.text.append(f"<{self.stack[-1] if self.stack else '?'}> {data.strip()!r}")


def html_text(source: str) -> tuple[list[str], set[str]]:
    """(static text a person would read, the catalogue keys its data-i18n* attributes name)."""
    parser = _PageText()
    parser.feed(source)
    return parser.text, parser.keys


def pages_html() -> list[Path]:
    return sorted(WEB.glob("*/*.html"))


def load_catalogues() -> dict[str, dict]:
    """{locale: {"messages": {...}, "plural_categories": [...]}} as Node (and so the browser) sees them."""
    script = f"const LOCALES = {json.dumps(list(LOCALES))};" + """
      const out = {};
      for (const locale of LOCALES) {
        const { default: messages } = await import(`./web/js/i18n/${locale}.js`);
        out[locale] = { messages, plural_categories: new Intl.PluralRules(locale).resolvedOptions().pluralCategories };
      }
      console.log(JSON.stringify(out));
    """
    done = subprocess.run(["node", "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
