// Signed URLs of chat pictures (the mini program's port of web/js/picture-links.js). A picture message carries
// only its attachment_id; its URLs are signed for a few minutes (CHAT_ATTACHMENT_URL_TTL_SECONDS), so we keep
// each attachment's last links, ask for fresh ones when they are close to expiring or an <image> failed, and ask
// once per picture however many bubbles want it at the same moment. URLs are made absolute against the base URL
// (a mini program's <image> has no origin to resolve a path against).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An image message whose content is an uploaded picture (older ones hold an external URL, shown as text). */
function isPictureMessage(m) {
  return Boolean(m) && m.message_type === "image" && UUID.test(String(m.message_content));
}

function absolute(baseUrl, url) {
  return /^https?:\/\//.test(url) ? url : `${baseUrl}${url}`;
}

class PictureLinks {
  /**
   * @param {(sessionId: number, attachmentId: string) => Promise<object>} fetchLinks  GET .../attachments/{id}
   * @param {{baseUrl: string, marginMs?: number, now?: () => number}} options
   */
  constructor(fetchLinks, { baseUrl, marginMs = 60000, now = () => Date.now() }) {
    this.fetchLinks = fetchLinks;
    this.baseUrl = baseUrl;
    this.marginMs = marginMs;
    this.now = now;
    this.known = new Map();
    this.asking = new Map();
  }

  put(attachment) {
    if (attachment && attachment.attachment_id) this.known.set(attachment.attachment_id, attachment);
  }

  fresh(attachment) {
    return Boolean(attachment) && Date.parse(attachment.expires_at) - this.now() > this.marginMs;
  }

  /** {thumb, full} URLs good for at least marginMs, or null when not known yet (then `get` them). */
  urls(attachmentId) {
    const known = this.known.get(attachmentId);
    if (!this.fresh(known)) return null;
    return { thumb: absolute(this.baseUrl, known.thumbnail_url), full: absolute(this.baseUrl, known.url) };
  }

  get(sessionId, attachmentId) {
    const known = this.known.get(attachmentId);
    if (this.fresh(known)) return Promise.resolve(known);
    return this.refresh(sessionId, attachmentId);
  }

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

module.exports = { PictureLinks, isPictureMessage, absolute };
