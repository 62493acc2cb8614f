// The past sessions page (a page built with Component()): logic/sessions.js, paged GET /my/sessions; a tap on a
// session opens the chat page on it.
const { SessionsLogic } = require("../../logic/sessions.js");
const { chatUrl } = require("../../logic/routes.js");

Component({
  data: { view: { items: [] } },
  methods: {
    onLoad() {
      const { services } = getApp();
      wx.setNavigationBarTitle({ title: services.t("mp.sessions.title") });
      this.logic = new SessionsLogic({ services, onChange: (view) => this.setData({ view }) });
      return this.logic.reload();
    },
    onPullDownRefresh() {
      return this.logic.reload().then(() => wx.stopPullDownRefresh());
    },
    onReachBottom() {
      return this.onMore();
    },
    onOpen(event) {
      wx.navigateTo({ url: chatUrl(Number(event.currentTarget.dataset.id)) });
    },
    onMore() {
      return this.logic.view().hasMore ? this.logic.more() : undefined;
    },
  },
});
