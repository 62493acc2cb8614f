// The console's pages, in the order its header lists them: one list for every page's nav (topbar.js). The system
// notices and reports pages are a supervisor's (an agent gets 403 from their APIs): their links are drawn hidden and
// marked `data-supervisor-only`, and role-nav.js shows them once the session says `role: "supervisor"`, so an agent
// never sees them flash. Plain data and a pure function: the Node tests read them without a page.
export const CONSOLE_PAGES = Object.freeze([
  { page: "notifications", href: "/admin/notifications.html", label: "nav.notifications", badge: true },
  { page: "customer-service", href: "/admin/customer-service.html", label: "nav.customer_service" },
  { page: "system", href: "/admin/system.html", label: "nav.system", supervisorOnly: true },
  { page: "reports", href: "/admin/reports.html", label: "nav.reports", supervisorOnly: true },
]);

/** The attributes of `link`'s <a> on the page `current`: the current one marked for assistive tech and the CSS. */
export function navLinkAttributes(link, current) {
  return {
    href: link.href,
    "aria-current": link.page === current ? "page" : null,
    "data-supervisor-only": link.supervisorOnly ? true : null,
    hidden: link.supervisorOnly ? true : null,
  };
}
