// Stand-ins for the unit tests of the page logic: a REST API answering from a table of routes (and recording
// every call), and a realtime client the test drives (server events in, requests recorded and acked).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { ApiError } = require("../../logic/api.js");
const { makeTranslator } = require("../../i18n/index.js");

/** routes: {"GET /path": (body, call) => answer | ApiError}; an unknown route answers 404. */
export function fakeApi(routes = {}) {
  const calls = [];
  const answer = async (method, path, body, extra) => {
    calls.push({ method, path, body, ...extra });
    const route = routes[`${method} ${path}`];
    if (!route) throw new ApiError(404, "not_found", `${method} ${path}`);
    const result = await route(body, { method, path, ...extra });
    if (result instanceof ApiError) throw result;
    return result;
  };
  return {
    calls, routes,
    request: (path, { method = "GET", body, headers } = {}) => answer(method, path, body, { headers }),
    upload: (path, filePath) => answer("UPLOAD", path, undefined, { filePath }),
  };
}

/** The server's ack of chat:send_message: the stored message. */
const storedAck = (event, data) => ({ ok: true, data: message({ session_id: data.session_id, message_content: data.content,
  message_type: data.message_type || "text" }) });

export function fakeClient({ connected = true, ack = storedAck } = {}) {
  const handlers = new Map();
  const client = {
    state: connected ? "connected" : "reconnecting",
    connected,
    requests: [],
    sent: [],
    send(event, data) {
      client.sent.push({ event, data });
    },
    on(event, handler) {
      if (!handlers.has(event)) handlers.set(event, new Set());
      handlers.get(event).add(handler);
      return () => handlers.get(event).delete(handler);
    },
    async request(event, data) {
      client.requests.push({ event, data });
      return ack(event, data);
    },
    /** The server sends `event`. */
    serverSends(event, data) {
      (handlers.get(event) || []).forEach((h) => h(data));
    },
    listeners: (event) => (handlers.get(event) || new Set()).size,
  };
  return client;
}

/** Services as logic/services.js makes them, with the fakes inside. */
export function fakeServices({ api = fakeApi(), client = fakeClient(), locale = "zh-CN", wx = {}, baseUrl = "https://cs.example.com" } = {}) {
  const resyncs = new Set();
  const states = new Set();
  return {
    t: makeTranslator(locale), api, wx, baseUrl, user: { user_id: 7, user_type: "user" },
    realtime: () => ({
      client,
      onResync: (fn) => (resyncs.add(fn), () => resyncs.delete(fn)),
      onState: (fn) => (states.add(fn), () => states.delete(fn)),
    }),
    resync: () => [...resyncs].map((fn) => fn()),
    setState: (state) => states.forEach((fn) => fn(state)),
  };
}

export const flush = () => new Promise((resolve) => setImmediate(resolve));

export function session(overrides = {}) {
  return {
    session_id: 11, user_id: 7, admin_id: null, status: "waiting", priority: "normal", unread_count: 0,
    last_message: "你好", created_at: "2026-12-07T08:00:00+08:00", updated_at: "2026-12-07T08:00:00+08:00", ...overrides,
  };
}

let nextId = 100;
export function message(overrides = {}) {
  nextId += 1;
  return {
    message_id: nextId, session_id: 11, sender_type: "user", sender_id: 7, message_content: "你好", message_type: "text",
    created_at: "2026-12-07T08:00:00+08:00", ...overrides,
  };
}

/** A wx with storage (a Map) and wx.requestSubscribeMessage answering from `answers` in turn: {answer} ("accept",
 * "reject", "ban") or {errCode}; each call is recorded (synchronously, as the tap that made it) in `subscribeCalls`. */
export function fakeSubscribeWx({ answers = [], storage = new Map(), ...more } = {}) {
  const wx = {
    storage,
    subscribeCalls: [],
    setStorageSync: (key, value) => storage.set(key, JSON.parse(JSON.stringify(value))),
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ""),
    requestSubscribeMessage({ tmplIds, success, fail }) {
      wx.subscribeCalls.push(tmplIds);
      const next = answers.shift() || { answer: "reject" };
      setImmediate(() => {
        if (next.errCode) fail({ errCode: next.errCode, errMsg: `requestSubscribeMessage:fail ${next.errCode}` });
        else success({ errMsg: "requestSubscribeMessage:ok", [tmplIds[0]]: next.answer });
      });
    },
    ...more,
  };
  return wx;
}

/** notification-svc's consent API: GET answers {template_id, remaining}, POST adds one (409 when `off`). */
export function consentRoutes({ template = "tmpl-reply", remaining = 0, off = false, refusePost = null } = {}) {
  const state = { remaining, posts: [] };
  const disabled = () => new ApiError(409, "wechat_reach_disabled", "off");
  return {
    state,
    routes: {
      "GET /api/v4/notifications/wechat/subscriptions": () => (off ? disabled() : { template_id: template, remaining: state.remaining }),
      "POST /api/v4/notifications/wechat/subscriptions": (body) => {
        state.posts.push(body);
        if (refusePost) return refusePost;
        state.remaining += 1;
        return { template_id: template, remaining: state.remaining };
      },
    },
  };
}
