// The mini program: one set of services for every page (logic/services.js): the login kept with
// wx.setStorageSync, its TokenKeeper, the REST API, and the one realtime connection (the SDK, vendored into
// lib/ by `node scripts/vendor-sdk.mjs`).
const sdk = require("./lib/realtime-sdk.js");
const config = require("./config.js");
const { createServices } = require("./logic/services.js");

function language() {
  try {
    return (wx.getAppBaseInfo ? wx.getAppBaseInfo() : wx.getSystemInfoSync()).language;
  } catch (err) {
    return "zh_CN";
  }
}

App({
  onLaunch() {
    this.services = createServices({
      wx, sdk, baseUrl: config.baseUrl, background: config.background, language: language(),
      onLoggedOut: (reason) => wx.reLaunch({ url: `/pages/login/index?reason=${reason}` }),
    });
  },
});
