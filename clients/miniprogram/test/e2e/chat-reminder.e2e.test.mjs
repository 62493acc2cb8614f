// Reply reminders end to end: the mini program's chat page logic (ChatLogic + SubscribeConsent, as
// pages/chat/index.js wires them) through the stand-in wx over wss:// to the edge, with the e2e notification-svc
// sending subscribe messages to the stand-in of WeChat's API. The send button's first tap asks
// wx.requestSubscribeMessage (the user taps "allow") and records the consent over REST; the app is hidden (socket
// closed); the admin replies: exactly one subscribe message reaches WeChat, with the template and the page that
// opens the chat page on this session; opened from it, the chat page shows the session.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { adminSocket, adminTakes, reply, sleep, waitFor } from "../../../sdk/test/e2e/helpers.mjs";
import { BASE, STANDIN, agentTexts, openMiniProgram } from "./steps.mjs";

const require = createRequire(import.meta.url);
const { SubscribeConsent } = require("../../logic/consent.js");
const { ChatLogic } = require("../../logic/chat.js");
const { sessionIdFrom } = require("../../logic/routes.js");

const TEMPLATE = process.env.WECHAT_TEMPLATE_ID || "";

async function sentTo(openid) {
  const res = await fetch(`${STANDIN}/_standin/sent?touser=${encodeURIComponent(openid)}`);
  return res.json();
}

test("consent given on the send tap, then a reply while the app is hidden: exactly one subscribe message, opening the chat page on the session", { skip: !(BASE && STANDIN && TEMPLATE) && "PLATFORM_URL / WECHAT_STANDIN_URL / WECHAT_TEMPLATE_ID unset" }, async (t) => {
  const admin = await adminSocket();
  const app = await openMiniProgram();
  t.after(() => {
    app.close();
    admin.socket.close();
  });
  const { fake, openid, services, chat, viewWhere } = app;
  const client = services.realtime().client;
  if (!client.connected) await waitFor(client.socket, "connect");
  const reminders = new SubscribeConsent({ services });
  await reminders.load();
  assert.equal(reminders.templateId, TEMPLATE);

  // the send button's tap: the reminder is asked (inside the tap) and the first message opens a session
  const asked = reminders.onSendTap(0);
  assert.deepEqual(fake.calls.subscribe, [[TEMPLATE]]);
  await chat.send("你好，我等会儿再看");
  reminders.sessionOpened(chat.session.session_id);
  assert.equal(await asked, "accepted");
  assert.equal(reminders.remaining, 1);
  const sessionId = chat.session.session_id;
  await adminTakes(admin, sessionId);
  await reply(admin, sessionId, "您好，请稍等");
  await viewWhere((v) => agentTexts(v).includes("您好，请稍等"));

  // hidden: the socket closes; replies until one reaches WeChat (the first may be decided before the gateway's
  // word that the user left); the one consent allows one message, however many replies follow
  fake.hide();
  chat.setVisible(false);
  let replies = 0;
  let sent = [];
  while (sent.length === 0) {
    assert.ok(replies < 60, "no subscribe message reached the WeChat stand-in");
    replies += 1;
    await reply(admin, sessionId, `已为您处理 ${replies}`);
    await sleep(300);
    sent = await sentTo(openid);
  }
  await reply(admin, sessionId, "还有一条");
  await sleep(1000); // room for a second message, which must not come (a wait, not an assertion on time)
  sent = await sentTo(openid);
  assert.equal(sent.length, 1);
  const [message] = sent;
  assert.equal(message.template_id, TEMPLATE);
  assert.match(message.data.thing1.value, /^已为您处理 /);
  await reminders.load();
  assert.equal(reminders.remaining, 0);

  // WeChat opens `page` from the message: the chat page on that session
  const [path, query] = message.page.split("?");
  assert.equal(path, "pages/chat/index");
  const opened = sessionIdFrom(Object.fromEntries(new URLSearchParams(query)));
  assert.equal(opened, sessionId);
  const page = new ChatLogic({ services, sessionId: opened });
  t.after(() => page.stop());
  await page.start();
  assert.equal(page.session.session_id, sessionId);
  assert.ok(agentTexts(page.view()).includes("已为您处理 1"));
});
