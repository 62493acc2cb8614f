// Reply reminders (logic/consent.js): wx.requestSubscribeMessage asked from a tap, the answer recorded over
// notification-svc's consent API, and no nagging: once per chat session on send taps, never again after a refusal.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { consentRoutes, fakeApi, fakeServices, fakeSubscribeWx, flush } from "../support/fakes.mjs";

const require = createRequire(import.meta.url);
const { SubscribeConsent } = require("../../logic/consent.js");
const { ApiError } = require("../../logic/api.js");

async function setUp({ answers = [], storage, locale = "zh-CN", ...consent } = {}) {
  const server = consentRoutes(consent);
  const api = fakeApi(server.routes);
  const wx = fakeSubscribeWx({ answers, storage });
  const views = [];
  const reminders = new SubscribeConsent({ services: fakeServices({ api, wx, locale }), onChange: (v) => views.push(v) });
  await reminders.load();
  return { reminders, wx, api, server, views, view: () => reminders.view() };
}

test("the send tap asks for reply reminders inside the tap, once per chat session, and records an accept", async () => {
  const { reminders, wx, server, view } = await setUp({ answers: [{ answer: "accept" }] });
  assert.deepEqual(view(), { show: true, buttonText: "有新回复时微信提醒我", note: "" });
  const asked = reminders.onSendTap(11);
  assert.deepEqual(wx.subscribeCalls, [["tmpl-reply"]]); // called before any await: still inside the user's tap
  assert.equal(await asked, "accepted");
  assert.deepEqual(server.state.posts, [{ template_id: "tmpl-reply" }]);
  assert.equal(view().buttonText, "已开启回复提醒（还可提醒 1 次）");
  assert.equal(view().note, "已开启回复提醒：客服回复而您不在线时，微信会通知您一次。");
  server.state.remaining = 0; // the reminder was used up meanwhile
  await reminders.load();
  assert.equal(await reminders.onSendTap(11), "skipped"); // this session was asked already
  assert.equal(wx.subscribeCalls.length, 1);
});

test("the tap that opens a new session counts as that session's ask", async () => {
  const { reminders, wx } = await setUp({ answers: [{ errCode: 10002 }] });
  assert.equal(await reminders.onSendTap(0), "failed");
  reminders.sessionOpened(12);
  assert.equal(await reminders.onSendTap(12), "skipped");
  assert.equal(wx.subscribeCalls.length, 1);
});

test("nothing is asked on send taps while a consent is left, or when the platform sends no WeChat messages", async () => {
  const left = await setUp({ remaining: 2 });
  assert.equal(await left.reminders.onSendTap(11), "skipped");
  assert.equal(left.view().buttonText, "已开启回复提醒（还可提醒 2 次）");
  const off = await setUp({ off: true });
  assert.equal(await off.reminders.onSendTap(11), "skipped");
  assert.equal(await off.reminders.onControlTap(), "skipped");
  assert.equal(off.view().show, false);
  assert.deepEqual([...left.wx.subscribeCalls, ...off.wx.subscribeCalls], []);
});

test("a reject stops the asking on send taps, also after a relaunch; the control still asks when tapped", async () => {
  const storage = new Map();
  const first = await setUp({ storage, answers: [{ answer: "reject" }] });
  assert.equal(await first.reminders.onSendTap(11), "rejected");
  assert.equal(first.view().note, ""); // not asked for by the user: no lecture
  assert.equal(await first.reminders.onSendTap(12), "skipped");
  const relaunched = await setUp({ storage, answers: [{ answer: "reject" }, { answer: "accept" }] });
  assert.equal(await relaunched.reminders.onSendTap(13), "skipped");
  assert.equal(await relaunched.reminders.onControlTap(), "rejected");
  assert.match(relaunched.view().note, /未开启回复提醒/);
  assert.equal(await relaunched.reminders.onControlTap(), "accepted"); // changed their mind
  assert.equal(relaunched.reminders.declined, "");
  assert.deepEqual(relaunched.server.state.posts, [{ template_id: "tmpl-reply" }]);
  assert.equal(first.wx.subscribeCalls.length + relaunched.wx.subscribeCalls.length, 3);
});

test("a ban hides the control and nothing asks again", async () => {
  const storage = new Map();
  const { reminders, view, wx } = await setUp({ storage, answers: [{ answer: "ban" }] });
  assert.equal(await reminders.onSendTap(11), "banned");
  assert.equal(view().show, false);
  assert.equal(await reminders.onControlTap(), "skipped");
  assert.equal(await reminders.onSendTap(12), "skipped");
  assert.equal(wx.subscribeCalls.length, 1);
  const another = await setUp({ storage, template: "tmpl-new" }); // a new template is asked anew
  assert.equal(another.view().show, true);
});

test("subscriptions switched off in WeChat (20004) stop the asking and the control says where to turn them on", async () => {
  const { reminders, view, wx } = await setUp({ answers: [{ errCode: 20004 }, { errCode: 20004 }] });
  assert.equal(await reminders.onSendTap(11), "switched_off");
  assert.equal(await reminders.onSendTap(12), "skipped");
  assert.equal(await reminders.onControlTap(), "switched_off");
  assert.match(view().note, /设置/);
  assert.equal(wx.subscribeCalls.length, 2);
});

test("WeChat failing to show its dialog, or a consent the server refuses to keep, is said and breaks nothing", async () => {
  const { reminders, view } = await setUp({ answers: [{ errCode: 10005 }, { answer: "accept" }],
    refusePost: new ApiError(409, "not_a_wechat_user", "no") });
  assert.equal(await reminders.onControlTap(), "failed");
  assert.equal(view().note, "暂时无法开启回复提醒（10005），请稍后再试。");
  assert.equal(await reminders.onControlTap(), "not_saved");
  assert.match(view().note, /^回复提醒未能保存：/);
  assert.equal(view().show, true);
});

test("the reminder texts follow the user's language", async () => {
  const { view } = await setUp({ locale: "en", remaining: 1 });
  assert.equal(view().buttonText, "Reply reminders on (1 left)");
  await flush();
});

test("a chat session asked on one chat page is not asked again on another page showing it", async () => {
  const server = consentRoutes();
  const wx = fakeSubscribeWx({ answers: [{ answer: "filter" }] });
  const services = { ...fakeServices({ api: fakeApi(server.routes), wx }), remindersAsked: new Set() };
  const first = new SubscribeConsent({ services });
  await first.load();
  assert.equal(await first.onSendTap(11), "failed");
  const second = new SubscribeConsent({ services }); // e.g. pages/chat/index?session_id=11 from the past sessions list
  await second.load();
  assert.equal(await second.onSendTap(11), "skipped");
  assert.equal(wx.subscribeCalls.length, 1);
});
