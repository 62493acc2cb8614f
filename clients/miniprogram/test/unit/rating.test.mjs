// Satisfaction ratings (logic/rating.js) against a fake chat-svc ratings API: the prompt for a closed session, once
// per session, the rating sent and shown, a change only while the service allows it, refusals in the catalogue's
// words.
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import test from "node:test";
import { fakeApi, fakeServices, session } from "../support/fakes.mjs";

const require = createRequire(import.meta.url);
const { RatingLogic } = require("../../logic/rating.js");
const { ApiError } = require("../../logic/api.js");

const PATH = (id) => `/api/v4/customer-service/my/sessions/${id}/rating`;
const NOW = Date.parse("2026-12-07T10:00:00+08:00");
const NOT_RATED = () => new ApiError(404, "not_rated", "session 11 has no rating");

function rated(overrides = {}) {
  return {
    session_id: 11, score: 4, comment: "很快", created_at: "2026-12-07T09:58:00+08:00",
    updated_at: "2026-12-07T09:58:00+08:00", editable_until: "2026-12-07T10:08:00+08:00", ...overrides,
  };
}

/** chat-svc's ratings for session 11 (and `more`): GET answers the stored one or 404 not_rated, PUT stores. */
function setUp({ stored = null, put, more = {}, locale = "zh-CN" } = {}) {
  const server = { stored, puts: [] };
  const api = fakeApi({
    [`GET ${PATH(11)}`]: () => server.stored || NOT_RATED(),
    [`PUT ${PATH(11)}`]: (body) => {
      server.puts.push(body);
      if (put) return put(body);
      server.stored = rated({ score: body.score, comment: body.comment });
      return server.stored;
    },
    ...more,
  });
  const timers = [];
  const clock = { now: NOW };
  const views = [];
  const rating = new RatingLogic({
    services: fakeServices({ api, locale }), onChange: (v) => views.push(v), now: () => clock.now,
    setTimer: (fn, ms) => (timers.push({ fn, ms }), timers.length), clearTimer: () => {},
  });
  return { rating, api, server, timers, clock, views, last: () => rating.view() };
}

test("a closed session not yet rated asks for stars and an optional comment; submitting sends them and thanks the user", async () => {
  const { rating, server, last } = setUp();
  await rating.show(session({ status: "closed" }));
  assert.equal(last().show, true);
  assert.equal(last().mode, "form");
  assert.equal(last().question, "请为本次服务评分");
  assert.deepEqual(last().stars.map((s) => s.label), ["1 星", "2 星", "3 星", "4 星", "5 星"]);
  assert.equal(last().canSubmit, false); // no score yet
  rating.pick(4);
  rating.type("  回复很快  ");
  assert.deepEqual(last().stars.map((s) => s.on), [true, true, true, true, false]);
  assert.equal(last().canSubmit, true);
  assert.equal(await rating.submit(), "rated");
  assert.deepEqual(server.puts, [{ score: 4, comment: "回复很快" }]);
  assert.equal(last().mode, "done");
  assert.equal(last().thanksText, "感谢您的评价：4 星");
  assert.equal(last().savedComment, "回复很快");
});

test("a blank comment is sent as none, and submitting without a score sends nothing", async () => {
  const { rating, server } = setUp();
  await rating.show(session({ status: "closed" }));
  rating.type("   ");
  assert.equal(await rating.submit(), "skipped");
  assert.deepEqual(server.puts, []);
  rating.pick(5);
  await rating.submit();
  assert.deepEqual(server.puts, [{ score: 5, comment: null }]);
});

test("an open or waiting session shows no prompt, and a closed one is asked about once however often it is shown", async () => {
  const { rating, api, last } = setUp();
  await rating.show(session({ status: "waiting" }));
  await rating.show(session({ status: "active", admin_id: 2 }));
  await rating.show(null);
  assert.equal(last().show, false);
  assert.equal(api.calls.length, 0);
  await rating.show(session({ status: "closed" }));
  await rating.show(session({ status: "closed" }));
  rating.pick(3);
  await rating.show(session({ status: "closed", updated_at: "2026-12-07T10:01:00+08:00" }));
  assert.equal(api.calls.filter((c) => c.method === "GET").length, 1);
  assert.equal(last().score, 3); // the stars picked are kept
  await rating.show(session({ session_id: 12, status: "active" })); // a new session opened: no prompt
  assert.equal(last().show, false);
});

test("a session already rated shows the thanks and the change button only while the service allows a change", async () => {
  const { rating, timers, clock, views, last } = setUp({ stored: rated() });
  await rating.show(session({ status: "closed" }));
  assert.equal(last().mode, "done");
  assert.equal(last().thanksText, "感谢您的评价：4 星");
  assert.equal(last().savedComment, "很快");
  assert.equal(last().canEdit, true);
  assert.equal(last().editText, "修改评价");
  assert.deepEqual(timers.map((t) => t.ms), [8 * 60 * 1000]); // editable_until - now
  clock.now = Date.parse("2026-12-07T10:08:01+08:00");
  timers[0].fn();
  assert.equal(views[views.length - 1].canEdit, false); // the page was told: the button goes away
  rating.edit();
  assert.equal(last().mode, "done");
});

test("a rating past its edit window shows no change button", async () => {
  const { rating, timers, last } = setUp({ stored: rated({ editable_until: "2026-12-07T09:59:00+08:00" }) });
  await rating.show(session({ status: "closed" }));
  assert.equal(last().canEdit, false);
  assert.deepEqual(timers, []);
});

test("changing a rating within the window opens the form with it and sends the new score and comment", async () => {
  const { rating, server, last } = setUp({ stored: rated() });
  await rating.show(session({ status: "closed" }));
  rating.edit();
  assert.equal(last().mode, "form");
  assert.equal(last().score, 4);
  assert.equal(last().comment, "很快");
  rating.pick(2);
  rating.type("其实等了很久");
  await rating.submit();
  assert.deepEqual(server.puts, [{ score: 2, comment: "其实等了很久" }]);
  assert.equal(last().thanksText, "感谢您的评价：2 星");
  assert.equal(last().savedComment, "其实等了很久");
});

test("a refused rating says why in the catalogue's words and keeps the form", async () => {
  const refusals = [
    [new ApiError(409, "rating_locked", "no"), "评价已超过可修改时间。", "This rating can no longer be changed."],
    [new ApiError(409, "session_not_closed", "no"), "会话结束后才能评价。", "You can rate a conversation once it has ended."],
    [new ApiError(0, "network", "offline"), "无法连接服务器，请检查网络后重试。", "Cannot reach the server. Check your network and try again."],
  ];
  for (const [error, zh, en] of refusals) {
    for (const [locale, text] of [["zh-CN", zh], ["en", en]]) {
      const { rating, last } = setUp({ put: () => error, locale });
      await rating.show(session({ status: "closed" }));
      rating.pick(1);
      assert.equal(await rating.submit(), error.code);
      assert.equal(last().mode, "form");
      assert.equal(last().error, text, `${locale} ${error.code}`);
      assert.equal(last().canSubmit, true); // may try again
    }
  }
});

test("while a rating is being sent the button says so and a second tap sends nothing", async () => {
  let answer;
  const { rating, server, last } = setUp({ put: () => new Promise((resolve) => { answer = resolve; }) });
  await rating.show(session({ status: "closed" }));
  rating.pick(5);
  const first = rating.submit();
  assert.equal(last().submitText, "正在提交…");
  assert.equal(last().canSubmit, false);
  assert.equal(await rating.submit(), "skipped");
  answer(rated({ score: 5, comment: null }));
  assert.equal(await first, "rated");
  assert.equal(server.puts.length, 1);
});

test("a failure to read the rating (other than not rated) shows no prompt", async () => {
  const { rating, last } = setUp({ more: { [`GET ${PATH(11)}`]: () => new ApiError(503, "database_unavailable", "down") } });
  await rating.show(session({ status: "closed" }));
  assert.equal(last().show, false);
});

test("an answer about an earlier session is dropped once another session is shown", async () => {
  let answer;
  const { rating, last } = setUp({ more: { [`GET ${PATH(11)}`]: () => new Promise((resolve) => { answer = resolve; }) } });
  const shown = rating.show(session({ status: "closed" }));
  await rating.show(session({ session_id: 12, status: "active" }));
  answer(rated());
  await shown;
  assert.equal(last().show, false);
});
