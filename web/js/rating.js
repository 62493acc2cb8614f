// The H5 page's satisfaction prompt: when the session shown is closed, its user is asked to rate it (1-5 stars,
// an optional comment). Once rated: thanks, the score, and a "change" button while the service still allows it
// (`editable_until`, CHAT_RATING_EDIT_SECONDS). REST: GET/PUT /my/sessions/{id}/rating (chat-svc ratings_api).
import { ApiError, describeError } from "./api.js";
import { t } from "./i18n.js";
import { busy, h } from "./ui.js";

const SCORES = [1, 2, 3, 4, 5];

export class RatingPrompt {
  /** `call(path, options)`: the page's authenticated REST call. */
  constructor(node, call) {
    this.node = node;
    this.call = call;
    this.sessionId = null;
    this.version = 0;
  }

  path() {
    return `/api/v4/customer-service/my/sessions/${this.sessionId}/rating`;
  }

  /** The session the page shows changed: prompt for a closed one (once per session), hide otherwise. */
  async show(session) {
    if (!session || session.status !== "closed") return this.hide();
    if (this.sessionId === session.session_id) return;
    this.sessionId = session.session_id;
    const version = ++this.version;
    let rating = null;
    try {
      rating = await this.call(this.path());
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        if (version === this.version) this.hide();
        return;
      }
    }
    if (version !== this.version) return;
    if (rating) this.renderThanks(rating);
    else this.renderForm(null);
  }

  hide() {
    this.sessionId = null;
    this.version += 1;
    this.node.hidden = true;
    this.node.replaceChildren();
  }

  renderForm(rating) {
    let score = rating ? rating.score : 0;
    const stars = SCORES.map((n) => h("button", {
      className: "rating-star", testid: `rating-star-${n}`, text: "★",
      attrs: { type: "button", "aria-label": t("rating.score", { count: n }), "aria-pressed": "false" },
      onClick: () => { score = n; paint(); submit.disabled = false; },
    }));
    const paint = () => stars.forEach((star, i) => {
      star.dataset.on = String(i < score);
      star.setAttribute("aria-pressed", String(i + 1 === score));
    });
    const comment = h("textarea", { testid: "rating-comment", attrs: { maxlength: 500, rows: 2, placeholder: t("rating.comment_placeholder") } });
    comment.value = rating && rating.comment ? rating.comment : "";
    const error = h("div", { className: "notice", testid: "rating-error", attrs: { role: "alert" } });
    const submit = h("button", { className: "primary", testid: "rating-submit", text: t("rating.submit"), attrs: { type: "submit", disabled: score === 0 } });
    const form = h("form", { className: "rating-form", testid: "rating-form" },
      h("div", { className: "rating-question", text: t("rating.question") }),
      h("div", { className: "rating-stars", attrs: { role: "group", "aria-label": t("rating.question") } }, stars),
      comment, error, submit);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (score) this.send(submit, error, score, comment.value);
    });
    paint();
    this.node.replaceChildren(form);
    this.node.hidden = false;
  }

  async send(button, error, score, comment) {
    const version = this.version;
    await busy(button, async () => {
      try {
        const rating = await this.call(this.path(), { method: "PUT", body: { score, comment: comment.trim() || null } });
        if (version === this.version) this.renderThanks(rating);
      } catch (err) {
        if (version === this.version) error.textContent = describeError(err);
      }
    });
  }

  renderThanks(rating) {
    const editable = Date.now() < Date.parse(rating.editable_until);
    this.node.replaceChildren(h("div", { className: "rating-done", testid: "rating-done", dataset: { score: rating.score } },
      h("span", { text: t("rating.thanks", { count: rating.score }) }),
      rating.comment ? h("span", { className: "muted", text: ` ${rating.comment}` }) : null,
      editable ? h("button", { className: "link", testid: "rating-edit", text: t("rating.edit"), attrs: { type: "button" },
        onClick: () => this.renderForm(rating) }) : null));
    this.node.hidden = false;
  }
}

/** The admin console: the user's rating of a closed session under the conversation ("用户评价：4 星 · 很快"), or
 * nothing (open session, not rated, or unreadable). GET /sessions/{id}/rating. */
export async function showSessionRating(node, call, session) {
  node.hidden = true;
  node.replaceChildren();
  node.dataset.sessionId = String(session.session_id);
  if (session.status !== "closed") return;
  let rating;
  try {
    rating = await call(`/api/v4/customer-service/sessions/${session.session_id}/rating`);
  } catch {
    return; // 404 not_rated: nothing to show
  }
  if (node.dataset.sessionId !== String(session.session_id)) return; // another session is shown by now
  node.dataset.score = String(rating.score);
  node.append(t("rating.admin_line", { count: rating.score }), rating.comment ? h("span", { className: "muted", text: ` · ${rating.comment}` }) : "");
  node.hidden = false;
}
