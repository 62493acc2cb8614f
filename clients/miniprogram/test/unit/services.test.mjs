// The app's services (logic/services.js, logic/login.js, logic/api.js) over the stand-in wx: WeChat login and
// where its tokens are kept, the bearer on every call, renewal after a 401, and the login page's error texts.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { createMiniProgramWx } from "../support/mp-wx.mjs";

const require = createRequire(import.meta.url);
const sdk = require("../../lib/realtime-sdk.js");
const { createServices } = require("../../logic/services.js");
const { LoginLogic } = require("../../logic/login-page.js");
const { STORAGE_KEY } = require("../../logic/login.js");

const BASE = "https://cs.example.com";
const tokens = (n) => ({ access_token: `access-${n}`, token_type: "bearer", expires_in: 900, refresh_token: `refresh-${n}`,
  refresh_expires_in: 86400, user: { user_id: 7, username: "wx_abc", user_type: "user" } });

/** A platform answering from `routes` ("METHOD /path" -> (body, headers) => [status, body]); records requests. */
function platform(routes) {
  const seen = [];
  const fetchImpl = async (url, init = {}) => {
    const path = url.replace(BASE, "");
    const body = typeof init.body === "string" ? JSON.parse(init.body) : undefined;
    seen.push({ method: init.method || "GET", path, body, headers: init.headers || {} });
    const route = routes[`${init.method || "GET"} ${path}`];
    const [status, answer] = route ? route(body, init.headers || {}) : [404, { error: { code: "not_found" } }];
    return new Response(JSON.stringify(answer), { status, headers: { "content-type": "application/json" } });
  };
  return { seen, fetchImpl };
}

test("WeChat login sends wx.login's code, keeps the tokens with setStorageSync, and the next launch starts logged in", async () => {
  const server = platform({ "POST /api/v4/auth/wechat/login": (body) => [200, { ...tokens(1), created: true, code: body.code }] });
  const fake = createMiniProgramWx({ loginCode: async () => "code-123", fetchImpl: server.fetchImpl });
  const services = createServices({ wx: fake.wx, sdk, baseUrl: BASE });
  assert.equal(services.user, null);
  await services.loginWithWeChat();
  assert.deepEqual(server.seen[0].body, { code: "code-123" });
  assert.equal(server.seen[0].headers.cookie, undefined);
  const stored = fake.storage.get(STORAGE_KEY);
  assert.equal(stored.session.accessToken, "access-1");
  assert.equal(stored.session.refreshToken, "refresh-1");
  assert.equal(stored.user.user_id, 7);
  services.stop();

  const relaunched = createServices({ wx: fake.wx, sdk, baseUrl: BASE });
  assert.equal(relaunched.user.user_id, 7);
  assert.equal(relaunched.keeper.token, "access-1");
  relaunched.stop();
});

test("every API call carries the bearer token; a 401 renews it once through the refresh flow and tries again", async () => {
  const server = platform({
    "POST /api/v4/auth/wechat/login": () => [200, tokens(1)],
    "POST /api/v4/auth/refresh": (body) => [200, tokens(body.refresh_token === "refresh-1" ? 2 : 9)],
    "GET /api/v4/customer-service/my/sessions": (body, headers) => (headers.authorization === "Bearer access-2"
      ? [200, { items: [], total: 0, page: 1, page_size: 20 }] : [401, { error: { code: "token_expired" } }]),
  });
  const fake = createMiniProgramWx({ loginCode: async () => "c", fetchImpl: server.fetchImpl });
  const services = createServices({ wx: fake.wx, sdk, baseUrl: BASE });
  await services.loginWithWeChat();
  const page = await services.api.request("/api/v4/customer-service/my/sessions");
  assert.equal(page.total, 0);
  assert.deepEqual(server.seen.map((r) => r.path), ["/api/v4/auth/wechat/login", "/api/v4/customer-service/my/sessions",
    "/api/v4/auth/refresh", "/api/v4/customer-service/my/sessions"]);
  assert.equal(fake.storage.get(STORAGE_KEY).session.accessToken, "access-2"); // the renewal is stored
  services.stop();
});

test("a refused token after renewal ends the login: forgotten, and the app goes back to the login page", async () => {
  const server = platform({
    "POST /api/v4/auth/wechat/login": () => [200, tokens(1)],
    "POST /api/v4/auth/refresh": () => [401, { error: { code: "refresh_token_invalid" } }],
    "GET /api/v4/customer-service/my/sessions": () => [401, { error: { code: "token_expired" } }],
  });
  const fake = createMiniProgramWx({ loginCode: async () => "c", fetchImpl: server.fetchImpl });
  const reasons = [];
  const services = createServices({ wx: fake.wx, sdk, baseUrl: BASE, onLoggedOut: (r) => reasons.push(r) });
  await services.loginWithWeChat();
  await assert.rejects(services.api.request("/api/v4/customer-service/my/sessions"), { status: 401 });
  assert.equal(reasons.length, 1, String(reasons)); // once, though the refusal ends it on two paths
  assert.equal(fake.storage.has(STORAGE_KEY), false);
  assert.equal(services.user, null);
});

test("the login page shows WeChat's refusal in words from the catalogue", async () => {
  const server = platform({ "POST /api/v4/auth/wechat/login": () => [400, { error: { code: "wechat_code_invalid", message: "invalid code" } }] });
  const fake = createMiniProgramWx({ loginCode: async () => "used-code", fetchImpl: server.fetchImpl });
  const services = createServices({ wx: fake.wx, sdk, baseUrl: BASE });
  let loggedIn = false;
  const page = new LoginLogic({ services, onLoggedIn: () => { loggedIn = true; } });
  await page.login();
  assert.equal(loggedIn, false);
  assert.equal(page.view().error, "登录失败：微信登录凭证无效或已使用，请重试。");
  assert.equal(page.view().buttonText, "微信登录");
});

test("an expired login sends the user to the login page with the reason", () => {
  const fake = createMiniProgramWx({ loginCode: async () => "c" });
  const services = createServices({ wx: fake.wx, sdk, baseUrl: BASE });
  assert.equal(new LoginLogic({ services, reason: "expired" }).view().message, "登录已过期，请重新登录。");
});
