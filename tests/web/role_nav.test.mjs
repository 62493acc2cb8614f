// web/js/role-nav.js and web/js/console-nav.js under Node's test runner (run by test_node_units.py): the console's
// one nav lists every page once, draws the supervisor-only links hidden and marked, marks the current page, and the
// supervisor-only links are shown to supervisors and stay hidden for agents (and admins whose token has no role).
import assert from "node:assert/strict";
import { test } from "node:test";

import { CONSOLE_PAGES, navLinkAttributes } from "../../web/js/console-nav.js";
import { showLinksForRole } from "../../web/js/role-nav.js";

function nav() {
  const links = [{ href: "/admin/system.html", hidden: true }, { href: "/admin/reports.html", hidden: true }];
  return { links, querySelectorAll: (selector) => (selector === "[data-supervisor-only]" ? links : []) };
}

test("a supervisor sees the system notices and reports links", () => {
  const root = nav();
  showLinksForRole(root, "supervisor");
  assert.deepEqual(root.links.map((l) => l.hidden), [false, false]);
});

test("an agent, or an admin whose token names no role, does not", () => {
  for (const role of ["agent", undefined, null]) {
    const root = nav();
    showLinksForRole(root, role);
    assert.deepEqual(root.links.map((l) => l.hidden), [true, true]);
  }
});

test("the nav draws the system notices and reports links hidden and marked, the others shown", () => {
  const drawn = Object.fromEntries(CONSOLE_PAGES.map((link) => [link.href, navLinkAttributes(link, "notifications")]));
  for (const href of ["/admin/system.html", "/admin/reports.html"]) {
    assert.equal(drawn[href].hidden, true, href);
    assert.equal(drawn[href]["data-supervisor-only"], true, href);
  }
  for (const href of ["/admin/notifications.html", "/admin/customer-service.html"]) {
    assert.equal(drawn[href].hidden, null, href);
    assert.equal(drawn[href]["data-supervisor-only"], null, href);
  }
});

test("only the page being shown is marked current", () => {
  for (const { page } of CONSOLE_PAGES) {
    const current = CONSOLE_PAGES.filter((link) => navLinkAttributes(link, page)["aria-current"] === "page");
    assert.deepEqual(current.map((link) => link.page), [page]);
  }
});
