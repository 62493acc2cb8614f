// h5/chat.html: the end user's customer-service chat (the stand-in for the mini program). Log in or
// register, write a first message (POST /sessions opens the session), then chat live: the agent's replies,
// "agent is typing", the assignment/closing system lines and the session's state; read ticks both ways
// (this page reports how far the user has read, and shows "已读" once the agent has read a message); the user can
// end the session. Pictures: picked with the composer's button or pasted, into the open session; thumbnails open
// full size when tapped.
import { ApiError, api, describeError, newIdempotencyKey, query } from "./api.js";
import {
  canRenew, clearSession, freshToken, isExpired, keepSessionFresh, loadSession, login, logout, reasonFor, reasonText, register,
  renewToken, saveSession,
} from "./auth.js";
import { ChatView, typingNotifier } from "./chat-view.js";
import { t } from "./i18n.js";
import { bindPictureInputs, sendPicture } from "./picture-compose.js";
import { PictureLinks } from "/sdk/index.js";
import { deliverMessage } from "./message-send.js";
import { uploadPicture } from "./picture-upload.js";
import { QueueView } from "./queue-view.js";
import { RatingPrompt } from "./rating.js";
import { connectRealtime } from "./realtime.js";
import { bindSystemBanners, busy, byTestId, debounce, toast } from "./ui.js";

const BASE = "/api/v4/customer-service";
const el = {};
let session = null;
let client = null; // the realtime connection (connectRealtime)
let view = null;
let current = null; // SessionData of the conversation shown
let queue = null; // the waiting session's place in the queue (queue-view.js)
let rating = null; // the closed session's satisfaction prompt (rating.js)

/** Back to the login form with a reason: a reload, so the page starts with no connection and no state. */
function toLogin(reason) {
  clearSession("user");
  location.replace(`/h5/chat.html?${new URLSearchParams({ reason })}`);
}

function call(path, options = {}) {
  return api(path, { ...options, token: () => freshToken("user"), renew: () => renewToken("user"),
    onUnauthorized: (code) => toLogin(reasonFor(code)) });
}

function showStatus(s) {
  current = s;
  el.end.hidden = !s || s.status === "closed";
  if (s) view.setPeerRead(s.admin_last_read_message_id);
  const node = el.status;
  node.dataset.status = s ? s.status : "none";
  if (!s) node.textContent = t("h5.status.none");
  else if (s.status === "waiting") node.textContent = t("h5.status.waiting");
  else if (s.status === "active") node.textContent = s.admin_id ? t("h5.status.active_with", { id: s.admin_id }) : t("h5.status.active");
  else node.textContent = t("h5.status.closed");
  showQueue(s);
  rating.show(s);
}

function showQueue(s) {
  if (!queue) return;
  if (!s || s.status !== "waiting") queue.hide();
  else if (queue.sessionId !== s.session_id) queue.follow(s.session_id, () => call(`${BASE}/my/sessions/${s.session_id}/queue`));
}

// --- login / register ---------------------------------------------------------------------------

function showLogin(reason) {
  el.login.hidden = false;
  el.chat.hidden = true;
  el.authMessage.textContent = reasonText(reason);
  el.form.elements.username.focus();
}

async function authenticate(button, how) {
  el.authError.textContent = "";
  const username = el.form.elements.username.value.trim();
  const password = el.form.elements.password.value;
  if (!username || !password) {
    el.authError.textContent = t("h5.missing_fields");
    return;
  }
  await busy(button, async () => {
    try {
      const result = how === "register" ? await register(username, password) : await login(username, password);
      if (result.user.user_type !== "user") {
        el.authMessage.textContent = "";
        el.authError.textContent = reasonText("not_user");
        return;
      }
      saveSession("user", result);
      location.replace("/h5/chat.html"); // a fresh page: one connection, made with the new token
    } catch (err) {
      el.authError.textContent = describeError(err);
    }
  });
}

// --- conversation -------------------------------------------------------------------------------

async function loadConversation() {
  const mine = await call(`${BASE}/my/sessions${query({ page: 1, page_size: 1 })}`);
  const latest = mine.items[0] || null;
  view.clear({ keepPending: true }); // the user's one conversation: what they are sending belongs to it
  showStatus(latest);
  if (latest) await loadMessages(latest.session_id);
}

async function loadMessages(sessionId) {
  const page = await call(`${BASE}/sessions/${sessionId}/messages${query({ limit: 50 })}`);
  page.items.forEach((m) => view.append(m));
  view.scrollToBottom();
  markReadSoon();
}

/** The user has read what the page shows (while it is visible): the agent sees "read" on their messages. */
let reportedRead = 0;
const markReadSoon = debounce(async () => {
  const upTo = view.newestShown();
  if (!current || document.hidden || upTo <= reportedRead) return;
  try {
    await call(`${BASE}/my/sessions/${current.session_id}/read`, { method: "POST", body: { last_read_message_id: upTo } });
    reportedRead = upTo;
  } catch {
    // not fatal: the next message or visit reports it again
  }
}, 400);

async function endSession(button) {
  if (!current || current.status === "closed") return;
  const sessionId = current.session_id;
  await busy(button, async () => {
    try {
      showStatus(await call(`${BASE}/my/sessions/${sessionId}/close`, { method: "POST" }));
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) el.status.textContent = t("h5.end_failed", { reason: describeError(err) });
    }
  });
}

async function openSession(content, key = newIdempotencyKey()) {
  // No open session: the first message opens one (201), or joins the open one (200) if another tab made it. A
  // retry opens with the same Idempotency-Key: a first attempt whose answer was lost is answered again (the same
  // session), never adding the message twice.
  const pending = view.addPending(content, () => openSession(content, key));
  try {
    const s = await call(`${BASE}/sessions`, {
      method: "POST", body: { content }, headers: { "Idempotency-Key": key },
    });
    view.discard(pending);
    if (!current || current.session_id !== s.session_id) view.clear({ keepPending: true });
    showStatus(s);
    await loadMessages(s.session_id);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) view.fail(pending, describeError(err));
  }
}

/** A retry sends the same message again: the same id, stored once (message-send.js). */
function send(content, clientMsgId = newIdempotencyKey()) {
  if (!current || current.status === "closed") {
    openSession(content);
    return;
  }
  const pending = view.addPending(content, () => send(content, clientMsgId));
  deliver(pending, current.session_id, content, "text", clientMsgId);
}

/** Sends a message into the open session (socket, or REST while offline) and settles its pending bubble. */
function deliver(pending, sessionId, content, messageType = "text", clientMsgId = undefined) {
  deliverMessage({ client, call, view }, pending, sessionId, content, messageType, clientMsgId);
}

/** A picture goes into the open session: a first message (text) opens one. */
function sendPictures(files) {
  if (!current || current.status === "closed") {
    toast(t("chat.picture_button"), t("chat.picture_needs_session"), { kind: "error" });
    return;
  }
  const sessionId = current.session_id;
  for (const file of files) {
    sendPicture(view, sessionId, file, {
      upload: (picture, onProgress) => uploadPicture(sessionId, picture, { token: () => freshToken("user"),
        renew: () => renewToken("user"), onProgress, onUnauthorized: (code) => toLogin(reasonFor(code)) }),
      deliver: (pending, attachmentId) => deliver(pending, sessionId, attachmentId, "image"),
    });
  }
}

function onSubmit(event) {
  event.preventDefault();
  const content = el.input.value.trim();
  if (!content) return;
  el.input.value = "";
  send(content);
}

async function enterChat() {
  el.login.hidden = true;
  el.chat.hidden = false;
  el.logout.hidden = false;
  el.conn.hidden = false;
  const pictures = new PictureLinks((sessionId, attachmentId) => call(`${BASE}/sessions/${sessionId}/attachments/${attachmentId}`));
  view = new ChatView(el.messages, el.typing, { type: "user", id: session.user.user_id },
    (m) => (m.sender_type === "admin" ? t("h5.agent", { id: m.sender_id }) : t("chat.you")), { pictures });
  bindPictureInputs({ button: el.pictureButton, fileInput: el.fileInput, enabled: () => !el.chat.hidden, onFiles: sendPictures });

  el.composer.addEventListener("submit", onSubmit);
  el.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) onSubmit(event);
  });
  el.logout.addEventListener("click", async () => {
    await logout("user");
    toLogin("logged_out");
  });

  try {
    await loadConversation();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    el.status.textContent = t("h5.load_failed", { reason: describeError(err) });
  }

  client = connectRealtime({
    getToken: () => freshToken("user"),
    renew: () => renewToken("user"),
    onUnauthorized: (message) => toLogin(reasonFor(message)),
    onReconnected: () => {
      queue.hide(); // read the place again: updates may have been missed while disconnected
      loadConversation().catch(() => {});
    },
    statusEl: el.conn,
  });
  el.input.addEventListener("input", typingNotifier(client, () => current && current.status !== "closed" && current.session_id));

  client.on("chat:new_message", (m) => {
    if (current && m.session_id === current.session_id && view.append(m)) markReadSoon();
  });
  client.on("chat:read", (r) => {
    if (current && r.session_id === current.session_id && r.reader_type === "admin") view.setPeerRead(r.last_read_message_id);
  });
  document.addEventListener("visibilitychange", () => markReadSoon());
  client.on("chat:session_update", (s) => {
    if (current && s.session_id === current.session_id) showStatus(s);
    else if (!current || current.status === "closed") loadConversation().catch(() => {}); // opened elsewhere
  });
  client.on("chat:queue_update", (place) => {
    if (current && current.status === "waiting") queue.update(place);
  });
  client.on("chat:typing", (typing) => {
    if (current && typing.session_id === current.session_id && typing.sender_type === "admin") view.showTyping(t("h5.agent_typing"));
  });
  bindSystemBanners(client, el.banners);
}

function init() {
  for (const [key, id] of Object.entries({
    login: "h5-login", chat: "h5-chat", form: "h5-login-form", authMessage: "h5-auth-message",
    authError: "h5-auth-error", status: "session-status", messages: "message-list", typing: "typing-indicator",
    composer: "composer", input: "composer-input", logout: "logout", conn: "conn-status", banners: "system-banners",
    pictureButton: "composer-picture", fileInput: "composer-file",
    end: "end-session", queue: "queue-position", rating: "rating-panel",
  })) el[key] = byTestId(id);
  el.end.addEventListener("click", (event) => endSession(event.currentTarget));
  queue = new QueueView(el.queue);
  rating = new RatingPrompt(el.rating, call);

  el.form.addEventListener("submit", (event) => {
    event.preventDefault();
    authenticate(byTestId("h5-login-submit"), "login");
  });
  byTestId("h5-register").addEventListener("click", (event) => authenticate(event.currentTarget, "register"));

  const reason = new URLSearchParams(location.search).get("reason");
  session = loadSession("user");
  if (!session) return showLogin(reason);
  if (session.user.user_type !== "user") {
    clearSession("user");
    return showLogin("not_user");
  }
  if (isExpired(session) && !canRenew(session)) {
    clearSession("user");
    return showLogin("expired");
  }
  keepSessionFresh("user", () => toLogin("expired"));
  if (reason) history.replaceState(null, "", "/h5/chat.html");
  enterChat();
}

init();
