// admin/customer-service.html: sessions by status (unread counts, priority), one conversation with history
// (scrolling up loads older pages), replies with their ack state, typing both ways, claim / transfer / close,
// and live chat:new_message / chat:session_update / chat:session_assigned / chat:typing. Pictures: picked with the
// composer's button, pasted (a screenshot) or dropped on the conversation; shown as thumbnails, full size on click.
import { bindAgentDesk } from "./agent-desk.js";
import { bindAgentsPanel, bindAvailability } from "./agents-panel.js";
import { ApiError, describeError, newIdempotencyKey, query } from "./api.js";
import { adminAuth, call, startConsolePage } from "./console-page.js";
import { ChatView, typingNotifier } from "./chat-view.js";
import { systemText, t } from "./i18n.js";
import { bindPictureInputs, sendPicture } from "./picture-compose.js";
import { PictureLinks } from "/sdk/index.js";
import { previewText } from "./picture-links.js";
import { deliverMessage } from "./message-send.js";
import { uploadPicture } from "./picture-upload.js";
import { showSessionRating } from "./rating.js";
import { busy, byTestId, debounce, h, timeNode, toast } from "./ui.js";
import { bindWorkingHoursPanel } from "./working-hours-panel.js";

const BASE = "/api/v4/customer-service";
const TABS = {
  mine: { scope: "mine", status: "active" },
  waiting: { scope: "waiting" },
  closed: { scope: "mine", status: "closed" },
  all: { scope: "all" },
};
const HISTORY_PAGE = 30;

let session = null; // the logged-in admin
let client = null; // the realtime connection (connectRealtime)
let view = null;
let desk = null; // agent-desk.js: quick replies, notes, transfer picker
const el = {};
const state = { tab: "mine", current: null, hasMore: false, beforeId: null, loadingOlder: false };

function setCount(node, count) {
  node.textContent = String(count);
  node.dataset.count = String(count);
}

function statusText(status) {
  return t.has(`session_status.${status}`) ? t(`session_status.${status}`) : status;
}

// --- session list -------------------------------------------------------------------------------

function renderSession(s) {
  const unread = h("span", { className: "badge", testid: "session-unread", text: s.unread_count,
    dataset: { count: s.unread_count } });
  unread.hidden = s.unread_count === 0;
  const item = h("li", { className: "session", testid: "session-item",
    dataset: { sessionId: s.session_id, userId: s.user_id, status: s.status, priority: s.priority },
    attrs: { "aria-selected": state.current && state.current.session_id === s.session_id ? "true" : "false" },
    onClick: () => openSession(s.session_id) },
  h("div", {},
    h("span", { className: "who", text: t("cs.user", { id: s.user_id }) }),
    h("span", { className: "prio", text: t("cs.priority_short", { priority: s.priority }), dataset: { priority: s.priority },
      attrs: { title: t("cs.priority_title") } }),
    h("span", { className: `status status-${s.status}`, text: statusText(s.status), dataset: { closeReason: s.close_reason || "" },
      attrs: s.close_reason ? { title: t(`cs.close_reason.${s.close_reason}`) } : {} })),
  timeNode(s.updated_at, { className: "time" }),
  h("div", { className: "preview", testid: "session-preview", text: previewText(s.last_message, t) || "—" }),
  h("div", {}, unread));
  return item;
}

// Each load and each in-place change takes a number; a load's answer is shown only if nothing newer happened
// since it was asked (an older answer landing late must not bring back a state the admin just changed).
let listVersion = 0;

async function loadSessions() {
  const version = ++listVersion;
  try {
    const [list, mine, waiting] = await Promise.all([
      call(`${BASE}/sessions${query({ ...TABS[state.tab], page: 1, page_size: 50 })}`),
      call(`${BASE}/sessions${query({ ...TABS.mine, page: 1, page_size: 1 })}`),
      call(`${BASE}/sessions${query({ ...TABS.waiting, page: 1, page_size: 1 })}`),
    ]);
    if (version !== listVersion) return;
    el.sessions.replaceChildren(...list.items.map(renderSession));
    el.sessionsEmpty.hidden = list.items.length > 0;
    setCount(el.mineCount, mine.total);
    setCount(el.waitingCount, waiting.total);
    el.sessionsError.textContent = "";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    el.sessionsError.textContent = t("cs.load_failed", { reason: describeError(err) });
  }
}

// Silent, debounced: a burst of events refreshes the list once.
const scheduleSessions = debounce(loadSessions, 300);

function inTab(s) {
  const tab = TABS[state.tab];
  if (tab.scope === "waiting") return s.status === "waiting";
  if (tab.scope === "mine") return s.admin_id === session.user.user_id && (!tab.status || s.status === tab.status);
  return true;
}

/** Show a session's new state in the list at once (closed, claimed, transferred, new message), instead of its old
 * one until the debounced reload answers; loads already on their way are outdated by it. */
function patchSessionItem(s) {
  const node = el.sessions.querySelector(`[data-testid="session-item"][data-session-id="${s.session_id}"]`);
  if (!node) return;
  listVersion += 1;
  if (inTab(s)) node.replaceWith(renderSession(s));
  else node.remove();
  el.sessionsEmpty.hidden = el.sessions.children.length > 0;
}

function selectTab(tab) {
  state.tab = tab;
  document.querySelectorAll("[data-tab]").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === tab)));
  loadSessions();
}

// --- conversation -------------------------------------------------------------------------------

function showHeader(s) {
  state.current = s;
  el.placeholder.hidden = true;
  el.head.hidden = false;
  el.messages.hidden = false;
  el.typing.hidden = false;
  el.title.textContent = t("cs.conv_title", { session: s.session_id, user: s.user_id });
  el.status.textContent = statusText(s.status);
  el.status.className = `status status-${s.status}`;
  el.status.dataset.status = s.status;
  const mineNow = s.admin_id === session.user.user_id;
  el.assignee.textContent = s.admin_id ? (mineNow ? t("cs.assigned_to_you") : t("cs.assigned_to_admin", { id: s.admin_id }))
    : t("cs.unassigned");
  el.claim.hidden = s.status !== "waiting";
  const canAct = s.status !== "closed";
  el.transfer.hidden = !canAct;
  el.close.hidden = !canAct;
  el.closed.hidden = s.status !== "closed";
  el.closed.textContent = s.close_reason ? t("cs.closed_note_reason", { reason: t(`cs.close_reason.${s.close_reason}`) })
    : t("cs.closed_note");
  el.closed.dataset.closeReason = s.close_reason || "";
  showSessionRating(el.rating, call, s);
  el.composer.hidden = s.status === "closed";
  view.setPeerRead(s.user_last_read_message_id);
  document.querySelectorAll('[data-testid="session-item"]').forEach((n) =>
    n.setAttribute("aria-selected", String(Number(n.dataset.sessionId) === s.session_id)));
  if (desk) desk.show(s);
}

async function openSession(sessionId) {
  try {
    const [s, page] = await Promise.all([
      call(`${BASE}/sessions/${sessionId}`),
      call(`${BASE}/sessions/${sessionId}/messages${query({ limit: HISTORY_PAGE })}`),
    ]);
    view.clear({ keepPending: state.current?.session_id === sessionId }); // reopened (a reconnect): sends in flight stay
    showHeader(s);
    state.hasMore = page.has_more;
    state.beforeId = page.next_before_id;
    page.items.forEach((m) => view.append(m));
    view.scrollToBottom();
    fillViewport();
    markReadSoon();
    el.input.focus();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    toast(t("cs.open_failed"), describeError(err), { kind: "error" });
  }
}

async function loadOlder() {
  if (!state.current || !state.hasMore || state.loadingOlder) return;
  state.loadingOlder = true;
  const sessionId = state.current.session_id;
  try {
    const page = await call(`${BASE}/sessions/${sessionId}/messages${query({ before_id: state.beforeId, limit: HISTORY_PAGE })}`);
    if (!state.current || state.current.session_id !== sessionId) return;
    view.prepend(page.items);
    state.hasMore = page.has_more;
    state.beforeId = page.next_before_id;
    setTimeout(fillViewport, 0);
  } catch (err) {
    toast(t("cs.older_failed"), describeError(err), { kind: "error" });
  } finally {
    state.loadingOlder = false;
  }
}

/** History that does not fill the pane cannot be scrolled up: load older pages until it does. */
function fillViewport() {
  if (state.hasMore && el.messages.scrollHeight <= el.messages.clientHeight + 40) loadOlder();
}

/** The assigned admin reading the conversation clears its unread count. */
const markReadSoon = debounce(async () => {
  const s = state.current;
  if (!s || s.admin_id !== session.user.user_id || document.hidden) return;
  try {
    await call(`${BASE}/sessions/${s.session_id}/read`, { method: "POST", body: { last_read_message_id: view.newestShown() || undefined } });
    scheduleSessions();
  } catch {
    // not fatal: the count stays until the next read
  }
}, 400);

/** A retry sends the same message again: the same id, stored once (message-send.js). */
function sendText(content, clientMsgId = newIdempotencyKey()) {
  const pending = view.addPending(content, () => sendText(content, clientMsgId));
  deliver(pending, state.current.session_id, content, "text", clientMsgId);
}

/** Sends a message (socket, or REST while offline) and settles its pending bubble. */
function deliver(pending, sessionId, content, messageType = "text", clientMsgId = undefined) {
  deliverMessage({ client, call, view }, pending, sessionId, content, messageType, clientMsgId);
}

function sendPictures(files) {
  const sessionId = state.current.session_id;
  for (const file of files) {
    sendPicture(view, sessionId, file, {
      upload: (picture, onProgress) => uploadPicture(sessionId, picture, { ...adminAuth, onProgress }),
      deliver: (pending, attachmentId) => deliver(pending, sessionId, attachmentId, "image"),
    });
  }
}

function onSubmit(event) {
  event.preventDefault();
  const content = el.input.value.trim();
  if (!content || !state.current) return;
  el.input.value = "";
  sendText(content);
}

async function sessionAction(button, path, body, doneText) {
  const s = state.current;
  if (!s) return;
  return busy(button, async () => {
    try {
      const updated = await call(`${BASE}/sessions/${s.session_id}/${path}`, { method: "POST", body });
      if (state.current && state.current.session_id === updated.session_id) showHeader(updated);
      patchSessionItem(updated);
      toast(doneText, t("cs.session_ref", { id: updated.session_id }));
      scheduleSessions();
      return true;
    } catch (err) {
      toast(t("cs.action_failed"), describeError(err), { kind: "error" });
      return false;
    }
  });
}

// --- live events ----------------------------------------------------------------------------------

function onNewMessage(m) {
  if (state.current && m.session_id === state.current.session_id) {
    view.append(m);
    markReadSoon();
  }
  scheduleSessions();
}

function onSessionUpdate(s) {
  if (state.current && s.session_id === state.current.session_id) showHeader(s);
  patchSessionItem(s);
  scheduleSessions();
}

function onAssigned(a) {
  const how = ["transfer", "claim"].includes(a.reason) ? a.reason : "auto";
  toast(t("cs.new_session"), t(`cs.assigned_${how}`, { session: a.session_id, user: a.user_id, priority: a.priority }));
  scheduleSessions();
}

/** A reply deadline passed on one of this agent's sessions (system:alert for this agent only, code reply_*):
 * a toast besides the banner, and the list again (a session may have gone to, or come from, another agent). */
function onReplyAlert(a) {
  if (!a.code || !a.code.startsWith("reply_")) return;
  const key = `alert_title.${a.code}`;
  toast(t.has(key) ? t(key) : a.title, systemText(a.code, a.params, a.message));
  scheduleSessions();
}

/** The user read the conversation up to a message: "已读" on the agent's messages up to it. */
function onRead(r) {
  if (state.current && r.session_id === state.current.session_id && r.reader_type === "user") view.setPeerRead(r.last_read_message_id);
}

function onTyping(typing) {
  if (state.current && typing.session_id === state.current.session_id && typing.sender_type === "user") {
    view.showTyping(t("cs.user_typing", { id: typing.sender_id }));
  }
}

function init() {
  const page = startConsolePage({
    onReconnected: () => {
      scheduleSessions();
      if (state.current) openSession(state.current.session_id);
    },
  });
  if (!page) return;
  ({ session, client } = page);
  for (const [key, id] of Object.entries({
    sessions: "session-list", sessionsEmpty: "sessions-empty", sessionsError: "sessions-error",
    mineCount: "tab-mine-count", waitingCount: "tab-waiting-count", placeholder: "conv-placeholder",
    head: "conv-head", title: "conv-title", status: "conv-status", assignee: "conv-assignee", claim: "conv-claim",
    transfer: "conv-transfer", close: "conv-close", messages: "message-list",
    typing: "typing-indicator", closed: "conv-closed", rating: "conv-rating", composer: "composer", input: "composer-input",
    pictureButton: "composer-picture", fileInput: "composer-file",
    conversation: "conversation",
  })) el[key] = byTestId(id);

  document.querySelectorAll("[data-tab]").forEach((b) => b.addEventListener("click", () => selectTab(b.dataset.tab)));
  el.claim.addEventListener("click", () => sessionAction(el.claim, "claim", undefined, t("cs.claimed")));
  el.close.addEventListener("click", () => sessionAction(el.close, "close", undefined, t("cs.closed")));
  el.transfer.addEventListener("click", () => desk.pickTransfer());
  el.composer.addEventListener("submit", onSubmit);
  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) onSubmit(event);
  });
  el.messages.addEventListener("scroll", () => {
    if (el.messages.scrollTop < 40) loadOlder();
  });
  document.addEventListener("visibilitychange", () => markReadSoon());

  const pictures = new PictureLinks((sessionId, attachmentId) => call(`${BASE}/sessions/${sessionId}/attachments/${attachmentId}`));
  view = new ChatView(el.messages, el.typing, { type: "admin", id: session.user.user_id }, (m) =>
    m.sender_type === "user" ? t("cs.user", { id: m.sender_id }) : t("cs.admin", { id: m.sender_id }), { pictures });
  bindPictureInputs({ button: el.pictureButton, fileInput: el.fileInput, dropZone: el.conversation,
    enabled: () => Boolean(state.current) && !el.composer.hidden, onFiles: sendPictures });

  loadSessions();

  const notifyTyping = typingNotifier(client, () => state.current && state.current.status !== "closed" && state.current.session_id);
  el.input.addEventListener("input", notifyTyping);

  client.on("chat:new_message", onNewMessage);
  client.on("chat:session_update", onSessionUpdate);
  client.on("chat:session_assigned", onAssigned);
  client.on("chat:typing", onTyping);
  client.on("chat:read", onRead);
  bindAvailability({ call, client, select: byTestId("availability"), me: session.user.user_id });
  if (session.user.role === "supervisor") {
    bindAgentsPanel({ call, client, panel: byTestId("agents-panel"), list: byTestId("agents-list"), empty: byTestId("agents-empty") });
  }
  client.on("system:alert", onReplyAlert);
  if (session.user.role === "supervisor") bindWorkingHoursPanel({ call, panel: byTestId("hours-panel") });
  // the desk's modules listen with .on(event, handler): the SDK client's .on is the socket's
  desk = bindAgentDesk({ call, socket: client, me: session.user.user_id, supervisor: session.user.role === "supervisor", el,
    console: { open: openSession, loadOlder, hasMore: () => state.hasMore },
    transfer: (adminId, note) => sessionAction(el.transfer, "transfer", { admin_id: adminId, note }, t("cs.transferred", { id: adminId })) });
}

init();
