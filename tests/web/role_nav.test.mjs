// web/js/role-nav.js under Node's test runner (run by test_node_units.py): the supervisor-only links of the
// console's nav are shown to supervisors and stay hidden for agents (and admins whose token has no role).
import assert from "node:assert/strict";
import { test } from "node:test";

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
