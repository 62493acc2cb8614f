// The page's one Socket.IO connection (docs/websocket-protocol.md, "best practices"): created once
// (singleton), authenticated with the stored token on every (re)connect, its state shown in the header
// element [data-testid=conn-status], connect errors explained in plain words, closed on beforeunload.
// Pages register their own event listeners once, right after connectRealtime() returns.

import { io } from "/vendor/socket.io.esm.min.js";
import { SESSION_RENEWED } from "./auth.js";
import { t } from "./i18n.js";

let socket = null;

const MANUAL_RETRY_MS = [2000, 4000, 8000, 15000, 30000];
const RECONNECT_ATTEMPTS = 5;

/**
 * @param {object} options
 * @param {() => string|Promise<string>} options.getToken  the current token (read again on every (re)connect)
 * @param {(message: string) => void} options.onUnauthorized  the server refused the token (after `renew`)
 * @param {() => Promise<string>} [options.renew]  renew the token after a refusal (tried once per refusal)
 * @param {() => void} [options.onReconnected]   after a reconnect: reload what may have been missed
 * @param {HTMLElement} options.statusEl          where the connection state is shown
 */
export function connectRealtime({ getToken, onUnauthorized, onReconnected, statusEl, renew }) {
  if (socket) return socket; // one connection per page, whatever calls this

  const label = statusEl.querySelector("[data-role=text]") || statusEl;
  const retryButton = statusEl.querySelector("button");
  let everConnected = false;
  let manualRetry = null;
  let manualAttempt = 0;
  let renewing = false; // reconnecting on purpose, with a renewed token
  let tokenExpired = false; // the gateway said our token expired (system:token_expired); it disconnects next
  let renewedAfterRefusal = false;

  const show = (state, text) => {
    statusEl.dataset.state = state;
    label.textContent = text;
    if (retryButton) retryButton.hidden = state !== "offline";
  };

  const retryLater = (why) => {
    const delay = MANUAL_RETRY_MS[Math.min(manualAttempt, MANUAL_RETRY_MS.length - 1)];
    manualAttempt += 1;
    show("unavailable", t("conn.retrying_in", { why, seconds: Math.round(delay / 1000) }));
    clearTimeout(manualRetry);
    manualRetry = setTimeout(() => {
      show("connecting", t("conn.connecting"));
      socket.connect();
    }, delay);
  };

  socket = io({
    auth: (cb) => {
      Promise.resolve().then(getToken).then((token) => cb({ token }), () => cb({ token: "" }));
    },
    transports: ["websocket", "polling"],
    reconnection: true,
    reconnectionDelay: 1000,
    reconnectionDelayMax: 5000,
    reconnectionAttempts: RECONNECT_ATTEMPTS,
    timeout: 10000,
  });
  show("connecting", t("conn.connecting"));

  socket.on("connect", () => {
    manualAttempt = 0;
    renewing = false;
    renewedAfterRefusal = false;
    show("connected", t("conn.live"));
    // After a reconnect, reload what may have been missed, unless the gateway recovered the session (it then
    // replays the missed events itself; the client sends its pid/offset with the auth data automatically).
    if (everConnected && onReconnected && !socket.recovered) onReconnected();
    everConnected = true;
  });

  socket.on("disconnect", (reason) => {
    if (renewing && reason === "io client disconnect") {
      show("connecting", t("conn.connecting"));
    } else if (tokenExpired && reason === "io server disconnect") {
      // The token this socket was made with has expired: connect again at once, with a fresh one.
      tokenExpired = false;
      show("connecting", t("conn.connecting"));
      socket.connect();
    } else if (reason === "io client disconnect") {
      show("offline", t("conn.disconnected"));
    } else if (reason === "io server disconnect") {
      // The server closed this connection (e.g. the token was refused later): Socket.IO does not reconnect
      // by itself after that, so try once more; a refused token then lands in connect_error below.
      retryLater(t("conn.server_closed"));
    } else {
      show("reconnecting", t("conn.lost"));
    }
  });

  socket.on("connect_error", (err) => {
    const message = String((err && err.message) || "");
    if (message.includes("unauthorized") && renew && !renewedAfterRefusal) {
      // Refused with the token we had: renew it once and try again; refused again, the login is over.
      renewedAfterRefusal = true;
      show("connecting", t("conn.connecting"));
      renew().then(() => socket.connect(), () => {
        show("unauthorized", t("conn.unauthorized"));
        onUnauthorized(message);
      });
    } else if (message.includes("unauthorized")) {
      show("unauthorized", t("conn.unauthorized"));
      onUnauthorized(message);
    } else if (err && err.data && err.data.code === "too_many_connections") {
      retryLater(t("conn.too_many"));
    } else if (message.startsWith("unavailable")) {
      // Refused by the gateway because something behind it is down; a refused connection is not retried
      // by Socket.IO itself, so this page retries with a growing delay.
      retryLater(t("conn.unavailable"));
    } else if (message.includes("timeout")) {
      show("reconnecting", t("conn.timeout"));
    } else {
      show("reconnecting", t("conn.unreachable"));
    }
  });

  socket.on("system:token_expired", () => {
    tokenExpired = true;
  });

  // The page renewed its token: the gateway would end this socket when the old one expires, so make the
  // socket again now with the new token (the gateway recovers what was sent in between).
  window.addEventListener(SESSION_RENEWED, () => {
    if (!socket.connected) return;
    renewing = true;
    socket.disconnect();
    socket.connect();
  });

  socket.io.on("reconnect_attempt", (attempt) => {
    show("reconnecting", t("conn.attempt", { attempt, max: RECONNECT_ATTEMPTS }));
  });

  socket.io.on("reconnect_failed", () => {
    show("offline", t("conn.gave_up"));
  });

  if (retryButton) {
    retryButton.addEventListener("click", () => {
      show("connecting", t("conn.connecting"));
      socket.connect();
    });
  }

  window.addEventListener("beforeunload", () => {
    clearTimeout(manualRetry);
    if (socket && socket.connected) socket.disconnect();
  });

  return socket;
}

/**
 * An ack (or its timeout) as {ok: true, data} or {ok: false, error: {code, message?}}.
 * The gateway answers {ok: true, data} or {ok: false, error: {code, message}}; people read describeAckError(error).
 */
export function ackResult(err, ack) {
  if (err) return { ok: false, error: { code: "timeout" } };
  if (!ack || typeof ack !== "object") return { ok: false, error: { code: "bad_ack" } };
  return ack.ok ? { ok: true, data: ack.data } : { ok: false, error: ack.error || { code: "error" } };
}
