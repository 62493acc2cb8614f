// The chat page (a page built with Component(), so miniprogram-simulate renders it). Its logic is
// logic/chat.js (the conversation), logic/consent.js (reply reminders) and logic/rating.js (the satisfaction
// rating of a closed session); this file only wires the page's life cycle, taps and setData. `?session_id=N`
// shows session N (logic/routes.js).
const { ChatLogic } = require("../../logic/chat.js");
const { SubscribeConsent } = require("../../logic/consent.js");
const { RatingLogic } = require("../../logic/rating.js");
const { loginUrl, sessionIdFrom } = require("../../logic/routes.js");

Component({
  data: { view: { items: [] }, draft: "", labels: {}, consent: { show: false }, rating: { show: false } },
  methods: {
    onLoad(query) {
      const { services } = getApp();
      const sessionId = sessionIdFrom(query);
      if (!services.user) {
        wx.reLaunch({ url: loginUrl(sessionId) });
        return undefined;
      }
      const t = services.t;
      wx.setNavigationBarTitle({ title: t("mp.nav.chat") });
      this.setData({ labels: {
        picture: t("chat.picture_button"), placeholder: t("h5.composer_placeholder"), send: t("chat.send"),
        end: t("h5.end"), sessions: t("mp.chat.sessions_link"),
      } });
      this.rating = new RatingLogic({ services, onChange: (rating) => this.setData({ rating }) });
      this.logic = new ChatLogic({ services, sessionId, onChange: (view) => {
        this.setData({ view });
        this.rating.show(this.logic.session); // asks once per closed session, hides for an open one
      } });
      this.consent = new SubscribeConsent({ services, onChange: (consent) => this.setData({ consent }) });
      this.setData({ view: this.logic.view() });
      return this.logic.start();
    },
    onShow() {
      if (!this.logic) return undefined;
      this.logic.setVisible(true);
      return this.consent.load(); // the consents left (a reminder sent while away used one)
    },
    onHide() {
      if (this.logic) this.logic.setVisible(false);
    },
    onUnload() {
      if (this.logic) this.logic.stop();
      if (this.rating) this.rating.stop();
    },
    onInput(event) {
      this.setData({ draft: event.detail.value });
      if (event.detail.value) this.logic.typed();
    },
    /** The send button: a tap, so WeChat lets it ask for reply reminders (before anything else). */
    onSendTap() {
      return this.sendDraft(true);
    },
    /** The keyboard's send key: not a tap, nothing is asked. */
    onConfirm() {
      return this.sendDraft(false);
    },
    sendDraft(tapped) {
      const text = this.data.draft;
      if (!text.trim()) return undefined;
      this.setData({ draft: "" });
      const s = this.logic.session;
      const sessionId = s && s.status !== "closed" ? s.session_id : 0;
      const asked = tapped ? this.consent.onSendTap(sessionId) : null;
      const sent = this.logic.send(text).then(() => {
        if (asked && !sessionId && this.logic.session) this.consent.sessionOpened(this.logic.session.session_id);
      });
      return Promise.all([sent, asked]);
    },
    onConsent() {
      return this.consent.onControlTap();
    },
    onRetry(event) {
      return this.logic.retry(event.currentTarget.dataset.key);
    },
    onPicture() {
      return this.logic.sendPicture();
    },
    onPictureError(event) {
      this.logic.pictureFailed(event.currentTarget.dataset.attachment);
    },
    onPreview(event) {
      const { full } = event.currentTarget.dataset;
      wx.previewImage({ current: full, urls: [full] });
    },
    onEnd() {
      return this.logic.endSession();
    },
    onRatingStar(event) {
      this.rating.pick(event.currentTarget.dataset.score);
    },
    onRatingComment(event) {
      this.rating.type(event.detail.value);
    },
    onRatingSubmit() {
      return this.rating.submit();
    },
    onRatingEdit() {
      this.rating.edit();
    },
    toSessions() {
      wx.navigateTo({ url: "/pages/sessions/index" });
    },
  },
});
