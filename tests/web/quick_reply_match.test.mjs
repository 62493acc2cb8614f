// web/js/quick-reply-match.js: what a `/query` in the composer finds and where the reply goes.
import assert from "node:assert/strict";
import { test } from "node:test";

import { insertReply, matchQuickReplies, slashQuery } from "../../web/js/quick-reply-match.js";

const REPLIES = [
  { quick_reply_id: 1, title: "退款进度查询", content: "您好，退款将在 3 个工作日内到账。" },
  { quick_reply_id: 2, title: "Greeting", content: "Hello! How can I help?" },
  { quick_reply_id: 3, title: "营业时间", content: "VIP 专线 24 小时在线，退款请走专线。" },
];

test("a Chinese word finds the replies whose title or content contains it, title matches first", () => {
  assert.deepEqual(matchQuickReplies(REPLIES, "退款").map((r) => r.quick_reply_id), [1, 3]);
  assert.deepEqual(matchQuickReplies(REPLIES, "进度").map((r) => r.quick_reply_id), [1]);
});

test("Latin letters match whatever their case and width", () => {
  assert.deepEqual(matchQuickReplies(REPLIES, "greet").map((r) => r.quick_reply_id), [2]);
  assert.deepEqual(matchQuickReplies(REPLIES, "HELP").map((r) => r.quick_reply_id), [2]);
  assert.deepEqual(matchQuickReplies(REPLIES, "ｖｉｐ").map((r) => r.quick_reply_id), [3]);
});

test("an empty query lists every reply and a query nothing contains lists none", () => {
  assert.equal(matchQuickReplies(REPLIES, "").length, 3);
  assert.deepEqual(matchQuickReplies(REPLIES, "发票"), []);
});

test("the slash opens a query at the start or after white space, and white space ends it", () => {
  assert.deepEqual(slashQuery("/退款", 3), { start: 0, query: "退款" });
  assert.deepEqual(slashQuery("您好 /gre", 8), { start: 3, query: "gre" });
  assert.equal(slashQuery("a/b", 3), null);
  assert.equal(slashQuery("/退款 ", 4), null);
  assert.equal(slashQuery("no slash", 8), null);
});

test("picking a reply replaces the slash query and puts the caret after the reply", () => {
  assert.deepEqual(insertReply("您好 /退款 谢谢", 3, 6, "已退"), { text: "您好 已退 谢谢", caret: 5 });
});
