// admin/customer-service.html: search every session's messages by words (Chinese or English, all required), a
// user id and a range of Beijing days (GET /search, newest first, "more" pages back with the `before` cursor); a
// hit opens its session at the matching message, highlighted.
import { describeError } from "./api.js";
import { t } from "./i18n.js";
import { previewText } from "./picture-links.js";
import { h, timeNode } from "./ui.js";

const SEARCH = "/api/v4/customer-service/search";
const PAGE = 20;

function preview(m) {
  const picture = m.message_type === "image";
  return picture ? t("chat.picture") : previewText(m.message_content, t);
}

/** Adds the search box at the top of `side`; `openAt(sessionId, messageId)` opens a hit. */
export function bindSearch({ call, side, openAt }) {
  const words = h("input", { testid: "search-words", attrs: { type: "search", maxlength: 100, placeholder: t("search.words"), "aria-label": t("search.words") } });
  const user = h("input", { testid: "search-user", attrs: { type: "number", min: 1, step: 1, placeholder: t("search.user"), "aria-label": t("search.user") } });
  const from = h("input", { testid: "search-from", attrs: { type: "date", "aria-label": t("search.from"), title: t("search.from") } });
  const to = h("input", { testid: "search-to", attrs: { type: "date", "aria-label": t("search.to"), title: t("search.to") } });
  const submit = h("button", { className: "primary", testid: "search-submit", text: t("search.submit"), attrs: { type: "submit" } });
  const results = h("ul", { className: "search-results", testid: "search-results" });
  const status = h("div", { className: "muted", testid: "search-status" });
  const moreButton = h("button", { className: "link", testid: "search-more", text: t("search.more"), attrs: { type: "button" } });
  moreButton.hidden = true;
  const form = h("form", { className: "search-form", testid: "search-form", attrs: { role: "search" } },
    words, h("div", { className: "search-filters" }, user, from, to), submit);
  const box = h("details", { className: "search", testid: "search-panel" },
    h("summary", { text: t("search.title") }), form, status, results, moreButton);
  side.prepend(box);
  let last = null; // the params of the current search and its cursor

  function hit(item) {
    const m = item.message;
    return h("li", { className: "search-hit", testid: "search-hit", dataset: { sessionId: m.session_id, messageId: m.message_id },
      attrs: { tabindex: 0 }, onClick: () => openAt(m.session_id, m.message_id) },
    h("div", {}, h("span", { className: "who", text: t("search.hit_where", { session: m.session_id, user: item.session.user_id }) }),
      timeNode(m.created_at, { className: "time" })),
    h("div", { className: "preview", text: preview(m) }));
  }

  async function run(params, append) {
    submit.disabled = true;
    try {
      const query = new URLSearchParams({ ...params, limit: String(PAGE) });
      const page = await call(`${SEARCH}?${query}`);
      if (!append) results.replaceChildren();
      results.append(...page.items.map(hit));
      last = { params, before: page.next_before };
      moreButton.hidden = !page.has_more;
      status.textContent = results.children.length ? t("search.count", { count: results.children.length }) : t("search.none");
    } catch (err) {
      status.textContent = t("search.failed", { reason: describeError(err) });
    } finally {
      submit.disabled = false;
    }
  }

  results.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.dataset.testid === "search-hit") event.target.click();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const params = {};
    if (words.value.trim()) params.q = words.value.trim();
    if (user.value) params.user_id = user.value;
    if (from.value) params.date_from = from.value;
    if (to.value) params.date_to = to.value;
    if (!params.q && !params.user_id) {
      status.textContent = t("search.need_words");
      return;
    }
    run(params, false);
  });
  moreButton.addEventListener("click", () => {
    if (last && last.before) run({ ...last.params, before: String(last.before) }, true);
  });
}
