// The login page rendered by miniprogram-simulate.
import assert from "node:assert/strict";
import test from "node:test";
import { fakeServices } from "../support/fakes.mjs";
import { loadPage, simulate } from "../support/simulate.mjs";

const texts = (page, selector) => page.querySelectorAll(selector).map((node) => node.dom.textContent);
const wxStub = (calls = []) => ({ setNavigationBarTitle: ({ title }) => calls.push(["title", title]),
  reLaunch: ({ url }) => calls.push(["reLaunch", url]) });

test("the login page logs in with WeChat on tap, then goes to the chat", async () => {
  const calls = [];
  const services = { ...fakeServices(), loginWithWeChat: async () => calls.push(["login"]) };
  const page = loadPage("login", { services, wx: wxStub(calls) });
  page.instance.onLoad({ reason: "expired" });
  await simulate.sleep(0);
  assert.deepEqual(texts(page, ".message"), ["登录已过期，请重新登录。"]);
  assert.deepEqual(texts(page, ".login-button"), ["微信登录"]);
  page.querySelector(".login-button").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(calls.slice(1), [["login"], ["reLaunch", "/pages/chat/index"]]);
  page.detach();
});

test("a login on the way to a given session goes on to that session's chat page", async () => {
  const calls = [];
  const services = { ...fakeServices(), loginWithWeChat: async () => calls.push(["login"]) };
  const page = loadPage("login", { services, wx: wxStub(calls) });
  page.instance.onLoad({ session_id: "12" });
  await simulate.sleep(0);
  page.querySelector(".login-button").dispatchEvent("tap");
  await simulate.sleep(10);
  assert.deepEqual(calls.slice(1), [["login"], ["reLaunch", "/pages/chat/index?session_id=12"]]);
  page.detach();
});
