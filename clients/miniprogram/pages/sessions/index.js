// The past sessions page (a page built with Component()): logic/sessions.js, paged GET /my/sessions.
const { SessionsLogic } = require("../../logic/sessions.js");

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
    onMore() {
      return this.logic.view().hasMore ? this.logic.more() : undefined;
    },
  },
});
