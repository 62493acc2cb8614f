// Steps the mini program's end-to-end tests share: the mini program's own services and chat logic (the vendored
// SDK, lib/realtime-sdk.js) over the stand-in wx, logged in through WeChat (the stand-in of WeChat's API:
// WECHAT_STANDIN_URL), against the stack behind the edge's HTTPS/WSS port (PLATFORM_URL; its development CA
// trusted through NODE_EXTRA_CA_CERTS). The admin side comes from the SDK's end-to-end helpers.
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { createMiniProgramWx } from "../support/mp-wx.mjs";

const require = createRequire(import.meta.url);
const sdk = require("../../lib/realtime-sdk.js");
const { createServices } = require("../../logic/services.js");
const { LoginLogic } = require("../../logic/login-page.js");
const { ChatLogic } = require("../../logic/chat.js");

export const BASE = process.env.PLATFORM_URL || "";
export const STANDIN = process.env.WECHAT_STANDIN_URL || "";

/** A new WeChat user (a fresh openid) logged in through the login page's logic; its chat page's logic, started. */
export async function openMiniProgram() {
  const openid = `o-e2e-${randomBytes(6).toString("hex")}`;
  const fake = createMiniProgramWx({ standinUrl: STANDIN, openid });
  const services = createServices({ wx: fake.wx, sdk, baseUrl: BASE, language: fake.wx.getAppBaseInfo().language });
  const login = new LoginLogic({ services });
  await login.login();
  if (!services.user) throw new Error(`WeChat login failed: ${login.view().error}`);
  const views = { last: null, waiting: [] };
  const chat = new ChatLogic({
    services,
    onChange: (view) => {
      views.last = view;
      views.waiting = views.waiting.filter((w) => !(w.match(view) && (w.resolve(view), true)));
    },
  });
  await chat.start();
  /** The first view (from now) that passes `match`; fails after `ms`. */
  const viewWhere = (match, ms = 15000) => {
    if (views.last && match(views.last)) return Promise.resolve(views.last);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve };
      views.waiting.push(waiter);
      setTimeout(() => {
        views.waiting = views.waiting.filter((w) => w !== waiter);
        reject(new Error(`no such view within ${ms} ms; last: ${JSON.stringify(views.last)}`));
      }, ms).unref();
    });
  };
  return { fake, openid, services, chat, viewWhere, close: () => { chat.stop(); services.stop(); } };
}

/** The texts of the agent's messages the page shows, in order. */
export const agentTexts = (view) => view.items.filter((i) => !i.mine && i.kind === "text").map((i) => i.text);
