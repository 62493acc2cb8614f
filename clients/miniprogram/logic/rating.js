// Satisfaction: when the session the chat page shows is closed, its user is asked to rate it (1-5 stars, an
// optional comment), as on the H5 page (web/js/rating.js), over chat-svc's ratings API (ratings_api.py):
// - `GET /my/sessions/{id}/rating`: already rated -> thanks, the score, the comment; 404 (`not_rated`) -> the form;
//   any other error -> nothing shown (the prompt is not worth an error line in the chat);
// - `PUT /my/sessions/{id}/rating {score, comment}`: the first rating, or a change while `editable_until` (the
//   service's CHAT_RATING_EDIT_SECONDS) is ahead: "修改评价" is offered until then and goes away when it passes;
//   a refusal (409 `rating_locked`, `session_not_closed`, 422 comment too long, network) is said under the form in
//   the catalogue's words, the form kept.
// The page calls `show(session)` whenever the session shown may have changed: asked once per session (the same
// session again does nothing), hidden for an open one. Plain CommonJS, no wx: Node's tests drive it.
const { describeError } = require("../i18n/index.js");

const BASE = "/api/v4/customer-service";
const SCORES = [1, 2, 3, 4, 5];
const STAR = "★";
const COMMENT_MAX_CHARS = 500; // chat-svc's CHAT_RATING_COMMENT_MAX_CHARS default: the textarea's maxlength

const ratingPath = (sessionId) => `${BASE}/my/sessions/${sessionId}/rating`;

class RatingLogic {
  /**
   * @param {{services: object, onChange?: (view: object) => void, now?: () => number, setTimer?: Function,
   *          clearTimer?: Function}} deps services: t, api (logic/services.js)
   */
  constructor({ services, onChange = () => {}, now = Date.now, setTimer = setTimeout, clearTimer = clearTimeout }) {
    this.t = services.t;
    this.api = services.api;
    this.onChange = onChange;
    this.now = now;
    this.setTimer = setTimer;
    this.clearTimer = clearTimer;
    this.sessionId = 0; // the closed session asked about (0: none, hidden)
    this.version = 0; // answers for an earlier session are dropped
    this.mode = "hidden"; // "hidden" | "form" | "done"
    this.rating = null; // RatingData once rated
    this.score = 0; // the form's stars
    this.comment = "";
    this.error = "";
    this.sending = false;
    this.lockTimer = null; // hides "修改评价" when editable_until passes
  }

  /** The session shown changed (or was updated): a closed one is asked about once, anything else hides. */
  async show(session) {
    if (!session || session.status !== "closed") {
      if (this.mode !== "hidden" || this.sessionId) this.hide();
      return;
    }
    if (this.sessionId === session.session_id) return;
    this.reset();
    this.sessionId = session.session_id;
    const version = this.version;
    let rating = null;
    try {
      rating = await this.api.request(ratingPath(this.sessionId));
    } catch (err) {
      if (version !== this.version) return;
      if (err.status !== 404) { // not rated answers 404 `not_rated`; anything else: no prompt
        this.mode = "hidden";
        this.changed();
        return;
      }
    }
    if (version !== this.version) return;
    if (rating) this.done(rating);
    else this.mode = "form";
    this.changed();
  }

  hide() {
    this.reset();
    this.changed();
  }

  reset() {
    this.version += 1;
    this.sessionId = 0;
    this.mode = "hidden";
    this.rating = null;
    this.score = 0;
    this.comment = "";
    this.error = "";
    this.sending = false;
    this.unlockTimer();
  }

  /** A star was tapped. */
  pick(score) {
    const n = Number(score);
    if (this.mode !== "form" || !SCORES.includes(n)) return;
    this.score = n;
    this.changed();
  }

  /** The comment was typed (kept as typed; trimmed when sent, blank is none). */
  type(comment) {
    this.comment = String(comment || "");
  }

  get editable() {
    return Boolean(this.rating) && this.now() < Date.parse(this.rating.editable_until);
  }

  /** "修改评价": the form again with the rating given, while the service still allows a change. */
  edit() {
    if (this.mode !== "done" || !this.editable) return;
    this.mode = "form";
    this.score = this.rating.score;
    this.comment = this.rating.comment || "";
    this.error = "";
    this.changed();
  }

  /** The submit tap: PUT the score and comment; thanks on success, the reason under the form otherwise. */
  async submit() {
    if (this.mode !== "form" || !this.score || this.sending) return "skipped";
    const version = this.version;
    this.sending = true;
    this.error = "";
    this.changed();
    let outcome;
    try {
      const rating = await this.api.request(ratingPath(this.sessionId), {
        method: "PUT", body: { score: this.score, comment: this.comment.trim() || null },
      });
      if (version !== this.version) return "stale";
      this.done(rating);
      outcome = "rated";
    } catch (err) {
      if (version !== this.version) return "stale";
      this.error = describeError(this.t, err);
      outcome = err.code || "failed";
    }
    this.sending = false;
    this.changed();
    return outcome;
  }

  done(rating) {
    this.rating = rating;
    this.mode = "done";
    this.score = rating.score;
    this.error = "";
    this.unlockTimer();
    const left = Date.parse(rating.editable_until) - this.now();
    if (left > 0) {
      this.lockTimer = this.setTimer(() => {
        this.lockTimer = null;
        this.changed(); // "修改评价" goes away (a form left open gets the service's `rating_locked` on submit)
      }, left);
    }
  }

  unlockTimer() {
    if (this.lockTimer) this.clearTimer(this.lockTimer);
    this.lockTimer = null;
  }

  stop() {
    this.version += 1;
    this.unlockTimer();
  }

  view() {
    const t = this.t;
    const view = {
      show: this.mode !== "hidden", mode: this.mode, sessionId: this.sessionId, score: this.score,
      question: t("rating.question"), placeholder: t("rating.comment_placeholder"), comment: this.comment,
      maxChars: COMMENT_MAX_CHARS, submitText: this.sending ? t("mp.rating.sending") : t("rating.submit"),
      canSubmit: this.mode === "form" && this.score > 0 && !this.sending, error: this.error,
      stars: SCORES.map((n) => ({ n, glyph: STAR, on: n <= this.score, label: t("rating.score", { count: n }) })),
      thanksText: "", savedComment: "", canEdit: false, editText: t("rating.edit"),
    };
    if (this.mode === "done") {
      view.thanksText = t("rating.thanks", { count: this.rating.score });
      view.savedComment = this.rating.comment || "";
      view.canEdit = this.editable;
    }
    return view;
  }

  changed() {
    this.onChange(this.view());
  }
}

module.exports = { RatingLogic, ratingPath, COMMENT_MAX_CHARS };
