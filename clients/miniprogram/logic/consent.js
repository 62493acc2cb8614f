// Consent to WeChat subscribe messages ("回复提醒"): when an agent replies while the user has no socket online,
// notification-svc sends one subscribe message per consent the user gave (services/notification-svc,
// subscriptions_api.py). The chat page asks with wx.requestSubscribeMessage, which WeChat shows only from a tap:
// - on the send button's tap, at most once per chat session, and only while no consent is left (`remaining` 0);
// - on the "reply reminders" control's tap, whenever the user asks for it.
// The answer is recorded over REST: GET /api/v4/notifications/wechat/subscriptions tells the template to ask for
// and the consents left (409 `wechat_reach_disabled`: the control is hidden), POST records an `accept`.
// A "reject", a "ban" or WeChat's subscriptions switched off (errCode 20004) stops the asking on send taps (kept
// with wx.setStorageSync, so a later launch does not ask again); the control still asks when tapped, except after
// "ban" (WeChat refuses the template: nothing the user can do). Nothing here ever blocks or fails a chat message.
const { describeError } = require("../i18n/index.js");

const PATH = "/api/v4/notifications/wechat/subscriptions";
const DECLINED_KEY = "platform.subscribe.declined";
const SWITCHED_OFF = 20004; // the user turned off subscribe messages for this mini program (设置 → 订阅消息)

/** wx.requestSubscribeMessage as a promise of {answer} ("accept", "reject", "ban", "filter") or {errCode}. */
function requestSubscribe(wx, templateId) {
  return new Promise((resolve) => {
    try {
      wx.requestSubscribeMessage({
        tmplIds: [templateId],
        success: (res) => resolve({ answer: res[templateId] || "" }),
        fail: (err) => resolve({ errCode: (err && err.errCode) || 0, errMsg: (err && err.errMsg) || "" }),
      });
    } catch (err) {
      resolve({ errCode: 0, errMsg: String(err && err.message) }); // a base library without the API
    }
  });
}

class SubscribeConsent {
  /**
   * @param {{services: object, onChange?: (view: object) => void}} deps services: t, api, wx, remindersAsked (the
   *   app's set of chat sessions asked on a send tap, shared by every chat page)
   */
  constructor({ services, onChange = () => {} }) {
    this.t = services.t;
    this.api = services.api;
    this.wx = services.wx;
    this.onChange = onChange;
    this.templateId = ""; // "" until GET answers: nothing is asked before
    this.remaining = 0;
    this.asked = services.remindersAsked || new Set(); // chat sessions asked on a send tap
    this.askedNew = false; // asked on the tap that sends a new session's first message
    this.refusal = this.stored(); // {template, reason} of the last refusal, kept across launches
    this.asking = false;
    this.note = "";
  }

  stored() {
    try {
      return (this.wx.getStorageSync && this.wx.getStorageSync(DECLINED_KEY)) || null;
    } catch (err) {
      return null;
    }
  }

  /** "reject", "ban" or "switched_off" for the template asked now ("" if none: another template is asked anew). */
  get declined() {
    return this.refusal && this.refusal.template === this.templateId ? this.refusal.reason : "";
  }

  decline(reason) {
    this.refusal = reason ? { template: this.templateId, reason } : null;
    try {
      if (this.wx.setStorageSync) this.wx.setStorageSync(DECLINED_KEY, this.refusal || "");
    } catch (err) {
      // storage full: asked again next launch, no harm
    }
  }

  /** The template and the consents left (again each time the page is shown: a sent message used one). */
  async load() {
    try {
      const answer = await this.api.request(PATH);
      this.templateId = answer.template_id;
      this.remaining = answer.remaining;
    } catch (err) {
      this.templateId = ""; // off on this platform (409), or unknown now: ask nothing
    }
    this.changed();
  }

  /** The send button was tapped in chat session `sessionId` (0: the message opens a new one). */
  onSendTap(sessionId) {
    if (!this.templateId || this.declined || this.remaining > 0 || this.asking) return Promise.resolve("skipped");
    if (sessionId && this.asked.has(sessionId)) return Promise.resolve("skipped");
    if (sessionId) this.asked.add(sessionId);
    else this.askedNew = true;
    return this.ask(false);
  }

  /** The message that opened a session was sent: that session has been asked (no second ask on its next tap). */
  sessionOpened(sessionId) {
    if (this.askedNew && sessionId) this.asked.add(sessionId);
    this.askedNew = false;
  }

  /** The "reply reminders" control was tapped. */
  onControlTap() {
    if (!this.templateId || this.declined === "ban" || this.asking) return Promise.resolve("skipped");
    return this.ask(true);
  }

  /** Calls wx.requestSubscribeMessage at once (still inside the tap), then records the answer. */
  async ask(explicit) {
    this.asking = true;
    const result = await requestSubscribe(this.wx, this.templateId);
    this.asking = false;
    let outcome;
    if (result.answer === "accept") {
      outcome = await this.record();
    } else if (result.answer === "reject") {
      this.decline("reject");
      outcome = "rejected";
      if (explicit) this.note = this.t("mp.consent.rejected");
    } else if (result.answer === "ban") {
      this.decline("ban");
      outcome = "banned";
      this.note = explicit ? this.t("mp.consent.banned") : "";
    } else if (result.errCode === SWITCHED_OFF) {
      this.decline("switched_off");
      outcome = "switched_off";
      if (explicit) this.note = this.t("mp.consent.switched_off");
    } else {
      outcome = "failed"; // a network error, WeChat could not show its dialog, a filtered template, ...
      if (explicit) this.note = this.t("mp.consent.failed", { code: result.errCode || result.answer || "?" });
    }
    this.changed();
    return outcome;
  }

  async record() {
    try {
      const answer = await this.api.request(PATH, { method: "POST", body: { template_id: this.templateId } });
      this.remaining = answer.remaining;
      if (this.declined) this.decline(""); // they said yes after all: send taps may ask again
      this.note = this.t("mp.consent.on");
      return "accepted";
    } catch (err) {
      this.note = this.t("mp.consent.not_saved", { reason: describeError(this.t, err) });
      return "not_saved";
    }
  }

  view() {
    const t = this.t;
    return {
      show: Boolean(this.templateId) && this.declined !== "ban",
      buttonText: this.remaining > 0 ? t("mp.consent.button_on", { count: this.remaining }) : t("mp.consent.button"),
      note: this.note,
    };
  }

  changed() {
    this.onChange(this.view());
  }
}

module.exports = { SubscribeConsent, requestSubscribe, DECLINED_KEY, PATH };
