// The console's navigation by role: the system notices and reports pages are a supervisor's (an agent gets 403
// from their APIs), so every page's nav holds their links hidden and marked `data-supervisor-only`, and shows
// them here once the admin's session says `role: "supervisor"` (the login's answer, kept by auth.js). Hidden in
// the HTML, so an agent never sees them flash. Needs only `querySelectorAll` (the Node tests pass a stand-in).
export function showLinksForRole(root, role) {
  for (const link of root.querySelectorAll("[data-supervisor-only]")) link.hidden = role !== "supervisor";
}
