"""Issue 16: text the server writes for people travels as a code + parameters (contracts.payloads.system_text)
and each page renders it from its own catalogue (key `system.<code>`). One wording per code and language: the
catalogues say what the registry says (the server's fallback text), so the two never drift apart."""

from __future__ import annotations

import re

import pytest
from contracts.payloads.system_text import SYSTEM_TEXTS, locale_param

from tests.web.page_text import LOCALES, load_catalogues

PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def catalogues() -> dict[str, dict]:
    return load_catalogues()


def test_every_system_text_code_has_its_key_in_every_page_catalogue(catalogues: dict[str, dict]) -> None:
    missing = [f"system.{code} (missing in {locale})" for code in SYSTEM_TEXTS for locale in LOCALES
               if f"system.{code}" not in catalogues[locale]["messages"]]
    assert not missing, missing


def test_the_pages_word_each_code_as_the_registry_does_with_every_parameter(catalogues: dict[str, dict]) -> None:
    differ = []
    for code, entry in SYSTEM_TEXTS.items():
        for locale in LOCALES:
            page = catalogues[locale]["messages"].get(f"system.{code}")
            if page != entry.text[locale]:
                differ.append(f"{locale} system.{code}: page {page!r} != registry {entry.text[locale]!r}")
            expected = set(entry.params.model_fields)
            if entry.per_locale:  # the parameters are the text in each language: `{text}` is the reader's one
                expected = {"text"} if expected == {locale_param(lo) for lo in LOCALES} else {"a text per locale"}
            if set(PLACEHOLDER.findall(entry.text[locale])) != expected:
                differ.append(f"{locale} {code}: placeholders differ from params {sorted(entry.params.model_fields)}")
    assert not differ, differ


def test_no_page_catalogue_has_a_system_key_for_an_unregistered_code(catalogues: dict[str, dict]) -> None:
    extra = [f"{locale}: {key}" for locale in LOCALES for key in catalogues[locale]["messages"]
             if key.startswith("system.") and key.removeprefix("system.") not in SYSTEM_TEXTS]
    assert not extra, extra
