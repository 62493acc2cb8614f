// A waiting user's place in the queue on the H5 page: "您前面还有 2 位 · 预计等待约 2 分钟", live.
// Sources: GET /my/sessions/{id}/queue when the page (re)loads a waiting session, then `chat:queue_update`.
// A REST answer that arrives after a live update is older than it and is dropped.
import { formatWait } from "./time-format.js";
import { t } from "./i18n.js";

export class QueueView {
  constructor(node) {
    this.node = node;
    this.sessionId = null;
    this.version = 0;
  }

  /** Show the place of `sessionId` read over REST by `load()` (a promise of QueueUpdateData). */
  async follow(sessionId, load) {
    this.sessionId = sessionId;
    const version = ++this.version;
    try {
      const place = await load();
      if (version === this.version) this.render(place);
    } catch {
      if (version === this.version) this.hide(); // no longer waiting (409) or unreadable: the status line says enough
    }
  }

  /** A live `chat:queue_update`; others' sessions are not ours to show. */
  update(place) {
    if (place.session_id !== this.sessionId) return;
    this.version += 1;
    this.render(place);
  }

  render(place) {
    const ahead = place.position - 1;
    const line = ahead > 0 ? t("h5.queue.ahead", { count: ahead }) : t("h5.queue.next");
    this.node.textContent = t("h5.queue.line", { place: line, wait: formatWait(place.estimated_wait_seconds, { t }) });
    this.node.dataset.position = String(place.position);
    this.node.hidden = false;
  }

  hide() {
    this.sessionId = null;
    this.version += 1;
    this.node.hidden = true;
    delete this.node.dataset.position;
  }
}
