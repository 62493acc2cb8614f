"""Issue 19: the system notices and reports pages are a supervisor's (an agent gets 403 from their APIs), so every
console page's nav carries their links hidden and marked `data-supervisor-only`, and every console page's script
shows them by the session's role (web/js/role-nav.js, unit-tested in role_nav.test.mjs)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
CONSOLE_PAGES = ("notifications", "customer-service", "system", "reports")
SUPERVISOR_PAGES = {"/admin/system.html", "/admin/reports.html"}


class NavLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.in_nav = False
        self.links: dict[str, dict[str, str | None]] = {}
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "nav":
            self.in_nav = True
        elif tag == "a" and self.in_nav and found.get("href"):
            self.links[str(found["href"])] = found
        elif tag == "script" and found.get("src"):
            self.scripts.append(str(found["src"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.in_nav = False


def test_every_console_page_holds_the_supervisor_links_hidden_and_its_script_shows_them_by_role() -> None:
    for page in CONSOLE_PAGES:
        parsed = NavLinks()
        parsed.feed((WEB / "admin" / f"{page}.html").read_text())
        for href in SUPERVISOR_PAGES:
            attrs = parsed.links[href]
            assert "data-supervisor-only" in attrs and "hidden" in attrs, (page, href, attrs)
        for href, attrs in parsed.links.items():
            if href not in SUPERVISOR_PAGES:
                assert "data-supervisor-only" not in attrs and "hidden" not in attrs, (page, href)
        (script,) = [s for s in parsed.scripts if s.startswith("/js/")]
        code = (WEB / script.lstrip("/")).read_text()
        shown = "showLinksForRole(" in code or (
            "startConsolePage(" in code and "showLinksForRole(" in (WEB / "js" / "console-page.js").read_text())
        assert shown, f"{page}: its script never shows the supervisor links"
