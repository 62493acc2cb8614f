// The chat page rendered by miniprogram-simulate (its WXML, its taps) over the page logic with a fake REST API
// and realtime client: what a person sees and what a tap does.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { consentRoutes, fakeApi, fakeClient, fakeServices, fakeSubscribeWx, flush, message, session } from "../support/fakes.mjs";
import { loadPage, simulate } from "../support/simulate.mjs";

const { ApiError } = createRequire(import.meta.url)("../../logic/api.js");

const texts = (page, selector) => page.querySelectorAll(selector).map((node) => node.dom.textContent);

function chatPage({ latest, history = [], routes = {}, client = fakeClient() }) {
  const api = fakeApi({
    "GET /api/v4/customer-service/my/sessions?page=1&page_size=1": () => ({ items: [latest], total: 1, page: 1, page_size: 1 }),
    "GET /api/v4/customer-service/sessions/11/messages?limit=50": () => ({ items: history, has_more: false }),
    "GET /api/v4/customer-service/my/sessions/11/queue": () => ({ session_id: 11, position: 2, estimated_wait_seconds: 200 }),
    "POST /api/v4/customer-service/my/sessions/11/read": () => latest,
    ...routes,
  });
  const titles = [];
  const wx = { setNavigationBarTitle: ({ title }) => titles.push(title), reLaunch: () => {}, navigateTo: () => {} };
  const page = loadPage("chat", { services: fakeServices({ api, client, wx }), wx });
  return { page, api, client, titles };
}

test("the chat page shows the status, the queue line, messages, system lines and read ticks", async () => {
  const history = [
    message({ message_content: "你好" }),
    message({ sender_type: "admin", sender_id: 2, message_type: "system", message_content: "Agent #2 joined",
      system_code: "agent_joined", system_params: { agent_id: 2 } }),
    message({ sender_type: "admin", sender_id: 2, message_content: "您好，请讲" }),
  ];
  const { page, client, titles } = chatPage({ latest: session({ status: "waiting" }), history });
  await page.instance.onLoad();
  await flush();
  await simulate.sleep(0);
  assert.deepEqual(titles, ["在线客服"]);
  assert.deepEqual(texts(page, ".queue"), ["您前面还有 1 位 · 预计等待约 3 分钟"]);
  assert.deepEqual(texts(page, ".status"), ["正在为您分配客服…有空闲客服时会立即回复您。"]);
  assert.deepEqual(texts(page, ".system-text"), ["客服 #2 已加入会话"]);
  assert.deepEqual(texts(page, ".bubble"), ["你好", "您好，请讲"]);
  assert.deepEqual(texts(page, ".read"), ["未读"]);
  client.serverSends("chat:read", { session_id: 11, reader_type: "admin", reader_id: 2, last_read_message_id: history[2].message_id });
  await simulate.sleep(0);
  assert.deepEqual(texts(page, ".read"), ["已读"]);
  page.detach();
});

test("typing and tapping send delivers the message over the socket and shows it", async () => {
  const { page, client } = chatPage({ latest: session({ status: "active", admin_id: 2 }) });
  await page.instance.onLoad();
  page.querySelector(".input").dispatchEvent("input", { detail: { value: "在吗？" } });
  await simulate.sleep(0);
  page.querySelector(".send").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(client.requests.map(({ data: { client_msg_id, ...data } }) => data), [{ session_id: 11, content: "在吗？" }]);
  assert.deepEqual(texts(page, ".bubble"), ["在吗？"]);
  assert.equal(page.instance.data.draft, "");
  page.detach();
});

test("tapping end session closes it and the end button goes away", async () => {
  const { page, api } = chatPage({ latest: session({ status: "active", admin_id: 2 }), routes: {
    "POST /api/v4/customer-service/my/sessions/11/close": () => session({ status: "closed", admin_id: 2 }),
  } });
  await page.instance.onLoad();
  await simulate.sleep(0);
  assert.equal(page.querySelectorAll(".end").length, 1);
  page.querySelector(".end").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.ok(api.calls.some((c) => c.path.endsWith("/my/sessions/11/close")));
  assert.equal(page.querySelectorAll(".end").length, 0);
  assert.deepEqual(texts(page, ".status"), ["此会话已结束。发送新消息即可开始新的会话。"]);
  page.detach();
});

// --- reply reminders and a given session ----------------------------------------------------------------------

function remindersPage({ latest = session({ status: "active", admin_id: 2 }), answers = [{ answer: "accept" }], routes = {}, client = fakeClient() } = {}) {
  const server = consentRoutes();
  const api = fakeApi({
    "GET /api/v4/customer-service/my/sessions?page=1&page_size=1": () => ({ items: [latest], total: 1, page: 1, page_size: 1 }),
    [`GET /api/v4/customer-service/sessions/${latest.session_id}/messages?limit=50`]: () => ({ items: [], has_more: false }),
    [`POST /api/v4/customer-service/my/sessions/${latest.session_id}/read`]: () => latest,
    ...server.routes,
    ...routes,
  });
  const wx = fakeSubscribeWx({ answers, setNavigationBarTitle: () => {}, reLaunch: () => {}, navigateTo: () => {} });
  const page = loadPage("chat", { services: fakeServices({ api, client, wx }), wx });
  return { page, api, client, wx, server };
}

test("the send button's first tap asks WeChat for reply reminders, records the consent, and sends the message all the same", async () => {
  const { page, client, wx, server } = remindersPage();
  await page.instance.onLoad({});
  await page.instance.onShow();
  await simulate.sleep(0);
  assert.deepEqual(texts(page, ".consent-button"), ["有新回复时微信提醒我"]);
  page.querySelector(".input").dispatchEvent("input", { detail: { value: "在吗？" } });
  await simulate.sleep(0);
  const tapped = page.instance.onSendTap(); // the send button's handler, as WeChat calls it on the tap
  assert.deepEqual(wx.subscribeCalls, [["tmpl-reply"]]); // asked synchronously, inside the tap
  await tapped;
  await simulate.sleep(0);
  assert.deepEqual(client.requests.map(({ data: { client_msg_id, ...data } }) => data), [{ session_id: 11, content: "在吗？" }]);
  assert.deepEqual(server.state.posts, [{ template_id: "tmpl-reply" }]);
  assert.deepEqual(texts(page, ".consent-button"), ["已开启回复提醒（还可提醒 1 次）"]);
  page.querySelector(".input").dispatchEvent("input", { detail: { value: "还在吗？" } });
  await simulate.sleep(0);
  page.querySelector(".send").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.equal(wx.subscribeCalls.length, 1); // asked once
  assert.equal(client.requests.length, 2);
  page.detach();
});

test("a rejected or failed reminder request never stops the message; the keyboard's send key does not ask", async () => {
  const { page, client, wx } = remindersPage({ answers: [{ errCode: 20004 }] });
  await page.instance.onLoad({});
  await page.instance.onShow();
  page.querySelector(".input").dispatchEvent("input", { detail: { value: "第一条" } });
  await simulate.sleep(0);
  page.querySelector(".input").dispatchEvent("confirm", { detail: { value: "第一条" } });
  await simulate.sleep(10);
  assert.deepEqual(wx.subscribeCalls, []);
  page.querySelector(".input").dispatchEvent("input", { detail: { value: "第二条" } });
  await simulate.sleep(0);
  page.querySelector(".send").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.equal(wx.subscribeCalls.length, 1);
  assert.deepEqual(client.requests.map((r) => r.data.content), ["第一条", "第二条"]);
  assert.deepEqual(texts(page, ".bubble"), ["第一条", "第二条"]);
  page.detach();
});

test("tapping the reply reminder control asks WeChat and shows the answer", async () => {
  const { page, wx } = remindersPage({ answers: [{ answer: "reject" }] });
  await page.instance.onLoad({});
  await page.instance.onShow();
  await simulate.sleep(0);
  page.querySelector(".consent-button").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.equal(wx.subscribeCalls.length, 1);
  assert.deepEqual(texts(page, ".consent-note"), ["您未开启回复提醒。如需开启，请再点一次并选择“允许”。"]);
  page.detach();
});

test("the chat page opened with ?session_id=N (a subscribe message, the past sessions list) shows session N", async () => {
  const given = session({ session_id: 5, status: "active", admin_id: 2 });
  const { page, api } = remindersPage({ routes: {
    "GET /api/v4/customer-service/sessions/5": () => given,
    "GET /api/v4/customer-service/sessions/5/messages?limit=50": () => ({ items: [message({ session_id: 5, sender_type: "admin", sender_id: 2, message_content: "已为您处理" })], has_more: false }),
    "POST /api/v4/customer-service/my/sessions/5/read": () => given,
  } });
  await page.instance.onLoad({ session_id: "5" });
  await simulate.sleep(10);
  assert.deepEqual(texts(page, ".bubble"), ["已为您处理"]);
  assert.ok(!api.calls.some((c) => c.path.includes("/my/sessions?page=1")));
  page.detach();
});

test("a subscribe message opened while logged out goes through the login to its session", async () => {
  const reLaunched = [];
  const wx = { setNavigationBarTitle: () => {}, reLaunch: ({ url }) => reLaunched.push(url), navigateTo: () => {} };
  const page = loadPage("chat", { services: { ...fakeServices({ wx }), user: null }, wx });
  await page.instance.onLoad({ session_id: "5" });
  assert.deepEqual(reLaunched, ["/pages/login/index?session_id=5"]);
  page.detach();
});

// --- satisfaction rating --------------------------------------------------------------------------------------

const RATING = "/api/v4/customer-service/my/sessions/11/rating";

test("ending the session asks for a rating; stars, a comment and submit send it and the page thanks the user", async (t) => {
  const puts = [];
  const { page } = chatPage({ latest: session({ status: "active", admin_id: 2 }), routes: {
    "POST /api/v4/customer-service/my/sessions/11/close": () => session({ status: "closed", admin_id: 2 }),
    [`PUT ${RATING}`]: (body) => (puts.push(body), { session_id: 11, ...body, created_at: "2026-12-07T10:00:00+08:00",
      updated_at: "2026-12-07T10:00:00+08:00", editable_until: new Date(Date.now() + 600_000).toISOString() }),
  } });
  t.after(() => { page.instance.onUnload(); page.detach(); }); // onUnload stops the change button's timer
  await page.instance.onLoad({});
  await simulate.sleep(0);
  assert.equal(page.querySelectorAll(".rating").length, 0); // an open session: no prompt
  page.querySelector(".end").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(texts(page, ".rating-question"), ["请为本次服务评分"]);
  assert.equal(page.querySelectorAll(".rating-star").length, 5);
  page.querySelectorAll(".rating-star")[3].dispatchEvent("tap");
  page.querySelector(".rating-comment").dispatchEvent("input", { detail: { value: "很耐心" } });
  await simulate.sleep(0);
  assert.equal(page.querySelectorAll(".rating-star.on").length, 4);
  page.querySelector(".rating-submit").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(puts, [{ score: 4, comment: "很耐心" }]);
  assert.deepEqual(texts(page, ".rating-thanks"), ["感谢您的评价：4 星"]);
  assert.deepEqual(texts(page, ".rating-saved-comment"), ["很耐心"]);
  assert.deepEqual(texts(page, ".rating-edit"), ["修改评价"]);
});

test("a session the agent closed shows the rating given and its change button opens the form with it", async (t) => {
  const given = { session_id: 11, score: 5, comment: null, created_at: "2026-12-07T10:00:00+08:00",
    updated_at: "2026-12-07T10:00:00+08:00", editable_until: new Date(Date.now() + 600_000).toISOString() };
  const { page, client } = chatPage({ latest: session({ status: "active", admin_id: 2 }), routes: {
    [`GET ${RATING}`]: () => given,
  } });
  t.after(() => { page.instance.onUnload(); page.detach(); }); // onUnload stops the change button's timer
  await page.instance.onLoad({});
  await simulate.sleep(0);
  client.serverSends("chat:session_update", session({ status: "closed", admin_id: 2 }));
  await simulate.sleep(10);
  assert.deepEqual(texts(page, ".rating-thanks"), ["感谢您的评价：5 星"]);
  page.querySelector(".rating-edit").dispatchEvent("tap");
  await simulate.sleep(0);
  assert.equal(page.querySelectorAll(".rating-star.on").length, 5);
  assert.deepEqual(texts(page, ".rating-submit"), ["提交评价"]);
});

test("a rating the service refuses says why under the form", async (t) => {
  const { page } = chatPage({ latest: session({ status: "closed", admin_id: 2 }), routes: {
    [`PUT ${RATING}`]: () => new ApiError(409, "rating_locked", "the rating can no longer be changed"),
  } });
  t.after(() => { page.instance.onUnload(); page.detach(); }); // onUnload stops the change button's timer
  await page.instance.onLoad({});
  await simulate.sleep(10);
  page.querySelectorAll(".rating-star")[0].dispatchEvent("tap");
  await simulate.sleep(0);
  page.querySelector(".rating-submit").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(texts(page, ".rating-error"), ["评价已超过可修改时间。"]);
  assert.equal(page.querySelectorAll(".rating-submit").length, 1);
});
