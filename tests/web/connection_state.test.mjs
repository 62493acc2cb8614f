// web/js/connection-state.js under Node's test runner (run by test_node_units.py): the header's connection pill
// in the page's language, from the client SDK's states and developer-English details.
import assert from "node:assert/strict";
import { test } from "node:test";

import { connectionView } from "../../web/js/connection-state.js";
import { makeTranslator } from "../../web/js/i18n-core.js";
import en from "../../web/js/i18n/en.js";
import zhCN from "../../web/js/i18n/zh-CN.js";

const zh = makeTranslator("zh-CN", zhCN);
const english = makeTranslator("en", en);

test("live, connecting and a renewed token's new socket read as the catalogue's words, no retry button", () => {
  assert.deepEqual(connectionView("connected", undefined, zh), { state: "connected", text: "实时在线", canRetry: false });
  assert.deepEqual(connectionView("connected", undefined, english), { state: "connected", text: "Live", canRetry: false });
  for (const [state, detail] of [["connecting"], ["idle"], ["reconnecting"], ["reconnecting", "renewing token"]]) {
    assert.deepEqual(connectionView(state, detail, zh), { state: "connecting", text: "连接中…", canRetry: false });
  }
});

test("a lost connection waiting for its next try says it reconnects and offers the retry button", () => {
  for (const reason of ["transport close", "ping timeout", "transport error"]) {
    assert.deepEqual(connectionView("reconnecting", reason, zh),
      { state: "reconnecting", text: "连接已断开，正在重连…", canRetry: true });
  }
  assert.equal(connectionView("reconnecting", "timeout", english).text, "Connection timed out. Check your network; retrying…");
  assert.equal(connectionView("reconnecting", "websocket error", zh).text, "无法连接实时更新服务器，正在重试…");
});

test("a refusal by the gateway names its cause in the page's language, never the SDK's English", () => {
  assert.deepEqual(connectionView("reconnecting", "too_many_connections", zh),
    { state: "unavailable", text: "此账号或网络打开的连接过多。正在重试…", canRetry: true });
  assert.equal(connectionView("reconnecting", "unavailable", english).text,
    "Live updates are temporarily unavailable. Retrying…");
  assert.equal(connectionView("reconnecting", "io server disconnect", zh).text, "服务器关闭了连接。正在重试…");
});

test("a refused login and a closed or abandoned connection have their own states", () => {
  assert.deepEqual(connectionView("unauthorized", "unauthorized: token_expired", zh),
    { state: "unauthorized", text: "登录已过期或无效。", canRetry: false });
  assert.deepEqual(connectionView("offline", undefined, english), { state: "offline", text: "Disconnected.", canRetry: true });
  assert.equal(connectionView("offline", "transport close", zh).text, "实时更新已停止：无法重新连接。");
});
