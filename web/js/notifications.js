// admin/notifications.html: the admin's notifications (paged, filtered), unread badge, mark read, send, and
// live updates: notification:new / notification:broadcast -> toast + silent debounced refresh;
// notification:update (e.g. marked read in another tab) -> this tab follows; system:* -> banners.
// The badge shows only the server's number (unread-badge.js); the archive view lists what the admin archived.
import { ApiError, describeAckError, describeError, newIdempotencyKey, query } from "./api.js";
import { call, startConsolePage } from "./console-page.js";
import { t } from "./i18n.js";
import { busy, byTestId, debounce, h, safeHref, timeNode, toast } from "./ui.js";
import { drawBadge } from "./unread-badge.js";

const PAGE_SIZE = 10;
const REFRESH_DEBOUNCE_MS = 500;
const MARK_READ_ACK_MS = 5000;

const state = { page: 1, type: "", unreadOnly: false, archived: false, total: 0, loading: false,
  sendKey: newIdempotencyKey() };
let client = null; // the realtime connection (connectRealtime)

const el = {};

/** Only ever the server's number: a notification:unread_count push or GET unread-count (unread-badge.js). */
function setBadge(count) {
  drawBadge(el.badge, count);
  document.title = count ? t("notif.page_title_unread", { count }) : t("notif.page_title");
}

function renderItem(n) {
  const href = safeHref(n.link);
  const markButton = h("button", { testid: "mark-read", text: t("notif.mark_read"), attrs: { type: "button" },
    onClick: (event) => busy(event.currentTarget, () => markRead(n.notification_id)) });
  markButton.hidden = n.is_read;
  const archiveAction = state.archived ? "unarchive" : "archive";
  const archiveButton = h("button", { testid: archiveAction, text: t(`notif.${archiveAction}`),
    attrs: { type: "button" }, onClick: (event) => busy(event.currentTarget, () => setArchived(n.notification_id, archiveAction)) });
  return h("li", { className: "notif", testid: "notification-item",
    dataset: { id: n.notification_id, read: n.is_read, type: n.type } },
  h("div", {},
    h("div", { className: "notif-title", testid: "notification-title", text: n.title }),
    h("div", { className: "notif-meta" },
      h("span", { className: `tag tag-${n.type}`, text: t.has(`notif.type.${n.type}`) ? t(`notif.type.${n.type}`) : n.type }),
      timeNode(n.created_at),
      h("span", { text: n.target_user_id ? t("notif.to_you") : t("notif.broadcast") }),
      href ? h("a", { text: t("notif.open_link"), attrs: { href, rel: "noopener noreferrer", target: "_blank" } }) : null),
    h("div", { className: "notif-content", testid: "notification-content", text: n.content })),
  h("div", {}, markButton, archiveButton));
}

/** Loads the current page. `silent`: no loading state (live refreshes), per the spec's best practices. */
async function loadNotifications(silent = false) {
  if (!silent) el.list.setAttribute("aria-busy", "true");
  try {
    const data = await call(`/api/v4/notifications${query({
      page: state.page, page_size: PAGE_SIZE, type: state.type, unread_only: state.unreadOnly ? "true" : "",
      archived: state.archived ? "true" : "",
    })}`);
    const pages = Math.max(1, Math.ceil(data.total / PAGE_SIZE));
    if (state.page > pages && data.total > 0) {
      state.page = pages;
      return loadNotifications(silent);
    }
    state.total = data.total;
    el.list.replaceChildren(...data.items.map(renderItem));
    el.empty.hidden = data.items.length > 0;
    el.pageInfo.textContent = t("notif.page_info", { page: state.page, pages, count: data.total });
    el.prev.disabled = state.page <= 1;
    el.next.disabled = state.page >= pages;
    el.listError.textContent = "";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    el.listError.textContent = t("notif.load_failed", { reason: describeError(err) });
  } finally {
    el.list.setAttribute("aria-busy", "false");
  }
}

const scheduleRefresh = debounce(() => loadNotifications(true), REFRESH_DEBOUNCE_MS);

function showRead(id) {
  const item = el.list.querySelector(`[data-testid="notification-item"][data-id="${id}"]`);
  if (!item) return;
  item.dataset.read = "true";
  const button = item.querySelector('[data-testid="mark-read"]');
  if (button) button.hidden = true;
}

/** Over the socket (notification:mark_read with an ack) when live, else over REST. */
async function markRead(id) {
  if (client && client.connected) {
    const result = await client.request("notification:mark_read", { notification_id: id }, { timeoutMs: MARK_READ_ACK_MS });
    if (!result.ok) {
      toast(t("notif.mark_failed"), describeAckError(result.error), { kind: "error" });
      return;
    }
  } else {
    try {
      await call(`/api/v4/notifications/${id}/read`, { method: "POST" });
    } catch (err) {
      toast(t("notif.mark_failed"), describeError(err), { kind: "error" });
      return;
    }
  }
  showRead(id);
  scheduleRefresh();
}

/** Archive (hide from the inbox, marks read) or unarchive one notification; the list then drops it. */
async function setArchived(id, action) {
  try {
    await call(`/api/v4/notifications/${id}/${action}`, { method: "POST" });
  } catch (err) {
    toast(t("notif.archive_failed"), describeError(err), { kind: "error" });
    return;
  }
  const item = el.list.querySelector(`[data-testid="notification-item"][data-id="${id}"]`);
  if (item) item.remove();
  scheduleRefresh();
}

/** Everything unread, or only the type the list is filtered by. */
async function markAllRead() {
  try {
    const result = await call(`/api/v4/notifications/read-all${query({ type: state.type })}`, { method: "POST" });
    el.list.querySelectorAll('[data-testid="notification-item"]').forEach((item) => {
      if (!state.type || item.dataset.type === state.type) showRead(item.dataset.id);
    });
    toast(t("notif.all_read"), t("notif.marked_read", { count: result.updated }));
    scheduleRefresh();
  } catch (err) {
    toast(t("notif.mark_all_failed"), describeError(err), { kind: "error" });
  }
}

async function send(event) {
  event.preventDefault();
  const form = el.form;
  el.sendError.textContent = "";
  el.sendResult.textContent = "";
  const body = {
    type: form.elements.type.value,
    title: form.elements.title.value.trim(),
    content: form.elements.content.value.trim(),
  };
  const link = form.elements.link.value.trim();
  if (link) body.link = link;
  if (form.elements.target.value === "one") {
    const target = Number(form.elements.target_user_id.value);
    if (!Number.isInteger(target) || target < 1) {
      el.sendError.textContent = t("notif.send.missing_target");
      return;
    }
    body.target_user_id = target;
  }
  if (!body.title || !body.content) {
    el.sendError.textContent = t("notif.send.missing_fields");
    return;
  }
  await busy(el.sendSubmit, async () => {
    try {
      // One key per notification being written: a retry after a network error cannot send it twice.
      const created = await call("/api/v4/notifications/send", {
        method: "POST", body, headers: { "Idempotency-Key": state.sendKey },
      });
      state.sendKey = newIdempotencyKey();
      el.sendResult.textContent = body.target_user_id
        ? t("notif.send.sent_to", { id: body.target_user_id, notification: created.notification_id })
        : t("notif.send.broadcast", { notification: created.notification_id });
      form.elements.title.value = "";
      form.elements.content.value = "";
      form.elements.link.value = "";
    } catch (err) {
      if (err instanceof ApiError && err.status > 0 && err.status < 500) state.sendKey = newIdempotencyKey();
      el.sendError.textContent = t("notif.send.failed", { reason: describeError(err) });
    }
  });
}

function init() {
  const page = startConsolePage({
    onReconnected: () => loadNotifications(true), // catch up on what was pushed while offline
    onBadge: setBadge,
  });
  if (!page) return;
  client = page.client;
  for (const [key, id] of Object.entries({
    badge: "unread-badge", list: "notification-list", empty: "list-empty", listError: "list-error",
    pageInfo: "page-info", prev: "page-prev", next: "page-next", form: "send-form", sendError: "send-error",
    sendResult: "send-result", sendSubmit: "send-submit",
  })) el[key] = byTestId(id);

  const markAll = byTestId("mark-all-read");
  byTestId("filter-type").addEventListener("change", (event) => {
    state.type = event.target.value;
    state.page = 1;
    markAll.dataset.i18n = state.type ? "notif.mark_type_read" : "notif.mark_all_read";
    markAll.textContent = t(markAll.dataset.i18n);
    loadNotifications();
  });
  byTestId("filter-archived").addEventListener("change", (event) => {
    state.archived = event.target.checked;
    state.page = 1;
    loadNotifications();
  });
  byTestId("filter-unread").addEventListener("change", (event) => {
    state.unreadOnly = event.target.checked;
    state.page = 1;
    loadNotifications();
  });
  markAll.addEventListener("click", (event) => busy(event.currentTarget, markAllRead));
  el.prev.addEventListener("click", () => { state.page -= 1; loadNotifications(); });
  el.next.addEventListener("click", () => { state.page += 1; loadNotifications(); });
  el.form.addEventListener("submit", send);
  el.form.elements.target_user_id.addEventListener("focus", () => { el.form.elements.target.value = "one"; });

  loadNotifications();

  // One connection (startConsolePage's), listeners registered once, here.
  client.on("notification:new", (data) => {
    toast(t("notif.new"), data.title);
    scheduleRefresh();
  });
  client.on("notification:broadcast", (data) => {
    toast(t("notif.announcement"), data.title);
    scheduleRefresh();
  });
  client.on("notification:update", (data) => {
    if (data.is_read) showRead(data.notification_id);
    scheduleRefresh();
  });
}

init();
