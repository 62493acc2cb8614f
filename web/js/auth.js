// Login state. The token lives in localStorage (shared by the tabs of one browser profile, so a second
// admin tab is logged in too; cleared on logout or when the server refuses it). One key per app, so an
// admin console and an H5 user can be logged in side by side in one browser.
// Pages check `user_type`: admins use /admin/, end users use /h5/.
//
// Access tokens are short (15 min by default); the page renews its token silently with the refresh token
// (`keepSessionFresh`: a minute before expiry; `renewToken`: after a 401, once), and tells the page's socket
// (a `platform-session-renewed` window event) so it reconnects with the new token. Tabs of one browser share
// the session: a renewal runs under a Web Lock, and a tab that finds the stored token already renewed by
// another tab takes that one (a refresh token is single-use: sending it twice would end the login).

import { ApiError, api } from "./api.js";
import { t } from "./i18n.js";

const KEYS = { admin: "platform.admin.session", user: "platform.h5.session" };
const EXPIRY_MARGIN_MS = 5000;
const RENEW_AHEAD_MS = 60000; // renew this long before the access token expires (half its life if shorter)
const RENEW_RETRY_MS = 10000; // after a network failure
export const SESSION_RENEWED = "platform-session-renewed";

/** Why a person lands on a login form: `reason` query values; their words are the catalogue's `reason.*`
 * (the query string never reaches the page as-is). */
export const REASONS = ["expired", "invalid", "logged_out", "not_admin", "not_user"];

/** The words for a login-form reason, or "" for anything else. */
export function reasonText(reason) {
  return REASONS.includes(reason) ? t(`reason.${reason}`) : "";
}

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

/** {token, user:{user_id,user_type,username}, expiresAt(ms), refreshToken, refreshExpiresAt(ms)} or null. */
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
  if (loginResponse.refresh_token) {
    session.refreshToken = loginResponse.refresh_token;
    session.refreshExpiresAt = Date.now() + (loginResponse.refresh_expires_in || 0) * 1000;
  }
  localStorage.setItem(KEYS[kind], JSON.stringify(session));
  return session;
}

/** True when the session holds a refresh token that has not expired. */
export function canRenew(session) {
  return Boolean(session && session.refreshToken && session.refreshExpiresAt > Date.now());
}

const renewing = {}; // kind -> the renewal in progress in this tab

/**
 * Renew the stored session now (after a 401, or ahead of expiry): resolves to the new access token. One
 * renewal at a time per tab, and per browser through a Web Lock. Rejects with the server's ApiError (401:
 * the login is over) or a network ApiError.
 */
export function renewToken(kind) {
  if (!renewing[kind]) {
    const had = loadSession(kind);
    const renew = async () => {
      const current = loadSession(kind);
      if (current && had && current.token !== had.token && !isExpired(current)) return current; // another tab did
      if (!canRenew(current)) throw new ApiError(401, "refresh_token_invalid", "refresh_token_invalid");
      const body = await api("/api/v4/auth/refresh", { method: "POST", body: { refresh_token: current.refreshToken } });
      return saveSession(kind, body);
    };
    const locked = navigator.locks ? navigator.locks.request(`platform.renew.${kind}`, renew) : renew();
    renewing[kind] = locked
      .then((session) => {
        window.dispatchEvent(new CustomEvent(SESSION_RENEWED, { detail: { kind } }));
        return session.token;
      })
      .finally(() => { renewing[kind] = null; });
  }
  return renewing[kind];
}

/** The access token to send now: the stored one, renewed first when it has (almost) expired. */
export async function freshToken(kind) {
  const session = loadSession(kind);
  if (session && isExpired(session) && canRenew(session)) return renewToken(kind);
  return session ? session.token : "";
}

/**
 * Renews the session a minute before its access token expires, for as long as the page is open; calls
 * `onEnded()` when it cannot (the refresh token was refused or has expired, or another tab logged out).
 */
export function keepSessionFresh(kind, onEnded) {
  let timer = null;
  const plan = (delay) => {
    clearTimeout(timer);
    const session = loadSession(kind);
    if (!session || (isExpired(session) && !canRenew(session))) return onEnded();
    const life = session.expiresAt - Date.now();
    const wait = delay !== undefined ? delay : Math.max(0, life - Math.min(RENEW_AHEAD_MS, life / 2));
    // setTimeout takes at most ~24.8 days; tokens live far shorter.
    timer = setTimeout(() => {
      if (!canRenew(loadSession(kind))) return plan();
      renewToken(kind).then(() => plan(), (err) => {
        if (err instanceof ApiError && err.status === 0) plan(RENEW_RETRY_MS);
        else onEnded();
      });
    }, Math.min(wait, 2 ** 31 - 1));
  };
  window.addEventListener(SESSION_RENEWED, (event) => { if (event.detail.kind === kind) plan(); });
  window.addEventListener("storage", (event) => { if (event.key === KEYS[kind]) plan(); }); // another tab
  plan();
}

/** Log out: forget the session here and end its refresh tokens at the server (the access token expires). */
export async function logout(kind) {
  const session = loadSession(kind);
  clearSession(kind);
  if (session && session.refreshToken) {
    try {
      await api("/api/v4/auth/logout", { method: "POST", body: { refresh_token: session.refreshToken } });
    } catch {
      // the server ends it anyway when it expires; the page is logged out either way
    }
  }
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

const ADMIN_PAGES = ["/admin/notifications.html", "/admin/customer-service.html", "/admin/system.html", "/admin/reports.html"];

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
 * Admin pages: the stored admin session, or a redirect to the login page (no session, expired beyond renewal,
 * or not an admin). Keeps the token renewed while the page is open, and sends the person back to login when
 * the login ends.
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
  if (isExpired(session) && !canRenew(session)) {
    toAdminLogin("expired");
    return null;
  }
  keepSessionFresh("admin", () => toAdminLogin("expired"));
  return session;
}
