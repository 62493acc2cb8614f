// The past sessions page's logic (GET /api/v4/customer-service/my/sessions, newest activity first, paged).
const { describeError } = require("../i18n/index.js");

const BASE = "/api/v4/customer-service";
const PAGE_SIZE = 20;
const IMAGE_PREVIEW = "[image]"; // chat-svc's stored last_message of a picture

class SessionsLogic {
  constructor({ services, onChange = () => {}, pageSize = PAGE_SIZE }) {
    this.services = services;
    this.t = services.t;
    this.onChange = onChange;
    this.pageSize = pageSize;
    this.sessions = [];
    this.page = 0;
    this.total = 0;
    this.error = "";
    this.loading = false;
  }

  /** The first page again. */
  reload() {
    this.sessions = [];
    this.page = 0;
    return this.more();
  }

  /** The next page. */
  async more() {
    if (this.loading) return;
    this.loading = true;
    try {
      const page = await this.services.api.request(`${BASE}/my/sessions?page=${this.page + 1}&page_size=${this.pageSize}`);
      const known = new Set(this.sessions.map((s) => s.session_id));
      this.sessions.push(...page.items.filter((s) => !known.has(s.session_id)));
      this.page = page.page;
      this.total = page.total;
      this.error = "";
    } catch (err) {
      if (err.status !== 401) this.error = this.t("mp.sessions.load_failed", { reason: describeError(this.t, err) });
    }
    this.loading = false;
    this.onChange(this.view());
  }

  view() {
    const t = this.t;
    return {
      items: this.sessions.map((s) => ({
        key: `s${s.session_id}`, id: s.session_id, status: s.status,
        title: t("mp.sessions.line", { id: s.session_id, status: t(`session_status.${s.status}`) }),
        last: s.last_message === IMAGE_PREVIEW ? t("chat.picture") : s.last_message || "",
        time: String(s.updated_at || s.created_at || "").replace("T", " ").slice(0, 16),
      })),
      empty: !this.loading && !this.error && this.sessions.length === 0,
      emptyText: t("mp.sessions.empty"),
      hasMore: this.sessions.length < this.total,
      moreText: t("mp.sessions.more"),
      error: this.error,
    };
  }
}

module.exports = { SessionsLogic };
