// The past sessions page rendered by miniprogram-simulate (each page file runs in its own process: the tool
// keeps registered components process-wide).
import assert from "node:assert/strict";
import test from "node:test";
import { fakeApi, fakeServices, session } from "../support/fakes.mjs";
import { loadPage, simulate } from "../support/simulate.mjs";

const texts = (page, selector) => page.querySelectorAll(selector).map((node) => node.dom.textContent);
const wxStub = (calls = []) => ({ setNavigationBarTitle: ({ title }) => calls.push(["title", title]),
  reLaunch: ({ url }) => calls.push(["reLaunch", url]), stopPullDownRefresh: () => {} });

test("the past sessions page lists GET /my/sessions with their status, and loads the next page on demand", async () => {
  const all = [session({ session_id: 12, status: "active", last_message: "[image]" }), session({ session_id: 11, status: "closed", last_message: "谢谢" })];
  const api = fakeApi({
    "GET /api/v4/customer-service/my/sessions?page=1&page_size=20": () => ({ items: [all[0]], total: 2, page: 1, page_size: 20 }),
    "GET /api/v4/customer-service/my/sessions?page=2&page_size=20": () => ({ items: [all[1]], total: 2, page: 2, page_size: 20 }),
  });
  const page = loadPage("sessions", { services: fakeServices({ api }), wx: wxStub() });
  await page.instance.onLoad();
  await simulate.sleep(0);
  assert.deepEqual(texts(page, ".title"), ["#12 · 进行中"]);
  assert.deepEqual(texts(page, ".last"), ["[图片]"]);
  await page.instance.onMore();
  await simulate.sleep(0);
  assert.deepEqual(texts(page, ".title"), ["#12 · 进行中", "#11 · 已结束"]);
  assert.equal(page.querySelectorAll(".more").length, 0);
  page.detach();
});

test("the past sessions page says so when there are none", async () => {
  const api = fakeApi({ "GET /api/v4/customer-service/my/sessions?page=1&page_size=20": () => ({ items: [], total: 0, page: 1, page_size: 20 }) });
  const page = loadPage("sessions", { services: fakeServices({ api }), wx: wxStub() });
  await page.instance.onLoad();
  await simulate.sleep(0);
  assert.deepEqual(texts(page, ".empty"), ["还没有会话。"]);
  page.detach();
});

test("tapping a past session opens the chat page on it (?session_id=N, as a subscribe message does)", async () => {
  const calls = [];
  const api = fakeApi({ "GET /api/v4/customer-service/my/sessions?page=1&page_size=20": () => ({
    items: [session({ session_id: 12, status: "closed" })], total: 1, page: 1, page_size: 20 }) });
  const wx = { ...wxStub(calls), navigateTo: ({ url }) => calls.push(["navigateTo", url]) };
  const page = loadPage("sessions", { services: fakeServices({ api }), wx });
  await page.instance.onLoad();
  await simulate.sleep(0);
  page.querySelector(".session").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(calls.filter(([what]) => what === "navigateTo"), [["navigateTo", "/pages/chat/index?session_id=12"]]);
  page.detach();
});
