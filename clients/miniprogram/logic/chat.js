// The chat page's logic, free of Page()/setData (pages/chat/index.js wires it; Node's tests drive it directly):
// the user's latest session and its messages (REST), the live events of the SDK's connection (new messages,
// session updates, the queue position, read state, "agent is typing"), sending text (socket with an ack, REST
// while offline; the first message opens a session), pictures (wx.chooseMedia -> wx.uploadFile to
// /sessions/{id}/attachments -> an image message), ending the session, and reporting how far the user has read.
// A reconnect that was not recovered (the SDK's onResync) refetches everything over REST. Given a session id
// (`pages/chat/index?session_id=N`: the past sessions page, a WeChat subscribe message) it shows that session
// until the user's next message opens a new one.
//
// `view()` is what the page shows: plain data for setData, every string from the catalogue (t).
const { describeError, systemText } = require("../i18n/index.js");
const { newIdempotencyKey } = require("./api.js");
const { PictureLinks, isPictureMessage, sendChatMessage } = require("../lib/realtime-sdk.js");

const BASE = "/api/v4/customer-service";
const HISTORY_LIMIT = 50;
const TYPING_SHOW_MS = 3000;
const TYPING_SEND_MS = 2000;
const CONNECTION_TEXT = {
  idle: "conn.connecting", connecting: "conn.connecting", connected: "conn.live", reconnecting: "conn.lost",
  suspended: "conn.lost", offline: "conn.gave_up", unauthorized: "conn.unauthorized",
};

/** "预计等待约 2 分钟" (web/js/time-format.js's formatWait). */
function waitText(t, seconds) {
  if (seconds === null || seconds === undefined) return t("time.wait_estimating");
  if (seconds < 60) return t("time.wait_under_minute");
  return t("time.wait_minutes", { count: Math.round(seconds / 60) });
}

/** "您前面还有 2 位 · 预计等待约 2 分钟" for a QueueUpdateData. */
function queueText(t, place) {
  const ahead = place.position - 1;
  const line = ahead > 0 ? t("h5.queue.ahead", { count: ahead }) : t("h5.queue.next");
  return t("h5.queue.line", { place: line, wait: waitText(t, place.estimated_wait_seconds) });
}

function chooseImage(wx) {
  return new Promise((resolve, reject) => wx.chooseMedia({
    count: 1, mediaType: ["image"], sizeType: ["compressed"], sourceType: ["album", "camera"],
    success: (res) => resolve(res.tempFiles && res.tempFiles[0] ? res.tempFiles[0].tempFilePath : null),
    fail: (err) => (/cancel/.test((err && err.errMsg) || "") ? resolve(null) : reject(err)),
  }));
}

class ChatLogic {
  /**
   * @param {{services: object, sessionId?: number, onChange?: (view: object) => void, setTimer?: Function,
   *          clearTimer?: Function}} deps
   *   services: logic/services.js (t, api, baseUrl, wx, user, realtime()); sessionId: the session to show (0: the
   *   user's latest)
   */
  constructor({ services, sessionId = 0, onChange = () => {}, setTimer = setTimeout, clearTimer = clearTimeout }) {
    this.services = services;
    this.t = services.t;
    this.api = services.api;
    this.onChange = onChange;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.session = null; // SessionData of the conversation shown
    this.pinned = sessionId || 0; // the session asked for by the page's query (0: the latest)
    this.missing = 0; // a pinned session the user cannot see: said once, then their latest is shown
    this.messages = new Map(); // message_id -> message
    this.pending = []; // own messages on their way: {key, kind, content, state, reason}
    this.pendingCount = 0;
    this.queue = null; // QueueUpdateData of the waiting session
    this.queueFor = null; // the session whose place was asked over REST
    this.queueVersion = 0;
    this.peerRead = 0; // the agent has read up to this message id
    this.reportedRead = 0;
    this.reading = null;
    this.visible = true;
    this.typing = false;
    this.typingTimer = null;
    this.lastTypingSent = -Infinity;
    this.connection = "idle";
    this.notice = "";
    this.client = null;
    this.offs = [];
    this.stopped = false;
    this.pictures = new PictureLinks(
      (sessionId, attachmentId) => this.api.request(`${BASE}/sessions/${sessionId}/attachments/${attachmentId}`),
      { baseUrl: services.baseUrl });
  }

  /** Connects (or joins the app's connection), listens, and loads the conversation. */
  start() {
    const realtime = this.services.realtime();
    this.client = realtime.client;
    this.connection = this.client.state;
    this.offs.push(
      realtime.onResync(() => this.resync()),
      realtime.onState((state) => {
        this.connection = state;
        this.changed();
      }),
      this.client.on("chat:new_message", (m) => this.onMessage(m)),
      this.client.on("chat:session_update", (s) => this.onSessionUpdate(s)),
      this.client.on("chat:queue_update", (place) => this.onQueueUpdate(place)),
      this.client.on("chat:read", (r) => this.onRead(r)),
      this.client.on("chat:typing", (typing) => this.onTyping(typing)),
    );
    return this.reload();
  }

  stop() {
    this.stopped = true;
    this.offs.forEach((off) => off());
    this.offs = [];
    if (this.typingTimer) this.clearTimer(this.typingTimer);
  }

  /** Back after a reconnect that was not recovered: events may be missing, read everything again. */
  resync() {
    this.queueFor = null;
    return this.reload();
  }

  /** The session shown (the pinned one, else the latest) and its messages, over REST. */
  async reload() {
    try {
      const latest = await this.currentSession();
      if (!latest || !this.session || latest.session_id !== this.session.session_id) this.messages.clear();
      this.showSession(latest);
      if (latest) await this.loadMessages(latest.session_id);
      this.notice = this.missing ? this.t("mp.chat.session_missing", { id: this.missing }) : "";
      this.missing = 0;
    } catch (err) {
      if (err.status !== 401) this.notice = this.t("h5.load_failed", { reason: describeError(this.t, err) });
    }
    this.changed();
  }

  async currentSession() {
    if (this.pinned) {
      try {
        return await this.api.request(`${BASE}/sessions/${this.pinned}`);
      } catch (err) {
        if (err.status !== 403 && err.status !== 404) throw err;
        this.missing = this.pinned; // not theirs, or no such session: their latest instead
        this.pinned = 0;
      }
    }
    const mine = await this.api.request(`${BASE}/my/sessions?page=1&page_size=1`);
    return mine.items[0] || null;
  }

  async loadMessages(sessionId) {
    const page = await this.api.request(`${BASE}/sessions/${sessionId}/messages?limit=${HISTORY_LIMIT}`);
    page.items.forEach((m) => this.add(m));
    this.markRead();
  }

  showSession(s) {
    this.session = s;
    if (s) this.peerRead = Math.max(this.peerRead, s.admin_last_read_message_id || 0);
    if (!s || s.status !== "waiting") {
      this.queue = null;
      this.queueFor = null;
    } else if (this.queueFor !== s.session_id) {
      this.followQueue(s.session_id);
    }
  }

  /** The waiting session's place over REST; an answer older than a live update is dropped. */
  async followQueue(sessionId) {
    this.queueFor = sessionId;
    const version = ++this.queueVersion;
    try {
      const place = await this.api.request(`${BASE}/my/sessions/${sessionId}/queue`);
      if (version === this.queueVersion) this.queue = place;
    } catch (err) {
      if (version === this.queueVersion) this.queue = null; // no longer waiting (409): the status says enough
    }
    this.changed();
  }

  // --- live events --------------------------------------------------------------------------------

  onMessage(m) {
    if (!this.session || m.session_id !== this.session.session_id) return;
    if (m.sender_type === "user") {
      // Our own message echoed back before its ack (a lost ack is being sent again): it replaces its pending bubble
      // instead of showing beside it; the ack that follows finds it shown.
      const pending = this.pending.find((p) => p.kind === "text" && p.state === "sending" && p.content === m.message_content);
      if (pending) this.drop(pending);
    }
    this.add(m);
    if (m.sender_type === "admin") this.typing = false;
    this.markRead();
    this.changed();
  }

  onSessionUpdate(s) {
    if (this.session && s.session_id === this.session.session_id) {
      this.showSession(s);
      this.changed();
    } else if (!this.pinned && (!this.session || this.session.status === "closed")) {
      this.reload(); // opened elsewhere (a page showing a given session stays on it)
    }
  }

  onQueueUpdate(place) {
    if (!this.session || this.session.status !== "waiting" || place.session_id !== this.session.session_id) return;
    this.queueVersion += 1;
    this.queue = place;
    this.changed();
  }

  onRead(r) {
    if (!this.session || r.session_id !== this.session.session_id || r.reader_type !== "admin") return;
    this.peerRead = Math.max(this.peerRead, r.last_read_message_id);
    this.changed();
  }

  onTyping(typing) {
    if (!this.session || typing.session_id !== this.session.session_id || typing.sender_type !== "admin") return;
    this.typing = true;
    if (this.typingTimer) this.clearTimer(this.typingTimer);
    this.typingTimer = this.setTimer(() => {
      this.typing = false;
      this.changed();
    }, TYPING_SHOW_MS);
    this.changed();
  }

  add(m) {
    this.messages.set(m.message_id, m);
    if (!isPictureMessage(m)) return;
    if (m.attachment) this.pictures.put(m.attachment); // a history page's signed URLs
    if (!this.pictures.urls(m.message_content)) {
      this.pictures.get(m.session_id, m.message_content).then(() => this.changed(), () => {});
    }
  }

  // --- the user's actions ---------------------------------------------------------------------------

  /** Sends a text: into the open session, or as the first message of a new one. `clientMsgId`: the message's
   * own id (a retry passes the failed one's: sent again, it is stored once). */
  async send(text, clientMsgId = newIdempotencyKey()) {
    const content = String(text || "").trim();
    if (!content) return;
    if (!this.session || this.session.status === "closed") {
      await this.openSession(content);
      return;
    }
    const pending = this.addPending("text", content, clientMsgId);
    await this.deliver(pending, this.session.session_id, content, "text");
  }

  /** The first message opens a session (or joins the open one). `key`: its Idempotency-Key, kept by its pending
   * bubble, so a retry after a lost answer is answered again instead of adding the message twice. */
  async openSession(content, key = newIdempotencyKey()) {
    const pending = this.addPending("text", content);
    pending.opensWith = key;
    try {
      const s = await this.api.request(`${BASE}/sessions`, {
        method: "POST", body: { content }, headers: { "Idempotency-Key": key },
      });
      this.drop(pending);
      if (this.pinned !== s.session_id) this.pinned = 0; // the page follows the new session
      if (!this.session || this.session.session_id !== s.session_id) this.messages.clear();
      this.showSession(s);
      await this.loadMessages(s.session_id);
    } catch (err) {
      this.fail(pending, err);
    }
    this.changed();
  }

  /** Over the socket with an ack while connected (sent again with the same `client_msg_id` while the ack is lost:
   * the SDK's sendChatMessage), else over REST with that id as its Idempotency-Key; settles the pending bubble. */
  async deliver(pending, sessionId, content, messageType) {
    const body = messageType === "text" ? { content } : { content, message_type: messageType };
    const clientMsgId = pending.clientMsgId || newIdempotencyKey();
    let result;
    if (this.client && this.client.connected) {
      result = await sendChatMessage(this.client, { session_id: sessionId, ...body, client_msg_id: clientMsgId }, {
        setTimer: this.setTimer,
        onRetry: (attempt) => { // the ack was lost: the bubble says it is being sent again
          pending.resend = attempt;
          this.changed();
        },
      });
    } else {
      try {
        const data = await this.api.request(`${BASE}/sessions/${sessionId}/messages`, {
          method: "POST", body, headers: { "Idempotency-Key": clientMsgId },
        });
        result = { ok: true, data };
      } catch (err) {
        result = { ok: false, error: err };
      }
    }
    if (result.ok) {
      this.drop(pending);
      this.add(result.data);
    } else {
      this.fail(pending, result.error);
    }
    this.changed();
    return result;
  }

  /** The user is typing: the agent sees it (chat:typing, at most once per TYPING_SEND_MS). */
  typed(now = Date.now()) {
    if (!this.client || !this.client.connected || !this.session || this.session.status === "closed") return;
    if (now - this.lastTypingSent < TYPING_SEND_MS) return;
    this.lastTypingSent = now;
    this.client.send("chat:typing", { session_id: this.session.session_id });
  }

  /** Sends a failed text again. */
  retry(key) {
    const pending = this.pending.find((p) => p.key === key && p.state === "failed");
    if (!pending || pending.kind !== "text") return Promise.resolve();
    this.drop(pending);
    if (pending.opensWith) return this.openSession(pending.content, pending.opensWith);
    return this.send(pending.content, pending.clientMsgId);
  }

  /** wx.chooseMedia -> wx.uploadFile (POST /sessions/{id}/attachments) -> an image message. */
  async sendPicture() {
    if (!this.session || this.session.status === "closed") {
      this.notice = this.t("chat.picture_needs_session");
      this.changed();
      return;
    }
    const sessionId = this.session.session_id;
    let path;
    try {
      path = await chooseImage(this.services.wx);
    } catch (err) {
      return;
    }
    if (!path) return; // cancelled
    const pending = this.addPending("picture", "");
    try {
      const attachment = await this.api.upload(`${BASE}/sessions/${sessionId}/attachments`, path);
      this.pictures.put(attachment);
      await this.deliver(pending, sessionId, attachment.attachment_id, "image");
    } catch (err) {
      this.fail(pending, err);
      this.changed();
    }
  }

  /** A thumbnail failed to load (its URL expired): fresh signed URLs. */
  pictureFailed(attachmentId) {
    if (!this.session) return;
    this.pictures.refresh(this.session.session_id, attachmentId).then(() => this.changed(), () => {});
  }

  async endSession() {
    if (!this.session || this.session.status === "closed") return;
    try {
      this.showSession(await this.api.request(`${BASE}/my/sessions/${this.session.session_id}/close`, { method: "POST" }));
    } catch (err) {
      if (err.status !== 401) this.notice = this.t("h5.end_failed", { reason: describeError(this.t, err) });
    }
    this.changed();
  }

  /** The page is shown / hidden: read state is reported only while the user can see the messages. */
  setVisible(visible) {
    this.visible = visible;
    if (visible) this.markRead();
  }

  /** Reports the newest shown message as read (once per new message; one report at a time). */
  markRead() {
    if (this.stopped || !this.visible || !this.session || this.reading) return this.reading;
    const upTo = this.newestId();
    if (upTo <= this.reportedRead) return null;
    const sessionId = this.session.session_id;
    this.reading = this.api.request(`${BASE}/my/sessions/${sessionId}/read`, {
      method: "POST", body: { last_read_message_id: upTo },
    }).then(() => {
      this.reportedRead = Math.max(this.reportedRead, upTo);
      return true;
    }, () => false) // not fatal: the next message or visit reports it again
      .then((reported) => {
        this.reading = null;
        if (reported && this.newestId() > this.reportedRead) this.markRead(); // newer ones came meanwhile
      });
    return this.reading;
  }

  newestId() {
    let newest = 0;
    for (const id of this.messages.keys()) newest = Math.max(newest, id);
    return newest;
  }

  // --- pending bubbles ------------------------------------------------------------------------------

  addPending(kind, content, clientMsgId = undefined) {
    this.pendingCount += 1;
    const pending = { key: `p${this.pendingCount}`, kind, content, state: "sending", reason: "", clientMsgId };
    this.pending.push(pending);
    this.changed();
    return pending;
  }

  drop(pending) {
    this.pending = this.pending.filter((p) => p !== pending);
  }

  fail(pending, error) {
    pending.state = "failed";
    pending.reason = describeError(this.t, error);
  }

  // --- what the page shows --------------------------------------------------------------------------

  statusText() {
    const s = this.session;
    const t = this.t;
    if (!s) return t("h5.status.none");
    if (s.status === "waiting") return t("h5.status.waiting");
    if (s.status === "active") return s.admin_id ? t("h5.status.active_with", { id: s.admin_id }) : t("h5.status.active");
    return t("h5.status.closed");
  }

  item(m) {
    const t = this.t;
    const mine = m.sender_type === "user";
    const item = {
      key: `m${m.message_id}`, id: m.message_id, mine, kind: "text", text: m.message_content, thumb: "", full: "",
      attachmentId: "", who: mine ? t("chat.you") : t("h5.agent", { id: m.sender_id }), readText: "", stateText: "",
      state: "sent",
    };
    if (m.message_type === "system") {
      item.kind = "system";
      item.text = systemText(t, m.system_code, m.system_params, m.message_content);
      return item;
    }
    if (isPictureMessage(m)) {
      const urls = this.pictures.urls(m.message_content);
      item.kind = "picture";
      item.text = urls ? "" : t("chat.picture");
      item.attachmentId = m.message_content;
      if (urls) Object.assign(item, { thumb: urls.thumb, full: urls.full });
    } else if (m.message_type === "image") {
      item.text = t("chat.image_url", { url: m.message_content });
    }
    if (mine) item.readText = m.message_id <= this.peerRead ? t("chat.read") : t("chat.unread");
    return item;
  }

  pendingItem(p) {
    const t = this.t;
    const uploading = p.kind === "picture";
    return {
      key: p.key, id: 0, mine: true, kind: "text", thumb: "", full: "", attachmentId: "", who: t("chat.you"),
      readText: "", state: p.state,
      text: uploading ? t("chat.picture") : p.content,
      stateText: p.state === "failed" ? t("chat.not_sent", { reason: p.reason })
        : uploading ? t("chat.picture_uploading", { percent: 0 })
          : p.resend ? t("chat.resending", { attempt: p.resend }) : t("chat.sending"),
    };
  }

  view() {
    const t = this.t;
    const s = this.session;
    const ordered = [...this.messages.values()].sort((a, b) => a.message_id - b.message_id);
    return {
      status: s ? s.status : "none",
      statusText: this.statusText(),
      queueText: s && s.status === "waiting" && this.queue ? queueText(t, this.queue) : "",
      queuePosition: this.queue && s && s.status === "waiting" ? this.queue.position : 0,
      canEnd: Boolean(s) && s.status !== "closed",
      connection: this.connection,
      connectionText: t(CONNECTION_TEXT[this.connection] || "conn.connecting"),
      typingText: this.typing ? t("h5.agent_typing") : "",
      notice: this.notice,
      items: [...ordered.map((m) => this.item(m)), ...this.pending.map((p) => this.pendingItem(p))],
      lastKey: ordered.length ? `m${ordered[ordered.length - 1].message_id}` : "",
    };
  }

  changed() {
    this.onChange(this.view());
  }
}

module.exports = { ChatLogic, queueText, waitText, BASE };
