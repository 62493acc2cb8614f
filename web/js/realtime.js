// The page's one realtime connection (docs/websocket-protocol.md, "best practices"), made by the platform's
// client SDK (clients/sdk, served by the edge at /sdk/index.js): created once (singleton), authenticated with
// the stored token on every (re)connect, reconnected with capped backoff and jitter after any loss or refusal,
// recovered by the gateway when it can (else `onReconnected` reloads over REST), its state shown in the header
// element [data-testid=conn-status] in the page's language, closed on beforeunload.
// Pages register their own event listeners once, right after connectRealtime() returns: `client.on(event, fn)`,
// `client.request(event, data)` (an Ack, never a rejection), `client.send(event, data)`; `client.socket` is
// socket.io-client's socket for the rest.
//
// Token renewal stays with auth.js (one renewal at a time across the tabs of a browser, under a Web Lock): the
// SDK reads the token through `getToken` at every connect, asks `renew` once after a refusal, and the page makes
// the socket again (`restart()`) whenever auth.js renewed the token, so the gateway never ends it at expiry.

import { createClient } from "/sdk/index.js";
import { SESSION_RENEWED } from "./auth.js";
import { connectionView } from "./connection-state.js";
import { t } from "./i18n.js";

let client = null;

/** How long a page waits for the ack of a message it sent (then the bubble shows the failure and a retry). */
export const SEND_ACK_MS = 8000;

/**
 * @param {object} options
 * @param {() => string|Promise<string>} options.getToken  the current token (read again on every (re)connect)
 * @param {(message: string) => void} options.onUnauthorized  the server refused the token (after `renew`)
 * @param {() => Promise<string>} [options.renew]  renew the token after a refusal (tried once per refusal)
 * @param {() => void} [options.onReconnected]   after a reconnect that was not recovered: reload what was missed
 * @param {HTMLElement} options.statusEl          where the connection state is shown
 * @returns {object} the SDK's RealtimeClient
 */
export function connectRealtime({ getToken, onUnauthorized, onReconnected, statusEl, renew }) {
  if (client) return client; // one connection per page, whatever calls this

  const label = statusEl.querySelector("[data-role=text]") || statusEl;
  const retryButton = statusEl.querySelector("button");
  const show = (state, detail) => {
    const shown = connectionView(state, detail, t);
    statusEl.dataset.state = shown.state;
    label.textContent = shown.text;
    if (retryButton) retryButton.hidden = !shown.canRetry;
  };

  show("connecting");
  client = createClient({
    token: getToken,
    renew,
    onStateChange: show,
    onResync: () => { if (onReconnected) onReconnected(); },
    onAuthFailed: (err) => onUnauthorized(String((err && err.message) || "unauthorized")),
  });

  // auth.js renewed the token (ahead of expiry, or after a 401 or a refusal): the gateway would end
  // this socket when the old one expires, so make it again now with the new one (the gateway recovers it).
  window.addEventListener(SESSION_RENEWED, () => client.restart());

  if (retryButton) {
    retryButton.addEventListener("click", () => {
      if (client.state === "offline") client.connect();
      else client.reconnectNow();
    });
  }

  window.addEventListener("beforeunload", () => client.close());

  return client;
}
