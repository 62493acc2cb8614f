// The message list shared by the customer-service console and the H5 chat page: history (older pages
// prepended), live messages (deduplicated by message_id), own messages with their delivery state
// (sending -> sent, or failed with a retry), system lines (drawn from their code + params in the page's language,
// i18n.systemText), and the "is typing" line.
// Message content is text, or a picture uploaded to the session (its thumbnail, from short-lived signed URLs:
// picture-links.js / picture-view.js). Images are never fetched from a message's URL (that would tell any host
// the reader's address and reading time): an older image message shows its URL as text, marked as an image.
import { systemText, t } from "./i18n.js";
import { isPictureMessage } from "/sdk/index.js";
import { pictureNode } from "./picture-view.js";
import { h, timeNode } from "./ui.js";

const TYPING_SHOW_MS = 3000;

export class ChatView {
  /**
   * @param {HTMLElement} listEl     the scrolling list
   * @param {HTMLElement} typingEl   the "is typing" line
   * @param {{type: "admin"|"user", id: number}} me
   * @param {(m: object) => string} whoLabel  the name shown for someone else's message
   * @param {{pictures?: import("/sdk/index.js").PictureLinks}} options  without `pictures`, a picture
   *   message shows as the word for a picture
   */
  constructor(listEl, typingEl, me, whoLabel, { pictures = null } = {}) {
    this.listEl = listEl;
    this.typingEl = typingEl;
    this.me = me;
    this.whoLabel = whoLabel;
    this.pictures = pictures;
    this.ids = new Set();
    this.typingTimer = null;
    this.atBottom = true; // where the reader was before the last thumbnail grew the list
    listEl.addEventListener("scroll", () => { this.atBottom = this.nearBottom(); });
    this.peerReadUpTo = 0; // the other side has read every message up to this id (chat:read)
  }

  /** Empties the list before the conversation is shown again. `keepPending`: the same conversation is reloaded
   * (a reconnect, an event that it opened): our messages still on their way keep their bubbles, so a reload that
   * read the history just before one of them was stored does not make it vanish; its ack, echo or the history
   * settles the bubble as before. */
  clear({ keepPending = false } = {}) {
    const pending = keepPending
      ? [...this.listEl.querySelectorAll('[data-state="sending"], [data-state="failed"]')].filter((n) => !Number(n.dataset.messageId))
      : [];
    this.ids.clear();
    this.peerReadUpTo = 0;
    this.listEl.replaceChildren(...pending);
    this.hideTyping();
  }

  isMine(m) {
    return m.sender_type === this.me.type && m.sender_id === this.me.id && m.message_type !== "system";
  }

  nearBottom() {
    const l = this.listEl;
    return l.scrollHeight - l.scrollTop - l.clientHeight < 80;
  }

  scrollToBottom() {
    this.listEl.scrollTop = this.listEl.scrollHeight;
  }

  render(m, state = "sent") {
    const system = m.message_type === "system";
    const mine = !system && this.isMine(m);
    const body = this.body(m, state);
    const meta = system ? null : h("div", { className: "meta", testid: "message-meta" });
    const node = h("div", {
      className: `msg ${system ? "system" : mine ? "mine" : "theirs"}`, testid: "message",
      dataset: { messageId: m.message_id || "", senderType: m.sender_type, messageType: m.message_type, state },
    }, body, meta);
    node.chatMessage = m;
    this.setMeta(node, state);
    return node;
  }

  /** The bubble: text, a picture's thumbnail, or an upload's progress. */
  body(m, state) {
    if (m.message_type === "system") {
      return h("div", { className: "bubble", testid: "message-text",
        text: systemText(m.system_code, m.system_params, m.message_content) });
    }
    if (m.message_type !== "image") return h("div", { className: "bubble", testid: "message-text", text: m.message_content });
    if (isPictureMessage(m)) {
      if (this.pictures && m.attachment) this.pictures.put(m.attachment); // a history page's signed URLs
      if (!this.pictures) return h("div", { className: "bubble", testid: "message-text", text: t("chat.picture") });
      const onLoad = () => { if (this.atBottom) this.scrollToBottom(); };
      return h("div", { className: "bubble picture-bubble", testid: "message-text" }, pictureNode(m, this.pictures, { onLoad }));
    }
    if (state === "sending" && !m.message_content) {
      return h("div", { className: "bubble", testid: "message-text", dataset: { role: "upload" },
        text: t("chat.picture_uploading", { percent: 0 }) });
    }
    return h("div", { className: "bubble", testid: "message-text", text: t("chat.image_url", { url: m.message_content }) });
  }

  setMeta(node, state, errorText = "") {
    node.dataset.state = state;
    const meta = node.querySelector(".meta");
    if (!meta) return;
    const m = node.chatMessage;
    const who = this.isMine(m) ? t("chat.you") : this.whoLabel(m);
    const parts = [who, m.created_at ? timeNode(m.created_at, { testid: "message-time" }) : null].filter(Boolean);
    const line = parts.flatMap((part, i) => (i ? [" · ", part] : [part]));
    if (state === "sending") {
      const resend = Number(node.dataset.resend || 0);
      meta.replaceChildren(...line, " · ", resend ? t("chat.resending", { attempt: resend }) : t("chat.sending"));
    }
    else if (state === "failed") meta.replaceChildren(t("chat.not_sent", { reason: errorText }), " ", node.retryButton || "");
    else if (this.isMine(m)) {
      const read = Boolean(m.message_id) && m.message_id <= this.peerReadUpTo;
      node.dataset.read = String(read);
      meta.replaceChildren(...line, " · ", t("chat.sent"), " · ",
        h("span", { className: "read-state", testid: "message-read-state", text: read ? t("chat.read") : t("chat.unread") }));
    } else meta.replaceChildren(...line);
  }

  /** The other side has read up to `messageId` (from the session, or a live `chat:read`): "已读" ticks on my
   * messages up to it. The position only moves forward. */
  setPeerRead(messageId) {
    if (!messageId || messageId <= this.peerReadUpTo) return;
    this.peerReadUpTo = messageId;
    for (const node of this.listEl.querySelectorAll('[data-state="sent"]')) {
      if (this.isMine(node.chatMessage)) this.setMeta(node, "sent");
    }
  }

  /** The newest message shown (0: none): what "I have read up to" points at. */
  newestShown() {
    return Math.max(0, ...[...this.listEl.querySelectorAll('[data-testid="message"]')].map((n) => Number(n.dataset.messageId) || 0));
  }

  /** Older history (oldest -> newest) above what is shown, keeping the visible part in place. */
  prepend(messages) {
    const before = this.listEl.scrollHeight;
    const nodes = messages.filter((m) => !this.ids.has(m.message_id)).map((m) => {
      this.ids.add(m.message_id);
      return this.render(m);
    });
    this.listEl.prepend(...nodes);
    this.listEl.scrollTop += this.listEl.scrollHeight - before;
  }

  /** A message from history or a live event; ignored if already shown. Returns true if added. */
  append(m) {
    if (this.ids.has(m.message_id)) return false;
    if (this.isMine(m)) {
      // Our own message echoed back before its ack: take over the pending bubble instead of a duplicate.
      const pending = [...this.listEl.querySelectorAll('[data-state="sending"]')]
        .find((n) => n.chatMessage.message_content === m.message_content);
      if (pending) {
        this.confirm(pending, m);
        return false;
      }
    }
    const stick = this.nearBottom();
    this.ids.add(m.message_id);
    this.insertInOrder(this.render(m), m.message_id);
    if (m.sender_type !== this.me.type) this.hideTyping();
    if (stick || this.isMine(m)) this.scrollToBottom();
    return true;
  }

  /** Live events and history pages can interleave: keep the list in message_id order (pending bubbles last). */
  insertInOrder(node, id) {
    let after = this.listEl.lastElementChild;
    while (after && (!Number(after.dataset.messageId) || Number(after.dataset.messageId) > id)) {
      after = after.previousElementSibling;
    }
    if (after) after.after(node);
    else this.listEl.prepend(node);
  }

  /** Takes a bubble away (e.g. a pending one replaced by a reload); its message may be shown again. */
  discard(node) {
    const id = Number(node.dataset.messageId);
    if (id) this.ids.delete(id);
    node.remove();
  }

  /** A bubble for a message being sent; `retry()` is offered if it fails. */
  addPending(content, retry) {
    const m = { message_id: 0, sender_type: this.me.type, sender_id: this.me.id, message_content: content,
      message_type: "text", created_at: "" };
    const node = this.render(m, "sending");
    node.retryButton = h("button", { className: "link", testid: "message-retry", text: t("chat.retry"), attrs: { type: "button" },
      onClick: () => { node.remove(); retry(); } });
    this.listEl.append(node);
    this.scrollToBottom();
    return node;
  }

  /** A bubble for a picture being uploaded then sent; `retry()` is offered if either fails. */
  addPendingPicture(sessionId, retry) {
    const m = { message_id: 0, session_id: sessionId, sender_type: this.me.type, sender_id: this.me.id,
      message_content: "", message_type: "image", created_at: "" };
    const node = this.render(m, "sending");
    node.retryButton = h("button", { className: "link", testid: "message-retry", text: t("chat.retry"), attrs: { type: "button" },
      onClick: () => { node.remove(); retry(); } });
    this.listEl.append(node);
    this.scrollToBottom();
    return node;
  }

  /** An upload's progress (0-100) in its pending bubble. */
  progress(node, percent) {
    const bubble = node.querySelector('[data-role="upload"]');
    if (bubble) bubble.textContent = t("chat.picture_uploading", { percent });
  }

  /** The upload is done: the pending bubble shows the picture while its message is sent. */
  uploaded(node, attachment) {
    if (this.pictures) this.pictures.put(attachment);
    node.chatMessage = { ...node.chatMessage, message_content: attachment.attachment_id };
    node.querySelector(".bubble").replaceWith(this.body(node.chatMessage, "sending"));
  }

  /** The ack of this message was lost (no answer in time, or the connection dropped): it is being sent again with
   * the same id (`attempt`: 1 for the first resend). The bubble stays "sending" and says so. */
  retrying(node, attempt) {
    if (node.dataset.state !== "sending") return;
    node.dataset.resend = String(attempt);
    this.setMeta(node, "sending");
  }

  confirm(node, m) {
    if (m && m.message_id && this.ids.has(m.message_id) && node.dataset.messageId !== String(m.message_id)) {
      node.remove(); // the live event already showed it in another bubble
      return;
    }
    if (m && m.message_id) {
      this.ids.add(m.message_id);
      node.dataset.messageId = String(m.message_id);
      node.chatMessage = { ...node.chatMessage, ...m };
    }
    this.setMeta(node, "sent");
  }

  fail(node, errorText) {
    const upload = node.querySelector('[data-role="upload"]');
    if (upload) upload.textContent = t("chat.picture");
    this.setMeta(node, "failed", errorText);
  }

  showTyping(text) {
    this.typingEl.textContent = text;
    this.typingEl.dataset.active = "true";
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typingEl.textContent = "";
    this.typingEl.dataset.active = "false";
  }
}

/** Sends `chat:typing` at most every `everyMs` while the person types. */
export function typingNotifier(client, getSessionId, everyMs = 2000) {
  let last = 0;
  return () => {
    const sessionId = getSessionId();
    const now = Date.now();
    if (!sessionId || !client.connected || now - last < everyMs) return;
    last = now;
    client.send("chat:typing", { session_id: sessionId });
  };
}
