// What every page of the console does on start (notifications, customer service, system notices, reports): its
// header (topbar.js), the admin's session (or the login page), who is logged in, logout, the nav by role, one
// realtime connection, the unread badge in the header and the system banners (alerts, maintenance, component
// status). The page gets `call` (authenticated REST) and the socket, and adds its own listeners to it.
import { api } from "./api.js";
import { freshToken, logout, reasonFor, renewToken, requireAdmin, toAdminLogin } from "./auth.js";
import { connectRealtime } from "./realtime.js";
import { bindSystemBanners, byTestId } from "./ui.js";
import { bindUnreadBadge, drawBadge } from "./unread-badge.js";
import { showLinksForRole } from "./role-nav.js";
import { drawTopbar } from "./topbar.js";

/** The admin's credentials for api.js-style calls: the token, its renewal, and the login page when it is refused. */
export const adminAuth = Object.freeze({
  token: () => freshToken("admin"),
  renew: () => renewToken("admin"),
  onUnauthorized: (code) => toAdminLogin(reasonFor(code)),
});

export function call(path, options = {}) {
  return api(path, { ...options, ...adminAuth });
}

/**
 * Starts the page's common parts; null when the person is sent to the login page instead. `onReconnected`: what
 * to load again after the socket was away; `onBadge(count)`: the page's own drawing of the unread count (default:
 * the header's badge).
 */
export function startConsolePage({ onReconnected = () => {}, onBadge = null } = {}) {
  drawTopbar();
  const session = requireAdmin();
  if (!session) return null;
  byTestId("whoami").textContent = `${session.user.username} (#${session.user.user_id})`;
  byTestId("logout").addEventListener("click", async () => {
    await logout("admin");
    location.replace("/admin/login.html?reason=logged_out");
  });
  const client = connectRealtime({
    getToken: adminAuth.token,
    renew: adminAuth.renew,
    onUnauthorized: adminAuth.onUnauthorized,
    onReconnected,
    statusEl: byTestId("conn-status"),
  });
  const badge = byTestId("unread-badge");
  bindUnreadBadge(client, call, (b) => (onBadge ? onBadge(b.unread_count) : drawBadge(badge, b.unread_count)));
  bindSystemBanners(client, byTestId("system-banners"));
  showLinksForRole(document, session.user.role);
  return { session, client, isSupervisor: session.user.role === "supervisor" };
}
