// The chat page's logic (logic/chat.js) against a fake REST API and a fake realtime client: what the page shows
// and what it sends, for each feature of the chat page.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { fakeApi, fakeClient, fakeServices, flush, message, session } from "../support/fakes.mjs";

const require = createRequire(import.meta.url);
const { ChatLogic } = require("../../logic/chat.js");
const { ApiError } = require("../../logic/api.js");

const MY_LATEST = "GET /api/v4/customer-service/my/sessions?page=1&page_size=1";
const MESSAGES = (id) => `GET /api/v4/customer-service/sessions/${id}/messages?limit=50`;
const QUEUE = (id) => `GET /api/v4/customer-service/my/sessions/${id}/queue`;
const READ = (id) => `POST /api/v4/customer-service/my/sessions/${id}/read`;

function setUp({ latest = session(), history = [], routes = {}, client = fakeClient(), locale = "zh-CN", wx, sessionId,
  setTimer } = {}) {
  const api = fakeApi({
    [MY_LATEST]: () => ({ items: latest ? [latest] : [], total: latest ? 1 : 0, page: 1, page_size: 1 }),
    ...(latest ? { [MESSAGES(latest.session_id)]: () => ({ items: history, has_more: false }) } : {}),
    ...(latest ? { [QUEUE(latest.session_id)]: () => ({ session_id: latest.session_id, position: 3, estimated_wait_seconds: 120 }) } : {}),
    ...(latest ? { [READ(latest.session_id)]: (body) => ({ ...latest, user_last_read_message_id: body.last_read_message_id }) } : {}),
    ...routes,
  });
  const services = fakeServices({ api, client, locale, wx });
  const views = [];
  const chat = new ChatLogic({ services, sessionId, onChange: (v) => views.push(v), ...(setTimer ? { setTimer } : {}) });
  return { api, client, services, chat, views, last: () => chat.view() };
}

test("a waiting session shows its queue position from REST, then the live chat:queue_update", async () => {
  const { chat, client, last } = setUp();
  await chat.start();
  await flush();
  assert.equal(last().queueText, "您前面还有 2 位 · 预计等待约 2 分钟");
  client.serverSends("chat:queue_update", { session_id: 11, position: 1, estimated_wait_seconds: 30 });
  assert.equal(last().queueText, "下一位就是您 · 预计等待不到 1 分钟");
  client.serverSends("chat:queue_update", { session_id: 99, position: 5, estimated_wait_seconds: null }); // not ours
  assert.equal(last().queuePosition, 1);
  client.serverSends("chat:session_update", session({ status: "active", admin_id: 2 }));
  assert.equal(last().queueText, "");
  assert.equal(last().statusText, "客服 #2 正在为您服务。");
});

test("a REST queue answer that arrives after a live update is dropped", async () => {
  let answer;
  const { chat, client, last } = setUp({ routes: { [QUEUE(11)]: () => new Promise((r) => { answer = r; }) } });
  const started = chat.start();
  await flush();
  client.serverSends("chat:queue_update", { session_id: 11, position: 1, estimated_wait_seconds: 30 });
  answer({ session_id: 11, position: 4, estimated_wait_seconds: 600 });
  await started;
  await flush();
  assert.equal(last().queuePosition, 1);
});

test("system messages are rendered from their code and params in the user's language", async () => {
  const joined = message({ sender_type: "admin", sender_id: 2, message_type: "system", message_content: "Agent #2 joined",
    system_code: "agent_joined", system_params: { agent_id: 2 } });
  for (const [locale, text] of [["zh-CN", "客服 #2 已加入会话"], ["en", "Agent #2 joined the conversation"]]) {
    const { chat, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), history: [joined], locale });
    await chat.start();
    const item = last().items.find((i) => i.kind === "system");
    assert.equal(item.text, locale === "en" ? chat.t("system.agent_joined", { agent_id: "2" }) : text);
  }
});

test("new messages of the session are shown once, in order; other sessions' are not", async () => {
  const first = message({ sender_type: "admin", sender_id: 2, message_content: "您好" });
  const { chat, client, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), history: [first] });
  await chat.start();
  const second = message({ sender_type: "admin", sender_id: 2, message_content: "请讲" });
  client.serverSends("chat:new_message", second);
  client.serverSends("chat:new_message", second); // a replay
  client.serverSends("chat:new_message", message({ session_id: 12, message_content: "别人的" }));
  assert.deepEqual(last().items.map((i) => i.text), ["您好", "请讲"]);
  assert.equal(last().items[0].who, "客服 #2");
});

test("the agent's chat:read marks the user's messages read", async () => {
  const mine = message({ message_content: "在吗" });
  const { chat, client, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), history: [mine] });
  await chat.start();
  assert.equal(last().items[0].readText, "未读");
  client.serverSends("chat:read", { session_id: 11, reader_type: "user", reader_id: 7, last_read_message_id: mine.message_id });
  assert.equal(last().items[0].readText, "未读"); // the user's own read state is not the agent's
  client.serverSends("chat:read", { session_id: 11, reader_type: "admin", reader_id: 2, last_read_message_id: mine.message_id });
  assert.equal(last().items[0].readText, "已读");
});

test("the user's read state is reported up to the newest message, only while the page is visible", async () => {
  const first = message({ sender_type: "admin", sender_id: 2 });
  const { chat, client, api } = setUp({ latest: session({ status: "active", admin_id: 2 }), history: [first] });
  await chat.start();
  await flush();
  const reads = () => api.calls.filter((c) => c.method === "POST" && c.path.endsWith("/read")).map((c) => c.body.last_read_message_id);
  assert.deepEqual(reads(), [first.message_id]);
  chat.setVisible(false);
  const second = message({ sender_type: "admin", sender_id: 2 });
  client.serverSends("chat:new_message", second);
  await flush();
  assert.deepEqual(reads(), [first.message_id]);
  chat.setVisible(true);
  await flush();
  assert.deepEqual(reads(), [first.message_id, second.message_id]);
});

test("the first message opens a session over REST; later ones go over the socket with an ack", async () => {
  const opened = session({ session_id: 21 });
  const { chat, client, api, last } = setUp({ latest: null, routes: {
    "POST /api/v4/customer-service/sessions": () => opened,
    [MESSAGES(21)]: () => ({ items: [message({ session_id: 21, message_content: "你好" })], has_more: false }),
    [QUEUE(21)]: () => ({ session_id: 21, position: 1, estimated_wait_seconds: null }),
    [READ(21)]: () => opened,
  } });
  await chat.start();
  assert.equal(last().statusText, "给我们发送消息，客服会尽快为您服务。");
  await chat.send("你好");
  const post = api.calls.find((c) => c.path === "/api/v4/customer-service/sessions");
  assert.deepEqual(post.body, { content: "你好" });
  assert.ok(post.headers["Idempotency-Key"]);
  assert.equal(chat.session.session_id, 21);
  await chat.send("在吗？");
  assert.equal(client.requests.length, 1);
  const { event, data: { client_msg_id: id, ...data } } = client.requests[0];
  assert.deepEqual([event, data], ["chat:send_message", { session_id: 21, content: "在吗？" }]);
  assert.match(id, /^[A-Za-z0-9_-]{1,64}$/);
  assert.deepEqual(last().items.map((i) => [i.text, i.state]), [["你好", "sent"], ["在吗？", "sent"]]);
});

test("a first message whose answer was lost opens again with the same Idempotency-Key on retry", async () => {
  const opened = session({ session_id: 21 });
  let lose = true;
  const { chat, api, last } = setUp({ latest: null, routes: {
    "POST /api/v4/customer-service/sessions": () => {
      if (!lose) return opened;
      lose = false; // the server opened it; its answer did not come back
      return new ApiError(0, "network_error", "the connection dropped");
    },
    [MESSAGES(21)]: () => ({ items: [message({ session_id: 21, message_content: "你好" })], has_more: false }),
    [QUEUE(21)]: () => ({ session_id: 21, position: 1, estimated_wait_seconds: null }),
    [READ(21)]: () => opened,
  } });
  await chat.start();
  await chat.send("你好");
  const failed = last().items.at(-1);
  assert.equal(failed.state, "failed");
  await chat.retry(failed.key);
  const posts = api.calls.filter((c) => c.path === "/api/v4/customer-service/sessions");
  assert.equal(posts.length, 2);
  assert.ok(posts[0].headers["Idempotency-Key"]);
  assert.equal(posts[1].headers["Idempotency-Key"], posts[0].headers["Idempotency-Key"]);
  assert.equal(chat.session.session_id, 21);
  assert.deepEqual(last().items.map((i) => [i.text, i.state]), [["你好", "sent"]]);
});

test("a refused message stays with the reason, and is sent again on retry", async () => {
  let refuse = true;
  const client = fakeClient({ ack: (event, data) => (refuse ? { ok: false, error: { code: "session_closed" } }
    : { ok: true, data: message({ message_content: data.content }) }) });
  const { chat, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), client });
  await chat.start();
  await chat.send("还在吗");
  const failed = last().items.at(-1);
  assert.equal(failed.state, "failed");
  assert.equal(failed.stateText, "发送失败：此会话已结束。");
  refuse = false;
  await chat.retry(failed.key);
  assert.deepEqual(last().items.map((i) => [i.text, i.state]), [["还在吗", "sent"]]);
});

test("a message whose ack is lost is sent again with the same client_msg_id and shown once", async () => {
  const lost = [{ ok: false, error: { code: "timeout", message: "no ack" } },
    { ok: false, error: { code: "unavailable", message: "connection lost" } }];
  const client = fakeClient({ ack: (event, data) => lost.shift() || { ok: true, data: message({ message_content: data.content }) } });
  const { chat, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), client, setTimer: (fn) => fn() });
  await chat.start();
  const shown = [];
  const changed = chat.changed.bind(chat);
  chat.changed = () => { changed(); shown.push(last().items.at(-1)?.stateText); };
  await chat.send("收到了吗");
  assert.ok(shown.includes("网络不稳，正在重发（第 1 次）…"), shown);
  assert.ok(shown.includes("网络不稳，正在重发（第 2 次）…"), shown);
  const ids = client.requests.map((r) => r.data.client_msg_id);
  assert.equal(ids.length, 3);
  assert.deepEqual(new Set(ids).size, 1);
  assert.deepEqual(last().items.map((i) => [i.text, i.state]), [["收到了吗", "sent"]]);
});

test("a message echoed back while its lost ack is sent again shows once, sent, not beside a pending bubble", async () => {
  let client;
  const stored = message({ message_id: 77, message_content: "回声" });
  const acks = [() => {
    client.serverSends("chat:new_message", stored); // the message was stored: its echo arrives, its ack is lost
    return { ok: false, error: { code: "timeout", message: "no ack" } };
  }, () => ({ ok: true, data: stored })];
  client = fakeClient({ ack: () => acks.shift()() });
  const { chat, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), client, setTimer: (fn) => fn() });
  await chat.start();
  const shown = [];
  const changed = chat.changed.bind(chat);
  chat.changed = () => { changed(); shown.push(last().items.map((i) => [i.text, i.state])); };
  await chat.send("回声");
  assert.equal(client.requests.length, 2);
  assert.ok(shown.every((items) => items.filter(([text]) => text === "回声").length <= 1), JSON.stringify(shown));
  assert.deepEqual(last().items.map((i) => [i.text, i.state]), [["回声", "sent"]]);
});

test("a message that failed is retried with its own client_msg_id, over REST as its Idempotency-Key", async () => {
  const client = fakeClient({ ack: () => ({ ok: false, error: { code: "timeout", message: "no ack" } }) });
  const { chat, api, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), client, setTimer: (fn) => fn(),
    routes: { "POST /api/v4/customer-service/sessions/11/messages": (body) => message({ message_content: body.content }) } });
  await chat.start();
  await chat.send("重发我");
  const failed = last().items.at(-1);
  assert.equal(failed.state, "failed");
  const id = client.requests[0].data.client_msg_id;
  assert.ok(client.requests.every((r) => r.data.client_msg_id === id));
  client.connected = false; // the retry goes over REST: the same id, so the server stores it once
  await chat.retry(failed.key);
  const post = api.calls.find((c) => c.path === "/api/v4/customer-service/sessions/11/messages");
  assert.equal(post.headers["Idempotency-Key"], id);
  assert.deepEqual(last().items.map((i) => [i.text, i.state]), [["重发我", "sent"]]);
});

test("while the socket is down a message goes over REST", async () => {
  const client = fakeClient({ connected: false });
  const { chat, api } = setUp({ latest: session({ status: "active", admin_id: 2 }), client, routes: {
    "POST /api/v4/customer-service/sessions/11/messages": (body) => message({ message_content: body.content }),
  } });
  await chat.start();
  await chat.send("离线发送");
  assert.deepEqual(client.requests, []);
  assert.ok(api.calls.some((c) => c.path === "/api/v4/customer-service/sessions/11/messages" && c.body.content === "离线发送"));
});

test("a picture is chosen, uploaded to the session's attachments, sent as an image message and shown as a signed thumbnail", async () => {
  const attachment = { attachment_id: "0b7e8a52-4a4c-4d1e-9a51-6f0c3c7d2e11", session_id: 11,
    url: "/api/v4/customer-service/attachments/0b7e8a52-4a4c-4d1e-9a51-6f0c3c7d2e11/full?expires=1&sig=a",
    thumbnail_url: "/api/v4/customer-service/attachments/0b7e8a52-4a4c-4d1e-9a51-6f0c3c7d2e11/thumbnail?expires=1&sig=b",
    expires_at: new Date(Date.now() + 600000).toISOString() };
  const picked = [];
  const wx = { chooseMedia: ({ success }) => success({ tempFiles: [{ tempFilePath: "wxfile://tmp/photo.jpg" }] }) };
  const client = fakeClient({ ack: (event, data) => ({ ok: true, data: message({ message_type: "image", message_content: data.content }) }) });
  const { chat, api, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), client, wx, routes: {
    "UPLOAD /api/v4/customer-service/sessions/11/attachments": (body, call) => (picked.push(call.filePath), attachment),
  } });
  await chat.start();
  await chat.sendPicture();
  assert.deepEqual(picked, ["wxfile://tmp/photo.jpg"]);
  const { client_msg_id: pictureId, ...picture } = client.requests[0].data;
  assert.deepEqual(picture, { session_id: 11, content: attachment.attachment_id, message_type: "image" });
  assert.match(pictureId, /^[A-Za-z0-9_-]{1,64}$/);
  const shown = last().items.at(-1);
  assert.equal(shown.kind, "picture");
  assert.equal(shown.thumb, `https://cs.example.com${attachment.thumbnail_url}`);
  assert.equal(shown.full, `https://cs.example.com${attachment.url}`);
  assert.equal(api.calls.filter((c) => c.path.includes("/attachments/")).length, 0); // the upload's links were kept
});

test("a picture in a message from history without links asks for fresh signed URLs once", async () => {
  const id = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
  const links = { attachment_id: id, url: `/a/${id}/full?sig=x`, thumbnail_url: `/a/${id}/thumbnail?sig=y`,
    expires_at: new Date(Date.now() + 600000).toISOString() };
  const pictures = [message({ sender_type: "admin", sender_id: 2, message_type: "image", message_content: id }),
    message({ sender_type: "admin", sender_id: 2, message_type: "image", message_content: id })];
  const { chat, api, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), history: pictures, routes: {
    [`GET /api/v4/customer-service/sessions/11/attachments/${id}`]: () => links,
  } });
  await chat.start();
  await flush();
  assert.equal(api.calls.filter((c) => c.path.endsWith(`/attachments/${id}`)).length, 1);
  assert.equal(last().items[0].thumb, `https://cs.example.com${links.thumbnail_url}`);
});

test("without an open session a picture asks for a first text message", async () => {
  const { chat, last } = setUp({ latest: null, wx: { chooseMedia: () => assert.fail("must not pick") } });
  await chat.start();
  await chat.sendPicture();
  assert.equal(last().notice, "请先发送一条文字消息开始会话，再发送图片。");
});

test("ending the session closes it over REST and hides the end button", async () => {
  const { chat, last, api } = setUp({ latest: session({ status: "active", admin_id: 2 }), routes: {
    "POST /api/v4/customer-service/my/sessions/11/close": () => session({ status: "closed", admin_id: 2, close_reason: "user" }),
  } });
  await chat.start();
  assert.equal(last().canEnd, true);
  await chat.endSession();
  assert.ok(api.calls.some((c) => c.method === "POST" && c.path.endsWith("/my/sessions/11/close")));
  assert.equal(last().canEnd, false);
  assert.equal(last().statusText, "此会话已结束。发送新消息即可开始新的会话。");
});

test("a refused close shows the reason", async () => {
  const { chat, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), routes: {
    "POST /api/v4/customer-service/my/sessions/11/close": () => new ApiError(409, "session_closed"),
  } });
  await chat.start();
  await chat.endSession();
  assert.equal(last().notice, "无法结束会话：此会话已结束。");
});

test("a reconnect that was not recovered refetches the conversation over REST", async () => {
  const history = [message({ sender_type: "admin", sender_id: 2, message_content: "您好" })];
  const { chat, services, last } = setUp({ latest: session({ status: "active", admin_id: 2 }), history });
  await chat.start();
  history.push(message({ sender_type: "admin", sender_id: 2, message_content: "错过的" }));
  await Promise.all(services.resync());
  assert.deepEqual(last().items.map((i) => i.text), ["您好", "错过的"]);
});

test("the connection state is shown in words and the agent's typing for a moment", async () => {
  const timers = [];
  const client = fakeClient();
  const api = fakeApi({ [MY_LATEST]: () => ({ items: [session({ status: "active", admin_id: 2 })], total: 1, page: 1, page_size: 1 }),
    [MESSAGES(11)]: () => ({ items: [], has_more: false }) });
  const services = fakeServices({ api, client });
  const chat = new ChatLogic({ services, setTimer: (fn) => timers.push(fn), clearTimer: () => {} });
  await chat.start();
  services.setState("suspended");
  assert.equal(chat.view().connectionText, "连接已断开，正在重连…");
  services.setState("connected");
  assert.equal(chat.view().connectionText, "实时在线");
  client.serverSends("chat:typing", { session_id: 11, sender_type: "admin", sender_id: 2 });
  assert.equal(chat.view().typingText, "客服正在输入…");
  timers.at(-1)();
  assert.equal(chat.view().typingText, "");
});

test("stop() removes every listener", async () => {
  const { chat, client } = setUp();
  await chat.start();
  assert.equal(client.listeners("chat:new_message"), 1);
  chat.stop();
  assert.equal(client.listeners("chat:new_message"), 0);
});

test("typing tells the agent, at most once every two seconds", async () => {
  const { chat, client } = setUp({ latest: session({ status: "active", admin_id: 2 }) });
  await chat.start();
  chat.typed(10000);
  chat.typed(11000);
  chat.typed(12500);
  assert.deepEqual(client.sent, [{ event: "chat:typing", data: { session_id: 11 } }, { event: "chat:typing", data: { session_id: 11 } }]);
});

test("a refused read report is not retried in a loop: the next message or visit reports it", async () => {
  const first = message({ sender_type: "admin", sender_id: 2 });
  const { chat, api, client } = setUp({ latest: session({ status: "active", admin_id: 2 }), history: [first],
    routes: { [READ(11)]: () => new ApiError(401, "token_missing") } });
  await chat.start();
  for (let i = 0; i < 5; i += 1) await flush();
  const reads = () => api.calls.filter((c) => c.path.endsWith("/read")).length;
  assert.equal(reads(), 1);
  client.serverSends("chat:new_message", message({ sender_type: "admin", sender_id: 2 }));
  for (let i = 0; i < 5; i += 1) await flush();
  assert.equal(reads(), 2);
  chat.stop();
  chat.setVisible(true);
  await flush();
  assert.equal(reads(), 2); // a stopped page reports nothing
});

// --- one given session (?session_id=N: the past sessions page, a subscribe message) --------------------------

const SESSION = (id) => `GET /api/v4/customer-service/sessions/${id}`;

test("the chat page given a session id shows that session and its messages, not the latest", async () => {
  const past = session({ session_id: 5, status: "closed", admin_id: 2 });
  const { chat, api, last } = setUp({ latest: session({ session_id: 11, status: "active", admin_id: 3 }), sessionId: 5, routes: {
    [SESSION(5)]: () => past,
    [MESSAGES(5)]: () => ({ items: [message({ session_id: 5, message_content: "上次的问题" })], has_more: false }),
    [READ(5)]: () => past,
  } });
  await chat.start();
  assert.equal(chat.session.session_id, 5);
  assert.deepEqual(last().items.map((i) => i.text), ["上次的问题"]);
  assert.equal(last().statusText, "此会话已结束。发送新消息即可开始新的会话。");
  assert.ok(!api.calls.some((c) => c.path.includes("/my/sessions?page=1")), "the latest session is not asked for");
});

test("a session id that is not the user's (403/404) shows their latest session and says so", async () => {
  for (const refusal of [new ApiError(404, "not_found"), new ApiError(403, "forbidden")]) {
    const { chat, last } = setUp({ latest: session({ session_id: 11, status: "active", admin_id: 3 }), sessionId: 99,
      routes: { [SESSION(99)]: () => refusal } });
    await chat.start();
    assert.equal(chat.session.session_id, 11);
    assert.equal(last().notice, "找不到会话 #99，已为您显示最近的会话。");
  }
});

test("writing from a past session opened by id starts a new session and the page follows it", async () => {
  const past = session({ session_id: 5, status: "closed", admin_id: 2 });
  const opened = session({ session_id: 12, status: "waiting" });
  const { chat, client, last } = setUp({ latest: null, sessionId: 5, routes: {
    [SESSION(5)]: () => past,
    [MESSAGES(5)]: () => ({ items: [], has_more: false }),
    "POST /api/v4/customer-service/sessions": () => opened,
    [MESSAGES(12)]: () => ({ items: [message({ session_id: 12, message_content: "又来了" })], has_more: false }),
    [QUEUE(12)]: () => ({ session_id: 12, position: 1, estimated_wait_seconds: 30 }),
    [READ(12)]: () => opened,
  } });
  await chat.start();
  assert.equal(chat.session.session_id, 5);
  await chat.send("又来了");
  assert.equal(chat.session.session_id, 12);
  client.serverSends("chat:new_message", message({ session_id: 12, sender_type: "admin", sender_id: 2, message_content: "您好" }));
  assert.deepEqual(last().items.map((i) => i.text), ["又来了", "您好"]);
});

test("an update of another session does not move a page that shows a given session", async () => {
  const past = session({ session_id: 5, status: "closed", admin_id: 2 });
  const { chat, client, api } = setUp({ latest: session({ session_id: 11, status: "active" }), sessionId: 5, routes: {
    [SESSION(5)]: () => past, [MESSAGES(5)]: () => ({ items: [], has_more: false }),
  } });
  await chat.start();
  const before = api.calls.length;
  client.serverSends("chat:session_update", session({ session_id: 11, status: "active", admin_id: 4 }));
  await flush();
  assert.equal(chat.session.session_id, 5);
  assert.equal(api.calls.length, before);
});

// --- the leave-a-message path (chat-svc's left messages; the H5 page shows the same system lines) ------------

test("a message left outside working hours or with nobody online shows the notice, with the opening time in Beijing time", async () => {
  const left = message({ sender_type: "admin", sender_id: 0, message_type: "system", message_content: "outside hours",
    system_code: "outside_working_hours", system_params: { next_open_at: "2026-12-08T09:00:00.000+08:00" } });
  const nobody = message({ sender_type: "admin", sender_id: 0, message_type: "system", message_content: "no agent",
    system_code: "no_agent_online", system_params: {} });
  const { chat, last } = setUp({ latest: session({ status: "waiting" }), history: [message({ message_content: "在吗" }), left, nobody] });
  await chat.start();
  assert.deepEqual(last().items.filter((i) => i.kind === "system").map((i) => i.text), [
    "现在不在客服工作时间，您的留言已收到，我们将于 12月8日 09:00 起尽快回复",
    "暂时没有客服在线，您的留言已收到，客服上线后会尽快回复",
  ]);
  assert.equal(last().statusText, "正在为您分配客服…有空闲客服时会立即回复您。");
});
