// The chat page rendered by miniprogram-simulate (its WXML, its taps) over the page logic with a fake REST API
// and realtime client: what a person sees and what a tap does.
import assert from "node:assert/strict";
import test from "node:test";
import { fakeApi, fakeClient, fakeServices, flush, message, session } from "../support/fakes.mjs";
import { loadPage, simulate } from "../support/simulate.mjs";

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
  assert.deepEqual(client.requests.map((r) => r.data), [{ session_id: 11, content: "在吗？" }]);
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
