// admin/customer-service.html: the customer panel beside the conversation. The open session's user: id, tier (VIP),
// first contact, number of sessions, and their earlier sessions with their newest messages, loaded page by page as
// the agent scrolls the panel (GET /customers/{id}/sessions, `before` cursor = a session id).
import { describeError } from "./api.js";
import { systemText, t } from "./i18n.js";
import { previewText } from "./picture-links.js";
import { fmtTime, h, timeNode } from "./ui.js";

const CUSTOMERS = "/api/v4/customer-service/customers";
const PAGE = 5;

function messageLine(m) {
  const text = m.message_type === "system" ? systemText(m.system_code, m.system_params, m.message_content)
    : m.message_type === "image" ? t("chat.picture") : previewText(m.message_content, t);
  const who = m.message_type === "system" ? "" : m.sender_type === "user" ? t("panel.user_said") : t("cs.admin", { id: m.sender_id });
  return h("li", { className: `past-msg past-${m.message_type === "system" ? "system" : m.sender_type}`, testid: "past-message" },
    who ? h("span", { className: "who", text: who }) : null, h("span", { text }));
}

function pastSession(item, open) {
  const s = item.session;
  return h("li", { className: "past-session", testid: "past-session", dataset: { sessionId: s.session_id } },
    h("div", { className: "past-head" },
      h("button", { className: "link", testid: "past-session-open", text: t("panel.session", { id: s.session_id }), attrs: { type: "button" },
        onClick: () => open(s.session_id) }),
      h("span", { className: `status status-${s.status}`, text: t(`session_status.${s.status}`) }),
      timeNode(s.created_at, { className: "time" })),
    h("ul", { className: "past-messages" }, ...item.messages.map(messageLine)),
    item.more_messages ? h("div", { className: "muted", text: t("panel.more_messages") }) : null);
}

/** Adds the panel to `grid` (the console's two columns become three); returns {show(session)}. */
export function bindCustomerPanel({ call, grid, open }) {
  const summary = h("dl", { className: "customer-summary", testid: "customer-summary" });
  const list = h("ul", { className: "past-sessions", testid: "past-sessions" });
  const status = h("div", { className: "muted", testid: "past-sessions-status" });
  const panel = h("aside", { className: "customer-panel", testid: "customer-panel", attrs: { "aria-label": t("panel.title") } },
    h("h2", { text: t("panel.title") }), summary, h("h3", { text: t("panel.earlier") }), list, status);
  panel.hidden = true;
  grid.append(panel);
  grid.classList.add("with-customer-panel");
  let current = null; // {userId, before, hasMore, loading, version}
  let version = 0;

  function field(label, value, testid) {
    return [h("dt", { text: label }), h("dd", { testid, text: value })];
  }

  async function more() {
    const c = current;
    if (!c || !c.hasMore || c.loading) return;
    c.loading = true;
    status.textContent = t("panel.loading");
    try {
      const page = await call(`${CUSTOMERS}/${c.userId}/sessions?before=${c.before}&limit=${PAGE}`);
      if (c.version !== version) return;
      list.append(...page.items.map((item) => pastSession(item, open)));
      c.hasMore = page.has_more;
      c.before = page.next_before;
      status.textContent = list.children.length ? (c.hasMore ? "" : t("panel.no_more")) : t("panel.none");
      status.dataset.done = String(!c.hasMore);
    } catch (err) {
      status.textContent = t("panel.load_failed", { reason: describeError(err) });
    } finally {
      c.loading = false;
    }
    if (c.hasMore && panel.scrollHeight <= panel.clientHeight + 40) more(); // fill the panel before it can scroll
  }

  panel.addEventListener("scroll", () => {
    if (panel.scrollTop + panel.clientHeight >= panel.scrollHeight - 80) more();
  });

  async function show(s) {
    version += 1;
    current = { userId: s.user_id, before: s.session_id, hasMore: true, loading: false, version };
    panel.hidden = false;
    list.replaceChildren();
    summary.replaceChildren();
    panel.dataset.userId = String(s.user_id);
    try {
      const c = current;
      const info = await call(`${CUSTOMERS}/${s.user_id}/summary`);
      if (c.version !== version) return;
      summary.replaceChildren(
        ...field(t("panel.user"), t("cs.user", { id: info.user_id }), "customer-id"),
        ...field(t("panel.tier"), t(`panel.tier.${info.tier}`), "customer-tier"),
        ...field(t("panel.first_contact"), info.first_contact_at ? fmtTime(info.first_contact_at, { relative: false }) : "—", "customer-first-contact"),
        ...field(t("panel.sessions_count"), String(info.sessions_count), "customer-sessions-count"));
      summary.dataset.tier = info.tier;
    } catch (err) {
      status.textContent = t("panel.load_failed", { reason: describeError(err) });
    }
    more();
  }

  return { show };
}
