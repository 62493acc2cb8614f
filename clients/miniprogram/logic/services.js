// What every page shares, made once by app.js: the translator, the login (stored), the TokenKeeper that renews
// it, the REST API, and the one realtime connection (the SDK's createWxClient over wx.connectSocket). Plain JS
// with its dependencies passed in (wx, the SDK, the base URL), so Node's tests run it with a stand-in wx.
const { createApi } = require("./api.js");
const { clearLogin, loadLogin, saveLogin, wechatLogin } = require("./login.js");
const { makeTranslator, pickLocale } = require("../i18n/index.js");

/**
 * @param {{wx: object, sdk: object, baseUrl: string, language?: string, background?: "close"|"keep",
 *          onLoggedOut?: (reason: string) => void}} deps
 */
function createServices({ wx, sdk, baseUrl, language, background = "close", onLoggedOut = () => {} }) {
  const t = makeTranslator(pickLocale(language));
  let login = loadLogin(wx);
  let keeper = null;
  let realtime = null;

  const store = (session) => {
    if (login) login = saveLogin(wx, session, login.user);
  };

  function startKeeper() {
    keeper = new sdk.TokenKeeper({
      session: login.session, refresh: sdk.wxRefresher(baseUrl, wx), onSession: store,
      onEnded: () => services.logout("expired"),
    });
    keeper.start();
  }
  if (login) startKeeper();

  const api = createApi({
    wx, baseUrl,
    token: () => (keeper ? keeper.token : ""),
    renew: () => (keeper ? keeper.renew() : Promise.reject(new Error("not logged in"))),
    onUnauthorized: () => services.logout("invalid"),
  });

  const services = {
    t, api, sdk, wx, baseUrl,
    /** The chat sessions asked for reply reminders on a send tap (logic/consent.js): once per session per launch. */
    remindersAsked: new Set(),
    get user() {
      return login && login.user;
    },
    get keeper() {
      return keeper;
    },

    /** wx.login -> our WeChat login; stores the tokens; starts renewing them. */
    async loginWithWeChat() {
      const response = await wechatLogin({ wx, baseUrl });
      services.stop();
      login = saveLogin(wx, sdk.sessionFrom(response), response.user);
      startKeeper();
      return login;
    },

    /**
     * The realtime connection (made at the first call): {client, onResync(fn), onState(fn)}. `onResync`
     * listeners run after a reconnect that was NOT recovered (refetch over REST); `onState` with every state.
     */
    realtime() {
      if (realtime) return realtime;
      if (!keeper) throw new Error("not logged in");
      const resyncs = new Set();
      const states = new Set();
      const listen = (set) => (fn) => {
        set.add(fn);
        return () => set.delete(fn);
      };
      const client = sdk.createWxClient({
        url: baseUrl, wx, token: keeper, background,
        onResync: () => resyncs.forEach((fn) => fn()),
        onStateChange: (state) => states.forEach((fn) => fn(state)),
        onAuthFailed: () => services.logout("invalid"),
      });
      realtime = { client, onResync: listen(resyncs), onState: listen(states) };
      return realtime;
    },

    /** Closes the socket and stops renewing (the login stays stored). */
    stop() {
      if (realtime) realtime.client.close();
      realtime = null;
      if (keeper) keeper.stop();
      keeper = null;
    },

    /** The login is over (`reason`: expired, invalid, logged_out): forget it, then onLoggedOut. */
    logout(reason) {
      const wasLoggedIn = login !== null;
      services.stop();
      login = null;
      clearLogin(wx);
      if (wasLoggedIn) onLoggedOut(reason); // once, however many refusals end it
    },
  };
  return services;
}

module.exports = { createServices };
