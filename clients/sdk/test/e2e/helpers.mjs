// Steps the end-to-end tests share, against the REAL stack behind the edge (PLATFORM_URL, started by
// tests/e2e/test_sdk_client.py): REST calls, a fresh end user, an admin on socket.io-client 4.7.2 (the pages'
// pinned client, from web/node_modules), and waiting for events with a deadline.
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BASE = process.env.PLATFORM_URL || "";
export const PASSWORD = "Passw0rd!"; // the AUTH_DEV_SEED accounts
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..");

export async function api(path, { method = "GET", body, token } = {}) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return data;
}

/** A new end user, registered through REST, then logged in as the mini program does (wx.request): its
 * TokenResponse. */
export async function registerAndLogin(wx) {
  const credentials = { username: `sdk${randomBytes(5).toString("hex")}`, password: "correct horse 42" };
  await api("/api/v4/auth/register", { method: "POST", body: credentials });
  return new Promise((resolve, reject) => wx.request({
    url: `${BASE}/api/v4/auth/login`, method: "POST", data: credentials, header: { "content-type": "application/json" },
    success: (res) => (res.statusCode === 200 ? resolve(res.data) : reject(new Error(`login: ${res.statusCode}`))),
    fail: (err) => reject(new Error(err.errMsg)),
  }));
}

/** admin1's socket on the pages' socket.io-client 4.7.2 (Node build, over `ws`), connected. */
export async function adminSocket(username = "admin1") {
  const login = await api("/api/v4/auth/login", { method: "POST", body: { username, password: PASSWORD } });
  const { io } = createRequire(join(ROOT, "web", "package.json"))("socket.io-client");
  const socket = io(BASE, { transports: ["websocket"], auth: { token: login.access_token }, forceNew: true });
  const assignments = []; // from the start: an assignment may come before the REST answer that opened the session
  socket.on("chat:session_assigned", (a) => assignments.push(a));
  await waitFor(socket, "connect");
  return { socket, token: login.access_token, assignments };
}

/** The next `event` on `emitter` whose first argument passes `match`; fails after `ms`. */
export function waitFor(emitter, event, match = () => true, ms = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${event} within ${ms} ms`));
    }, ms);
    const on = (...args) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args);
    };
    emitter.on(event, on);
  });
}

/** The admin gets the session: assigned automatically (it is the one admin online), else claimed. */
export async function adminTakes(admin, sessionId) {
  const mine = () => admin.assignments.find((a) => a.session_id === sessionId);
  if (!mine()) {
    await waitFor(admin.socket, "chat:session_assigned", (a) => a.session_id === sessionId, 5000).catch(async () => {
      await api(`/api/v4/customer-service/sessions/${sessionId}/claim`, { method: "POST", token: admin.token });
      if (!mine()) await waitFor(admin.socket, "chat:session_assigned", (a) => a.session_id === sessionId);
    });
  }
  return mine();
}

/** The admin replies over its socket (chat:send_message with an ack); resolves to the stored message. */
export async function reply(admin, sessionId, content) {
  const ack = await admin.socket.timeout(10000).emitWithAck("chat:send_message", { session_id: sessionId, content });
  if (!ack.ok) throw new Error(`chat:send_message refused: ${JSON.stringify(ack)}`);
  return ack.data;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
