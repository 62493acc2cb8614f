// What the header's connection pill says, free of the DOM (unit-tested under Node). The client SDK
// (clients/sdk) reports its state with a detail for developers, in English: the socket.io reason of a loss
// ("transport close", "ping timeout", "io server disconnect"), the code of a refusal ("unavailable",
// "too_many_connections") or "renewing token". The pages translate that into the catalogue's `conn.*` words
// and a `data-state` the CSS (and the browser tests) read: connecting, connected, reconnecting, unavailable,
// offline, unauthorized.

const LOST = /^(transport close|transport error|ping timeout|parse error)$/; // socket.io's reasons of a loss
const REFUSED = /^(unavailable|too_many_connections|io server disconnect)/; // the gateway refused or closed it

/**
 * @param {string} state  the SDK's ConnectionState (idle, connecting, connected, reconnecting, suspended,
 *   offline, unauthorized)
 * @param {string|undefined} detail  the SDK's detail: why it reconnects or went offline
 * @param {(key: string, params?: object) => string} t  the page's translator
 * @returns {{state: string, text: string, canRetry: boolean}}  `canRetry`: the retry button is offered
 */
export function connectionView(state, detail, t) {
  const why = String(detail || "");
  if (state === "connected") return view("connected", t("conn.live"));
  if (state === "unauthorized") return view("unauthorized", t("conn.unauthorized"));
  if (state === "offline" || state === "suspended") {
    return view("offline", why ? t("conn.gave_up") : t("conn.disconnected"), true);
  }
  if (state !== "reconnecting" || !why || why === "renewing token") {
    // An attempt under way (the first one, a retry, or a new socket with a renewed token).
    return view("connecting", t("conn.connecting"));
  }
  // Waiting for the next retry (capped backoff): the person may retry at once.
  if (REFUSED.test(why)) return view("unavailable", t("conn.retrying", { why: refusal(why, t) }), true);
  if (LOST.test(why)) return view("reconnecting", t("conn.lost"), true);
  if (/timeout/.test(why)) return view("reconnecting", t("conn.timeout"), true);
  return view("reconnecting", t("conn.unreachable"), true);
}

function refusal(why, t) {
  if (why === "too_many_connections") return t("conn.too_many");
  if (why === "io server disconnect") return t("conn.server_closed");
  return t("conn.unavailable");
}

function view(state, text, canRetry = false) {
  return { state, text, canRetry };
}
