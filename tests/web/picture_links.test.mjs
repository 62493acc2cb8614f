// web/js/picture-links.js under Node's test runner (run by test_node_units.py): the pages' picture helpers (the
// signed links themselves are the SDK's: clients/sdk/test/unit/pictures.test.mjs).
import assert from "node:assert/strict";
import { test } from "node:test";

import { makeTranslator } from "../../web/js/i18n-core.js";
import en from "../../web/js/i18n/en.js";
import zhCN from "../../web/js/i18n/zh-CN.js";
import { filesIn, previewText } from "../../web/js/picture-links.js";

test("the session list's picture marker reads as the word for a picture in each language", () => {
  assert.equal(previewText("[image]", makeTranslator("zh-CN", zhCN)), "[图片]");
  assert.equal(previewText("[image]", makeTranslator("en", en)), "[Picture]");
  assert.equal(previewText("你好", makeTranslator("zh-CN", zhCN)), "你好");
});

test("every picked, pasted or dropped file goes up (chat-svc judges the bytes), nothing else", () => {
  const files = [new File(["x"], "a.png", { type: "image/png" }), new File(["y"], "notes.txt", { type: "text/plain" })];
  assert.deepEqual(filesIn([...files, null, "text"]).map((f) => f.name), ["a.png", "notes.txt"]);
  assert.deepEqual(filesIn(undefined), []);
});
