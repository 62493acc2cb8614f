// web/js/i18n-core.js under Node's test runner (run by test_node_units.py).
import assert from "node:assert/strict";
import { test } from "node:test";

import { makeTranslator, pickLocale } from "../../web/js/i18n-core.js";

test("the browser's first language we have decides; zh-CN otherwise", () => {
  assert.equal(pickLocale(null, ["zh-TW", "en"]), "zh-CN");
  assert.equal(pickLocale(null, ["zh"]), "zh-CN");
  assert.equal(pickLocale(null, ["en-US", "zh-CN"]), "en");
  assert.equal(pickLocale(null, ["fr-FR", "en-GB"]), "en");
  assert.equal(pickLocale(null, ["fr-FR", "de"]), "zh-CN");
  assert.equal(pickLocale(null, []), "zh-CN");
});

test("a remembered choice wins over the browser; an unknown one is ignored", () => {
  assert.equal(pickLocale("en", ["zh-CN"]), "en");
  assert.equal(pickLocale("zh-CN", ["en-US"]), "zh-CN");
  assert.equal(pickLocale("xx", ["en-US"]), "en");
});

test("placeholders are filled, numbers written the language's way, unknown ones left visible", () => {
  const t = makeTranslator("en", { greet: "Hello {name}, {count} new", lone: "{missing}!" });
  assert.equal(t("greet", { name: "Li", count: 12000 }), "Hello Li, 12,000 new");
  assert.equal(t("lone"), "{missing}!");
});

test("plural forms follow Intl.PluralRules", () => {
  const en = makeTranslator("en", { n: { one: "{count} message", other: "{count} messages" } });
  assert.equal(en("n", { count: 1 }), "1 message");
  assert.equal(en("n", { count: 0 }), "0 messages");
  assert.equal(en("n", { count: 2 }), "2 messages");
  const zh = makeTranslator("zh-CN", { n: { other: "{count} 条消息" } });
  assert.equal(zh("n", { count: 1 }), "1 条消息");
});

test("a missing key falls back to the default language, then shows the key", () => {
  const t = makeTranslator("en", { a: "A" }, { a: "甲", b: "乙" });
  assert.equal(t("a"), "A");
  assert.equal(t("b"), "乙");
  assert.equal(t("c"), "c");
  assert.ok(t.has("b") && !t.has("c"));
});
