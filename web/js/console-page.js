// What every supervisor page of the console does on start (system.html, reports.html): the admin's session (or the
// login page), who is logged in, logout, the unread badge in the header, one realtime connection and the system
// banners (alerts, maintenance, component status). The page gets `call` (authenticated REST) and the socket.
import { api } from "./api.js";
import { freshToken, logout, reasonFor, renewToken, requireAdmin, toAdminLogin } from "./auth.js";
import { connectRealtime } from "./realtime.js";
import { bindSystemBanners, byTestId } from "./ui.js";
import { bindUnreadBadge, drawBadge } from "./unread-badge.js";
import { showLinksForRole } from "./role-nav.js";

export function call(path, options = {}) {
  return api(path, { ...options, token: () => freshToken("admin"), renew: () => renewToken("admin"),
    onUnauthorized: (code) => toAdminLogin(reasonFor(code)) });
}

/** Starts the page's common parts; null when the person is sent to the login page instead. */
export function startConsolePage({ onReconnected = () => {} } = {}) {
  const session = requireAdmin();
  if (!session) return null;
  byTestId("whoami").textContent = `${session.user.username} (#${session.user.user_id})`;
  byTestId("logout").addEventListener("click", async () => {
    await logout("admin");
    location.replace("/admin/login.html?reason=logged_out");
  });
  const client = connectRealtime({
    getToken: () => freshToken("admin"),
    renew: () => renewToken("admin"),
    onUnauthorized: (message) => toAdminLogin(reasonFor(message)),
    onReconnected,
    statusEl: byTestId("conn-status"),
  });
  const badge = byTestId("unread-badge");
  if (badge) bindUnreadBadge(client, call, (b) => drawBadge(badge, b.unread_count));
  bindSystemBanners(client, byTestId("system-banners"));
  showLinksForRole(document, session.user.role);
  return { session, client, isSupervisor: session.user.role === "supervisor" };
}
