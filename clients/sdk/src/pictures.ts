// Signed URLs of chat pictures, one implementation for the pages and the mini program. A picture message carries
// only its attachment_id; its URLs are signed for a few minutes (chat-svc, CHAT_ATTACHMENT_URL_TTL_SECONDS), so
// a client keeps each attachment's last links, asks for fresh ones when they are close to expiring or an image
// failed to load, and asks once for each picture however many bubbles want it at the same moment.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The signed links of one attachment, as chat-svc answers them (upload, GET .../attachments/{id}, history). */
export interface AttachmentLinks {
  attachment_id: string;
  url: string;
  thumbnail_url: string;
  expires_at: string;
}

/** An image message whose content is an uploaded picture (older ones hold an external URL, shown as text). */
export function isPictureMessage(m: { message_type?: string; message_content?: unknown } | null | undefined): boolean {
  return Boolean(m) && m!.message_type === "image" && UUID.test(String(m!.message_content));
}

/** `url` made absolute against `baseUrl` (a mini program's <image> has no origin to resolve a path against). */
export function absoluteUrl(baseUrl: string, url: string): string {
  return /^https?:\/\//.test(url) ? url : `${baseUrl}${url}`;
}

export interface PictureLinksOptions {
  /** Prefixed to the paths chat-svc signs (default "": the page's own origin). */
  baseUrl?: string;
  /** Links expiring within this many ms are renewed before use (default 60,000). */
  marginMs?: number;
  now?: () => number;
}

export type FetchLinks = (sessionId: number, attachmentId: string) => Promise<AttachmentLinks>;

export class PictureLinks {
  private readonly known = new Map<string, AttachmentLinks>();
  private readonly asking = new Map<string, Promise<AttachmentLinks>>();
  private readonly baseUrl: string;
  private readonly marginMs: number;
  private readonly now: () => number;

  /** `fetchLinks`: GET .../sessions/{sessionId}/attachments/{attachmentId}. */
  constructor(private readonly fetchLinks: FetchLinks, options: PictureLinksOptions = {}) {
    this.baseUrl = options.baseUrl ?? "";
    this.marginMs = options.marginMs ?? 60_000;
    this.now = options.now ?? (() => Date.now());
  }

  /** Keeps links we were given (an upload's answer, a history page's). */
  put(attachment: AttachmentLinks | null | undefined): void {
    if (attachment && attachment.attachment_id) this.known.set(attachment.attachment_id, attachment);
  }

  fresh(attachment: AttachmentLinks | null | undefined): boolean {
    return Boolean(attachment) && Date.parse(attachment!.expires_at) - this.now() > this.marginMs;
  }

  /** {thumb, full} URLs good for at least marginMs more, or null when none are known (then `get` them). */
  urls(attachmentId: string): { thumb: string; full: string } | null {
    const known = this.known.get(attachmentId);
    if (!known || !this.fresh(known)) return null;
    return { thumb: absoluteUrl(this.baseUrl, known.thumbnail_url), full: absoluteUrl(this.baseUrl, known.url) };
  }

  /** Links good for at least marginMs more: the known ones, else one request shared by every caller. */
  get(sessionId: number, attachmentId: string): Promise<AttachmentLinks> {
    const known = this.known.get(attachmentId);
    if (known && this.fresh(known)) return Promise.resolve(known);
    return this.refresh(sessionId, attachmentId);
  }

  /** New links whatever we hold (an image failed with the ones we had). A refusal is not remembered. */
  refresh(sessionId: number, attachmentId: string): Promise<AttachmentLinks> {
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
