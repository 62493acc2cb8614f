// web/js/time-format.js under Node's test runner (run by test_node_units.py, with TZ set far from Beijing).
import assert from "node:assert/strict";
import { test } from "node:test";

import { makeTranslator } from "../../web/js/i18n-core.js";
import en from "../../web/js/i18n/en.js";
import zhCN from "../../web/js/i18n/zh-CN.js";
import { formatTime, formatWait } from "../../web/js/time-format.js";

const zh = makeTranslator("zh-CN", zhCN);
const english = makeTranslator("en", en);
const NOW = new Date("2026-12-07T10:20:00.000+08:00");
const show = (iso, t, options = {}) => formatTime(iso, { now: NOW, t, ...options });

test("within a minute is 刚刚 / just now", () => {
  assert.equal(show("2026-12-07T10:19:30.000+08:00", zh), "刚刚");
  assert.equal(show("2026-12-07T10:19:30.000+08:00", english), "just now");
  assert.equal(show("2026-12-07T10:20:20.000+08:00", zh), "刚刚"); // a clock a little ahead
});

test("within an hour counts minutes, with the plural English needs", () => {
  assert.equal(show("2026-12-07T10:17:00.000+08:00", zh), "3分钟前");
  assert.equal(show("2026-12-07T10:17:00.000+08:00", english), "3 minutes ago");
  assert.equal(show("2026-12-07T10:19:00.000+08:00", english), "1 minute ago");
  assert.equal(show("2026-12-07T09:21:00.000+08:00", zh), "59分钟前");
});

test("earlier today is the Beijing clock time", () => {
  assert.equal(show("2026-12-07T08:05:00.000+08:00", zh), "08:05");
  assert.equal(show("2026-12-07T08:05:00.000+08:00", english), "08:05");
});

test("yesterday is 昨天 HH:mm / Yesterday HH:mm", () => {
  assert.equal(show("2026-12-06T18:02:00.000+08:00", zh), "昨天 18:02");
  assert.equal(show("2026-12-06T18:02:00.000+08:00", english), "Yesterday 18:02");
});

test("days are Beijing calendar days, not UTC ones", () => {
  // 22:10 on the 6th and 00:30 on the 7th in Beijing are both on 6 December in UTC, yet a day apart in Beijing.
  const now = new Date("2026-12-07T00:30:00.000+08:00");
  assert.equal(formatTime("2026-12-06T22:10:00.000+08:00", { now, t: zh }), "昨天 22:10");
  assert.equal(formatTime("2026-12-06T14:10:00.000Z", { now, t: zh }), "昨天 22:10"); // the same instant in UTC
  // 06:00 and 07:30 on the 7th in Beijing straddle midnight UTC, yet are the same Beijing day.
  const morning = new Date("2026-12-07T07:30:00.000+08:00");
  assert.equal(formatTime("2026-12-07T06:00:00.000+08:00", { now: morning, t: zh }), "06:00");
});

test("this year is 12月7日 10:14 / Dec 7 10:14", () => {
  assert.equal(show("2026-03-05T10:14:00.000+08:00", zh), "3月5日 10:14");
  assert.equal(show("2026-03-05T10:14:00.000+08:00", english), "Mar 5 10:14");
});

test("another year adds the year", () => {
  assert.equal(show("2025-12-07T10:14:00.000+08:00", zh), "2025年12月7日 10:14");
  assert.equal(show("2025-12-07T10:14:00.000+08:00", english), "Dec 7, 2025 10:14");
});

test("a time given in another offset is shown in Beijing time", () => {
  assert.equal(show("2026-03-05T02:14:00Z", zh), "3月5日 10:14");
});

test("future times and relative: false are absolute", () => {
  assert.equal(show("2026-12-07T22:00:00.000+08:00", zh), "12月7日 22:00");
  assert.equal(show("2026-12-07T10:19:30.000+08:00", zh, { relative: false }), "12月7日 10:19");
});

test("what is not a time shows nothing", () => {
  assert.equal(show("", zh), "");
  assert.equal(show("not a time", zh), "");
  assert.equal(show(undefined, zh), "");
});

test("an estimated wait reads in whole minutes, under a minute, or as still being estimated", () => {
  assert.equal(formatWait(130, { t: zh }), "预计等待约 2 分钟");
  assert.equal(formatWait(60, { t: english }), "estimated wait about 1 minute");
  assert.equal(formatWait(45, { t: zh }), "预计等待不到 1 分钟");
  assert.equal(formatWait(null, { t: zh }), "预计等待时间正在估算");
});
