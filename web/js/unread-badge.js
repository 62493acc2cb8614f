// The admin's unread badge: ONE number, computed by notification-svc. It is fetched once per (re)connection
// (GET /api/v4/notifications/unread-count) and replaced by every notification:unread_count push; no page adds or
// subtracts on its own, so every tab and device shows the same number. A fetch answered after a newer push is
// dropped (the push is the later state).

/**
 * @param {object} client the page's realtime connection (connectRealtime)
 * @param {(path: string) => Promise<any>} call the page's authenticated REST call
 * @param {(badge: {unread_count: number, by_type: object}) => void} show draws the number
 */
export function bindUnreadBadge(client, call, show) {
  let pushes = 0;
  async function fetchBadge() {
    const seen = pushes;
    try {
      const badge = await call("/api/v4/notifications/unread-count");
      if (seen === pushes) show(badge);
    } catch {
      // the next push or reconnection brings the number; the page reports its own load errors
    }
  }
  client.on("notification:unread_count", (badge) => {
    pushes += 1;
    show(badge);
  });
  client.socket.on("connect", fetchBadge); // every (re)connection
  fetchBadge();
}

/** Draws `count` into a `.badge` element (99+ beyond 99; `data-count` holds the exact number). */
export function drawBadge(element, count) {
  element.textContent = count > 99 ? "99+" : String(count);
  element.dataset.count = String(count);
}
