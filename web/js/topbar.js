// The console's header, drawn here once for every page instead of copied into each page's HTML: the console's
// title, the nav (console-nav.js: this page marked current, the unread badge on the notifications link), the
// connection state (realtime.js fills it), who is logged in, the language switch and logout. A page's
// `<header class="topbar" data-page="...">` names the page; what it already holds (the agent's availability on the
// customer-service page) is kept, between the connection state and who is logged in.
import { CONSOLE_PAGES, navLinkAttributes } from "./console-nav.js";
import { applyI18n, mountLanguageSwitch } from "./i18n.js";
import { h } from "./ui.js";

function navLink(link, current) {
  const attrs = navLinkAttributes(link, current);
  if (!link.badge) return h("a", { attrs: { ...attrs, "data-i18n": link.label } });
  return h("a", { attrs }, h("span", { attrs: { "data-i18n": link.label } }), " ",
    h("span", { className: "badge", testid: "unread-badge", dataset: { count: 0 }, text: "0" }));
}

/** Fills the page's `header.topbar[data-page]` (once; a header already drawn is left alone). */
export function drawTopbar(root = document) {
  const header = root.querySelector("header.topbar[data-page]");
  if (!header || header.dataset.drawn) return header;
  const current = header.dataset.page;
  const own = [...header.childNodes];
  const language = h("select", { className: "lang-switch", testid: "lang-switch", attrs: { "data-i18n-aria-label": "lang.label" } });
  header.replaceChildren(
    h("h1", { attrs: { "data-i18n": "app.console" } }),
    h("nav", {}, CONSOLE_PAGES.map((link) => navLink(link, current))),
    h("span", { className: "spacer" }),
    h("span", { className: "conn", testid: "conn-status", dataset: { state: "connecting" } },
      h("span", { dataset: { role: "text" }, attrs: { "data-i18n": "conn.connecting" } }), " ",
      h("button", { testid: "conn-retry", attrs: { type: "button", "data-i18n": "conn.retry", hidden: true } })),
    ...own,
    h("span", { className: "whoami", testid: "whoami" }),
    language,
    h("button", { testid: "logout", attrs: { type: "button", "data-i18n": "header.logout" } }),
  );
  header.dataset.drawn = "true";
  applyI18n(header);
  mountLanguageSwitch(language);
  return header;
}
