// The mini program's catalogues: zh-CN and en have the same keys; a key the web pages also have keeps their
// wording (web/js/i18n); every system text code the pages render, the mini program renders too; the WXML shows
// no literal text (every word comes from a catalogue).
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import test from "node:test";
import { fileURLToPath } from "node:url";
import webEn from "../../../../web/js/i18n/en.js";
import webZh from "../../../../web/js/i18n/zh-CN.js";

const require = createRequire(import.meta.url);
const { catalogues, makeTranslator, pickLocale, systemText, describeError } = require("../../i18n/index.js");
const MP = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

test("the zh-CN and en catalogues have the same keys", () => {
  const zh = Object.keys(catalogues["zh-CN"]).sort();
  const en = Object.keys(catalogues.en).sort();
  assert.deepEqual(zh.filter((k) => !en.includes(k)), [], "keys only in zh-CN");
  assert.deepEqual(en.filter((k) => !zh.includes(k)), [], "keys only in en");
});

test("keys shared with the web pages keep the web pages' wording", () => {
  for (const [locale, web] of [["zh-CN", webZh], ["en", webEn]]) {
    const differing = Object.keys(catalogues[locale]).filter((k) => k in web
      && JSON.stringify(catalogues[locale][k]) !== JSON.stringify(web[k]));
    assert.deepEqual(differing, [], `${locale}: worded differently from web/js/i18n/${locale}.js`);
  }
});

test("every system text the web pages render, the mini program renders too", () => {
  const missing = Object.keys(webZh).filter((k) => k.startsWith("system.") && !(k in catalogues["zh-CN"]));
  assert.deepEqual(missing, []);
});

test("Chinese is the default and English follows WeChat's language", () => {
  assert.equal(pickLocale("zh_CN"), "zh-CN");
  assert.equal(pickLocale("zh_HK"), "zh-CN");
  assert.equal(pickLocale(undefined), "zh-CN");
  assert.equal(pickLocale("en"), "en");
  assert.equal(pickLocale("en_US"), "en");
});

test("placeholders, plurals, system texts and error codes are rendered from the catalogue", () => {
  const zh = makeTranslator("zh-CN");
  const en = makeTranslator("en");
  assert.equal(zh("h5.queue.ahead", { count: 2 }), "您前面还有 2 位");
  assert.equal(en("h5.queue.ahead", { count: 1 }), webEn["h5.queue.ahead"].one.replace("{count}", "1"));
  assert.equal(systemText(zh, "agent_joined", { agent_id: 3 }, "fallback"), "客服 #3 已加入会话");
  assert.equal(systemText(en, "no_such_code", {}, "the server's text"), "the server's text");
  assert.equal(describeError(zh, { status: 400, code: "wechat_code_invalid" }), catalogues["zh-CN"]["error.wechat_code_invalid"]);
  assert.equal(describeError(zh, { status: 0, code: "network" }), webZh["error.network"]);
});

test("the pages' WXML shows no literal text: every word comes from the catalogue", () => {
  const pages = join(MP, "pages");
  for (const page of readdirSync(pages)) {
    const wxml = readFileSync(join(pages, page, "index.wxml"), "utf8");
    const texts = [...wxml.matchAll(/>([^<]+)</g)].map((m) => m[1].trim()).filter(Boolean);
    const literal = texts.filter((text) => text.replace(/\{\{[^}]*\}\}/g, "").trim() !== "");
    assert.deepEqual(literal, [], `pages/${page}/index.wxml`);
    for (const attr of wxml.matchAll(/\b(placeholder|title|aria-label)="([^"]*)"/g)) {
      assert.match(attr[2], /^\{\{[^}]*\}\}$/, `pages/${page}/index.wxml: ${attr[0]}`);
    }
  }
});
