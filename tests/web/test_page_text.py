"""Issue 16, language: the pages' words come from the catalogues (web/js/i18n/<locale>.js), one per language,
with the same keys in each; no page script or HTML holds a user-visible string of its own."""

from __future__ import annotations

import re

import pytest

from tests.web.page_text import (
    LOCALES,
    html_text,
    load_catalogues,
    page_scripts,
    pages_html,
    problems_in_script,
    translation_keys,
)

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def catalogues() -> dict[str, dict]:
    return load_catalogues()


def _placeholders(entry: str | dict[str, str]) -> set[str]:
    forms = entry.values() if isinstance(entry, dict) else [entry]
    return {name for form in forms for name in PLACEHOLDER.findall(form)}


def test_every_key_exists_in_every_language(catalogues: dict[str, dict]) -> None:
    keys = {locale: set(catalogues[locale]["messages"]) for locale in LOCALES}
    missing = {f"{key} (missing in {locale})" for locale in LOCALES for other in LOCALES
               for key in keys[other] - keys[locale]}
    assert not missing, sorted(missing)


def test_an_entry_names_the_same_placeholders_in_every_language(catalogues: dict[str, dict]) -> None:
    zh, en = (catalogues[locale]["messages"] for locale in LOCALES)
    differ = [key for key in zh.keys() & en.keys() if _placeholders(zh[key]) != _placeholders(en[key])]
    assert not differ, sorted(differ)


def test_plural_entries_have_every_form_their_language_needs(catalogues: dict[str, dict]) -> None:
    gaps = []
    for locale in LOCALES:
        needed = set(catalogues[locale]["plural_categories"])
        for key, entry in catalogues[locale]["messages"].items():
            if isinstance(entry, dict) and not needed <= set(entry):
                gaps.append(f"{locale} {key}: has {sorted(entry)}, needs {sorted(needed)}")
            if isinstance(entry, dict) and "{count}" not in "".join(entry.values()) and "count" not in key:
                pass  # a plural entry may leave the number out of a form ("one" → "a minute ago")
    assert not gaps, gaps


def test_page_scripts_hold_no_user_visible_string_literals() -> None:
    found = [problem for path in page_scripts() for problem in problems_in_script(path.read_text(), path.name)]
    assert not found, "user-visible text belongs in web/js/i18n/<locale>.js, used through t():\n" + "\n".join(found)


def test_the_html_pages_hold_no_static_text_outside_the_catalogue() -> None:
    found = []
    for path in pages_html():
        text, _ = html_text(path.read_text())
        found += [f"{path.relative_to(path.parents[1])}: {item}" for item in text]
    assert not found, "static text comes from data-i18n attributes filled at load:\n" + "\n".join(found)


def test_every_key_the_pages_use_is_in_the_catalogues(catalogues: dict[str, dict]) -> None:
    used = {key for path in page_scripts() for key in translation_keys(path.read_text())}
    used |= {key for path in pages_html() for key in html_text(path.read_text())[1]}
    assert used, "no t() or data-i18n use found: the scanner is broken"
    for locale in LOCALES:
        unknown = used - set(catalogues[locale]["messages"])
        assert not unknown, f"{locale} lacks {sorted(unknown)}"


@pytest.mark.parametrize(("code", "expected"), [
    ('el.textContent = "Live";', 1),
    ('node.title = `Page ${n}`;', 1),
    ('toast("Saved", body);', 1),
    ('show("connected", "Live");', 1),
    ('h("span", { text: "to you" });', 1),
    ('h("span", {}, "Broadcast");', 1),
    ('const REASONS = { expired: "Your session has expired." };', 1),
    ('meta.replaceChildren(`${who} · Sending…`);', 1),
    ('const hello = "您好";', 1),
    ('x = cond ? "Connected." : t("a.b");', 0),  # a one-word literal outside a sink is not flagged...
    ('el.textContent = cond ? "Connected." : t("a.b");', 1),  # ...but in one it is
    ('el.textContent = t("conn.live", { n: 1 });', 0),
    ('if (reason === "io client disconnect") stop();', 0),
    ('h("span", { className: `tag tag-${type}`, text: t("x.y") });', 0),
    ('el[key] = byTestId("conv-title"); const m = { title: "conv-title" };', 0),
    ('h("button", { text: "×" });', 0),
    ('const re = /"Not a string" here/g; // "Nor this"', 0),
])
def test_the_literal_check_flags_text_in_page_code_and_leaves_keys_and_code_alone(code: str, expected: int) -> None:
    assert len(problems_in_script(code, "sample.js")) == expected, problems_in_script(code, "sample.js")


def test_the_html_check_flags_text_and_visible_attributes_but_not_keys() -> None:
    text, keys = html_text('<p>Hello <b data-i18n="a.b"></b></p><input placeholder="Type…" data-i18n-title="c.d">'
                           "<span>·</span>")
    assert len(text) == 2 and keys == {"a.b", "c.d"}


SHADOWS_T = re.compile(r"\(\s*t\s*[,)]|,\s*t\s*\)\s*=>|(?<![\w.$])t\s*=>|\b(?:const|let|var)\s+t\b")


def test_no_page_script_hides_the_translator_behind_a_local_t() -> None:
    """`(t) => t("key")` calls the event, not the translator: a page error the first time it runs."""
    found = [f"{path.name}:{n}: {line.strip()}" for path in page_scripts() if path.name not in {"i18n.js", "i18n-core.js"}
             for n, line in enumerate(path.read_text().splitlines(), 1) if SHADOWS_T.search(line)]
    assert not found, found


@pytest.mark.parametrize("catalogue", ["web/js/i18n/zh-CN.js", "web/js/i18n/en.js",
                                       "clients/miniprogram/i18n/zh-CN.js", "clients/miniprogram/i18n/en.js"])
def test_no_catalogue_defines_a_key_twice(catalogue: str) -> None:
    """In a JS object literal the later of two equal keys silently wins: two branches adding the same key would
    leave one wording unseen (it happened when merging the platform-status texts)."""
    from collections import Counter
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    keys = re.findall(r'^  "([^"]+)":', (root / catalogue).read_text(), flags=re.MULTILINE)
    assert keys, f"no entries read from {catalogue}"
    twice = sorted(key for key, n in Counter(keys).items() if n > 1)
    assert not twice, twice
