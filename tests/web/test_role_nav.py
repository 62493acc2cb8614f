"""Issue 19: the system notices and reports pages are a supervisor's (an agent gets 403 from their APIs). The
console's header is drawn once for every page (web/js/topbar.js from console-nav.js's list, which draws their links
hidden and marked `data-supervisor-only`: role_nav.test.mjs), by `startConsolePage`, which also shows them by the
session's role. Here: every console page names itself in its header and starts through `startConsolePage`."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
CONSOLE_PAGES = ("notifications", "customer-service", "system", "reports")


class PageParts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str | None]] = []
        self.nav_links = 0
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "header" and "topbar" in (found.get("class") or "").split():
            self.headers.append(found)
        elif tag == "nav":
            self.nav_links += 1
        elif tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))


def test_every_console_page_draws_the_shared_header_for_itself_and_starts_through_the_console_start() -> None:
    nav_source = (WEB / "js" / "console-nav.js").read_text()
    listed = re.findall(r'page: "([a-z-]+)"', nav_source)
    assert sorted(listed) == sorted(CONSOLE_PAGES)
    start = (WEB / "js" / "console-page.js").read_text()
    assert "drawTopbar()" in start and "showLinksForRole(" in start
    for page in CONSOLE_PAGES:
        parsed = PageParts()
        parsed.feed((WEB / "admin" / f"{page}.html").read_text())
        assert [h.get("data-page") for h in parsed.headers] == [page], page
        assert parsed.nav_links == 0, f"{page}: the nav is drawn by topbar.js, not copied into the page"
        (script,) = [s for s in parsed.scripts if s.startswith("/js/")]
        code = (WEB / script.lstrip("/")).read_text()
        assert "startConsolePage(" in code, f"{page}: its script does not start through console-page.js"
