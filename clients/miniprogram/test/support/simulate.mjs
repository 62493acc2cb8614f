// miniprogram-simulate (WeChat's official component test tool) under Node's test runner: it needs a DOM (jsdom)
// and the globals a mini program has (wx, getApp). `loadPage(name, services, wx)` renders pages/<name>/index (the
// pages are built with Component(), which the tool renders) attached to a parent, ready to call its life cycle.
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { JSDOM } = require("jsdom");
const MP = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const dom = new JSDOM("<!doctype html><html><body></body></html>");
for (const key of ["document", "Node", "HTMLElement", "Element", "MutationObserver", "getComputedStyle"]) {
  if (!(key in globalThis)) globalThis[key] = dom.window[key];
}
globalThis.window = dom.window;
// Node has its own Event classes; the DOM's dispatchEvent accepts only jsdom's
globalThis.Event = dom.window.Event;
globalThis.CustomEvent = dom.window.CustomEvent;
const simulate = require("miniprogram-simulate");

export function loadPage(name, { services, wx }) {
  globalThis.wx = wx;
  globalThis.getApp = () => ({ services });
  const id = simulate.load(join(MP, "pages", name, "index"));
  const page = simulate.render(id);
  page.attach(document.createElement("parent-wrapper"));
  return page;
}

export { simulate };
