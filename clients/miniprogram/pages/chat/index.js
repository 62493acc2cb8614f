// The chat page (a page built with Component(), so miniprogram-simulate renders it). Its logic is
// logic/chat.js; this file only wires the page's life cycle, taps and setData.
const { ChatLogic } = require("../../logic/chat.js");

Component({
  data: { view: { items: [] }, draft: "", labels: {} },
  methods: {
    onLoad() {
      const { services } = getApp();
      if (!services.user) {
        wx.reLaunch({ url: "/pages/login/index" });
        return;
      }
      const t = services.t;
      wx.setNavigationBarTitle({ title: t("mp.nav.chat") });
      this.setData({ labels: {
        picture: t("chat.picture_button"), placeholder: t("h5.composer_placeholder"), send: t("chat.send"),
        end: t("h5.end"), sessions: t("mp.chat.sessions_link"),
      } });
      this.logic = new ChatLogic({ services, onChange: (view) => this.setData({ view }) });
      this.setData({ view: this.logic.view() });
      return this.logic.start();
    },
    onShow() {
      if (this.logic) this.logic.setVisible(true);
    },
    onHide() {
      if (this.logic) this.logic.setVisible(false);
    },
    onUnload() {
      if (this.logic) this.logic.stop();
    },
    onInput(event) {
      this.setData({ draft: event.detail.value });
      if (event.detail.value) this.logic.typed();
    },
    onSend() {
      const text = this.data.draft;
      if (!text.trim()) return undefined;
      this.setData({ draft: "" });
      return this.logic.send(text);
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
    toSessions() {
      wx.navigateTo({ url: "/pages/sessions/index" });
    },
  },
});
