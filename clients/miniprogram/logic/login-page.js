// The login page's logic: a WeChat login on tap; the texts it shows. (pages/login/index.js wires it.)
const { describeError } = require("../i18n/index.js");

const REASONS = { expired: "reason.expired", invalid: "conn.unauthorized" };

class LoginLogic {
  constructor({ services, onChange = () => {}, onLoggedIn = () => {}, reason = "" }) {
    this.services = services;
    this.t = services.t;
    this.onChange = onChange;
    this.onLoggedIn = onLoggedIn;
    this.busy = false;
    this.error = "";
    this.message = REASONS[reason] ? this.t(REASONS[reason]) : "";
  }

  async login() {
    if (this.busy) return;
    this.busy = true;
    this.error = "";
    this.onChange(this.view());
    try {
      await this.services.loginWithWeChat();
      this.busy = false;
      this.onChange(this.view());
      this.onLoggedIn();
    } catch (err) {
      this.busy = false;
      this.error = this.t("mp.login.failed", { reason: describeError(this.t, err) });
      this.onChange(this.view());
    }
  }

  view() {
    const t = this.t;
    return {
      title: t("mp.login.title"), intro: t("mp.login.intro"), message: this.message, error: this.error,
      busy: this.busy, buttonText: this.busy ? t("mp.login.busy") : t("mp.login.button"),
    };
  }
}

module.exports = { LoginLogic };
