// The login page (a page built with Component(), so miniprogram-simulate renders it): WeChat login, then the chat
// (on `?session_id=N` when the login interrupted the way to session N, e.g. from a subscribe message).
const { LoginLogic } = require("../../logic/login-page.js");
const { chatUrl, sessionIdFrom } = require("../../logic/routes.js");

Component({
  data: { view: {} },
  methods: {
    onLoad(query) {
      const { services } = getApp();
      wx.setNavigationBarTitle({ title: services.t("mp.nav.chat") });
      this.logic = new LoginLogic({
        services, reason: (query && query.reason) || "",
        onChange: (view) => this.setData({ view }),
        onLoggedIn: () => wx.reLaunch({ url: chatUrl(sessionIdFrom(query)) }), // the session it was on the way to
      });
      this.setData({ view: this.logic.view() });
    },
    onLogin() {
      return this.logic.login();
    },
  },
});
