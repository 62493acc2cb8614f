// The login page (a page built with Component(), so miniprogram-simulate renders it): WeChat login, then the chat.
const { LoginLogic } = require("../../logic/login-page.js");

Component({
  data: { view: {} },
  methods: {
    onLoad(query) {
      const { services } = getApp();
      wx.setNavigationBarTitle({ title: services.t("mp.nav.chat") });
      this.logic = new LoginLogic({
        services, reason: (query && query.reason) || "",
        onChange: (view) => this.setData({ view }),
        onLoggedIn: () => wx.reLaunch({ url: "/pages/chat/index" }),
      });
      this.setData({ view: this.logic.view() });
    },
    onLogin() {
      return this.logic.login();
    },
  },
});
