// Signed URLs of chat pictures, free of the DOM (unit-tested under Node). A picture message carries only its
// attachment_id; its URLs are signed for a few minutes (chat-svc, CHAT_ATTACHMENT_URL_TTL_SECONDS), so a page
// keeps each attachment's last links, asks for fresh ones when they are close to expiring or an <img> failed,
// and asks once for each picture however many bubbles want it at the same moment.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const IMAGE_PREVIEW = "[image]"; // chat-svc's stored last_message of a picture (chat_svc.store.IMAGE_PREVIEW)

/** An image message whose content is an uploaded picture (older ones hold an external URL, shown as text). */
export function isPictureMessage(m) {
  return Boolean(m) && m.message_type === "image" && UUID.test(String(m.message_content));
}

/** The files among what was picked, pasted or dropped. All of them go up: chat-svc judges a picture by its
 * bytes (not its name or declared type) and says in its error code why it refuses one. */
export function filesIn(list) {
  return [...(list || [])].filter((file) => file && typeof file.size === "number" && "name" in file);
}

/** A session's last_message for people: the stored picture marker becomes the catalogue's word. */
export function previewText(lastMessage, t) {
  return lastMessage === IMAGE_PREVIEW ? t("chat.picture") : lastMessage;
}

export class PictureLinks {
  /**
   * @param {(sessionId: number, attachmentId: string) => Promise<object>} fetchLinks  GET .../attachments/{id}
   * @param {{marginMs?: number, now?: () => number}} options  links expiring within marginMs are renewed first
   */
  constructor(fetchLinks, { marginMs = 60_000, now = () => Date.now() } = {}) {
    this.fetchLinks = fetchLinks;
    this.marginMs = marginMs;
    this.now = now;
    this.known = new Map(); // attachment_id -> the attachment with its signed URLs
    this.asking = new Map(); // attachment_id -> the request on its way
  }

  /** Keeps links we were given (an upload's answer). */
  put(attachment) {
    if (attachment && attachment.attachment_id) this.known.set(attachment.attachment_id, attachment);
  }

  fresh(attachment) {
    return Boolean(attachment) && Date.parse(attachment.expires_at) - this.now() > this.marginMs;
  }

  /** Links good for at least marginMs more: the known ones, else one request shared by every caller. */
  get(sessionId, attachmentId) {
    const known = this.known.get(attachmentId);
    if (this.fresh(known)) return Promise.resolve(known);
    return this.refresh(sessionId, attachmentId);
  }

  /** New links whatever we hold (an <img> failed with the ones we had). */
  refresh(sessionId, attachmentId) {
    let asking = this.asking.get(attachmentId);
    if (!asking) {
      asking = Promise.resolve()
        .then(() => this.fetchLinks(sessionId, attachmentId))
        .then((attachment) => {
          this.put(attachment);
          return attachment;
        })
        .finally(() => this.asking.delete(attachmentId));
      this.asking.set(attachmentId, asking);
    }
    return asking;
  }
}
