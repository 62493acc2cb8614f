// Login state. The token lives in localStorage (shared by the tabs of one browser profile, so a second
// admin tab is logged in too; cleared on logout or when the server refuses it). One key per app, so an
// admin console and an H5 user can be logged in side by side in one browser.
// Pages check `user_type`: admins use /admin/, end users use /h5/.

import { api } from "./api.js";

const KEYS = { admin: "platform.admin.session", user: "platform.h5.session" };
const EXPIRY_MARGIN_MS = 5000;

/** Why a person lands on a login form; fixed texts only (the query string never reaches the page as-is). */
export const REASONS = {
  expired: "Your session has expired. Please log in again.",
  invalid: "Your login is no longer valid (the server refused it). Please log in again.",
  logged_out: "You have logged out.",
  not_admin: "This page is for administrators. End users chat on the H5 page.",
  not_user: "Administrators use the admin console, not the H5 chat page.",
};

/** Maps a 401 code / Socket.IO refusal text to one of REASONS. */
export function reasonFor(codeOrMessage) {
  return /expired/.test(String(codeOrMessage || "")) ? "expired" : "invalid";
}

function decodeClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return null;
  }
}

/** {token, user:{user_id,user_type,username}, expiresAt(ms)} or null. */
export function loadSession(kind) {
  try {
    const raw = localStorage.getItem(KEYS[kind]);
    const session = raw ? JSON.parse(raw) : null;
    return session && typeof session.token === "string" && session.user ? session : null;
  } catch {
    return null;
  }
}

export function saveSession(kind, loginResponse) {
  const claims = decodeClaims(loginResponse.access_token);
  const expiresAt = claims && claims.exp ? claims.exp * 1000 : Date.now() + loginResponse.expires_in * 1000;
  const session = { token: loginResponse.access_token, user: loginResponse.user, expiresAt };
  localStorage.setItem(KEYS[kind], JSON.stringify(session));
  return session;
}

export function clearSession(kind) {
  localStorage.removeItem(KEYS[kind]);
}

export function isExpired(session) {
  return !session || !session.expiresAt || session.expiresAt - EXPIRY_MARGIN_MS <= Date.now();
}

export function login(username, password) {
  return api("/api/v4/auth/login", { method: "POST", body: { username, password } });
}

export function register(username, password) {
  return api("/api/v4/auth/register", { method: "POST", body: { username, password } });
}

const ADMIN_PAGES = ["/admin/notifications.html", "/admin/customer-service.html"];

/** Admin pages: leave for the login page, saying why, and come back here afterwards. */
export function toAdminLogin(reason) {
  clearSession("admin");
  const next = ADMIN_PAGES.includes(location.pathname) ? location.pathname : "";
  const params = new URLSearchParams({ reason });
  if (next) params.set("next", next);
  location.replace(`/admin/login.html?${params}`);
}

/** Where to go after an admin login: `next` only if it is one of our admin pages. */
export function adminNextPage() {
  const next = new URLSearchParams(location.search).get("next");
  return ADMIN_PAGES.includes(next) ? next : ADMIN_PAGES[0];
}

/**
 * Admin pages: the stored admin session, or a redirect to the login page (no session, expired, or not an
 * admin). Also sends the person back to login when the token expires while the page is open.
 */
export function requireAdmin() {
  const session = loadSession("admin");
  if (!session) {
    toAdminLogin("expired");
    return null;
  }
  if (session.user.user_type !== "admin") {
    toAdminLogin("not_admin");
    return null;
  }
  if (isExpired(session)) {
    toAdminLogin("expired");
    return null;
  }
  scheduleExpiry(session, () => toAdminLogin("expired"));
  return session;
}

export function scheduleExpiry(session, onExpired) {
  const wait = session.expiresAt - EXPIRY_MARGIN_MS - Date.now();
  // setTimeout takes at most ~24.8 days; tokens live far shorter.
  if (wait < 2 ** 31 - 1) setTimeout(onExpired, Math.max(0, wait));
}
