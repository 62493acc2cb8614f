// The spec's client (socket.io-client 4.7.2, unmodified) against a running gateway.
//
//   GATEWAY_URL=http://127.0.0.1:PORT ADMIN_TOKEN=... BAD_TOKEN=... node client-check.mjs
//
// Prints one JSON object per line on stdout. For each transport mode it prints
// {"ready": mode, "notification_id": n} once connected, then waits for the test to publish `notification:new`
// with that id. Last line: {"result": {...}, "ok": bool}; the exit code is 0 only when every check passed.
import { io } from "socket.io-client";

const url = process.env.GATEWAY_URL;
const adminToken = process.env.ADMIN_TOKEN;
const badToken = process.env.BAD_TOKEN;
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms)),
  ]);
}

async function checkMode(mode, transports, notificationId) {
  const socket = io(url, { auth: { token: adminToken }, transports, reconnection: false, forceNew: true });
  try {
    const received = new Promise((resolve) => socket.on("notification:new", resolve));
    await withTimeout(new Promise((resolve, reject) => {
      socket.on("connect", resolve);
      socket.on("connect_error", reject);
    }), 5000, `${mode} connect`);
    if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
      await withTimeout(new Promise((resolve) => socket.io.engine.once("upgrade", resolve)), 5000, "upgrade");
    }
    say({ ready: mode, notification_id: notificationId });
    const data = await withTimeout(received, 5000, `${mode} notification:new`);
    const ack = await withTimeout(
      socket.emitWithAck("chat:send_message", { session_id: 7, content: `hello over ${mode}` }), 5000,
      `${mode} chat:send_message ack`,
    );
    return {
      transport: socket.io.engine.transport.name,
      notification_id: data.notification_id,
      ack,
    };
  } finally {
    socket.disconnect();
  }
}

async function checkRefused() {
  const socket = io(url, { auth: { token: badToken }, transports: ["websocket"], reconnection: false, forceNew: true });
  try {
    const err = await withTimeout(new Promise((resolve, reject) => {
      socket.on("connect", () => reject(new Error("a bad token was accepted")));
      socket.on("connect_error", resolve);
    }), 5000, "connect_error");
    return { message: err.message, data: err.data ?? null };
  } finally {
    socket.disconnect();
  }
}

const result = {};
let ok = true;
const modes = [["websocket", ["websocket"]], ["polling", ["polling"]], ["upgrade", undefined]];
for (const [index, [mode, transports]] of modes.entries()) {
  try {
    result[mode] = await checkMode(mode, transports, 9000 + index);
  } catch (error) {
    ok = false;
    result[mode] = { error: String(error) };
  }
}
try {
  result.refused = await checkRefused();
} catch (error) {
  ok = false;
  result.refused = { error: String(error) };
}
say({ result, ok });
process.exit(ok ? 0 : 1);
