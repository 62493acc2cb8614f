// WeChat login: wx.login() gives a one-time code; auth-svc exchanges it with WeChat (code2Session) and answers like
// /login (access + refresh tokens and the user). The tokens are kept with wx.setStorageSync so the next launch
// starts logged in; the TokenKeeper renews them (the SDK) and every renewal is stored again.
const { ApiError, wxRequest } = require("./api.js");

const STORAGE_KEY = "platform.login";

function wxLoginCode(wx) {
  return new Promise((resolve, reject) => wx.login({
    success: (res) => (res && res.code ? resolve(res.code) : reject(new ApiError(0, "wechat_code_invalid"))),
    fail: (err) => reject(new ApiError(0, "network", err && err.errMsg)),
  }));
}

/** wx.login, then POST /api/v4/auth/wechat/login {code}: the TokenResponse (+ `created`). */
async function wechatLogin({ wx, baseUrl }) {
  const code = await wxLoginCode(wx);
  const res = await wxRequest(wx, {
    url: `${baseUrl}/api/v4/auth/wechat/login`, method: "POST", data: { code },
    header: { "content-type": "application/json" },
  });
  if (res.statusCode !== 200) {
    const error = (res.data && res.data.error) || {};
    throw new ApiError(res.statusCode, error.code || `http_${res.statusCode}`, error.message);
  }
  return res.data;
}

/** Stores a login: the SDK's Session (tokens and their expiry times) and the user. */
function saveLogin(wx, session, user) {
  const login = { session, user };
  wx.setStorageSync(STORAGE_KEY, login);
  return login;
}

/** The stored login, or null when there is none or its refresh token has expired too. */
function loadLogin(wx, now = Date.now()) {
  let login = null;
  try {
    login = wx.getStorageSync(STORAGE_KEY) || null;
  } catch (err) {
    return null;
  }
  if (!login || !login.session || !login.user) return null;
  const { expiresAt, refreshToken, refreshExpiresAt } = login.session;
  const usable = expiresAt > now || (refreshToken && refreshExpiresAt > now);
  return usable ? login : null;
}

function clearLogin(wx) {
  try {
    wx.removeStorageSync(STORAGE_KEY);
  } catch (err) {
    // nothing stored
  }
}

module.exports = { STORAGE_KEY, wechatLogin, saveLogin, loadLogin, clearLogin };
