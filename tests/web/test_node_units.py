"""The pages' pure modules (translation, time formatting) under Node's own test runner (Node 20)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _node_test(name: str, tz: str = "UTC") -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("these tests need Node (`bash scripts/infra.sh web` installs it)", pytrace=False)
    done = subprocess.run([node, "--test", str(HERE / name)], capture_output=True, text=True, check=False,
                          timeout=120, env={**os.environ, "TZ": tz}, cwd=HERE.parents[1])
    assert done.returncode == 0, done.stdout + done.stderr


def test_times_are_shown_in_beijing_time_as_chinese_and_english_readers_write_them() -> None:
    _node_test("time_format.test.mjs", tz="America/Los_Angeles")  # the viewer's own zone must not matter


def test_the_translator_picks_the_language_fills_placeholders_and_chooses_plural_forms() -> None:
    _node_test("i18n_core.test.mjs")


def test_pictures_ask_for_signed_urls_once_renew_them_near_expiry_and_show_the_preview_marker_as_a_word() -> None:
    _node_test("picture_links.test.mjs")


def test_a_slash_query_finds_quick_replies_by_chinese_words_and_latin_letters_of_any_case() -> None:
    _node_test("quick_reply_match.test.mjs")


def test_the_connection_pill_translates_the_sdk_states_into_the_page_language_and_offers_retry_while_waiting() -> None:
    _node_test("connection_state.test.mjs")


def test_the_console_nav_draws_and_shows_the_system_notices_and_reports_links_to_supervisors_only() -> None:
    _node_test("role_nav.test.mjs")
