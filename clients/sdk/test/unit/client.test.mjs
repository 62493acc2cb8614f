// Reconnection, recovery, token renewal and the mini program life cycle, against a hand-written server that
// decides each CONNECT's answer (same pid = recovered; another = not recovered; a refusal with a code).
import assert from "node:assert/strict";
import test from "node:test";
import { TokenKeeper, createWxClient, sessionFrom } from "../../dist/wx.js";
import { createFakeWx } from "../support/fake-wx.mjs";
import { next, startRawServer } from "../support/raw-server.mjs";

const FAST = { minMs: 1, maxMs: 5, jitter: 0 };

async function setup({ onConnect, client = {} } = {}) {
  const server = await startRawServer({ onConnect });
  const fake = createFakeWx();
  const resyncs = [];
  const states = [];
  const c = createWxClient({
    url: server.url, wx: fake.wx, token: "tok-1", backoff: FAST, onResync: () => resyncs.push(c.recovered),
    onStateChange: (s) => states.push(s), ...client,
  });
  await next(c.socket, "connect");
  return { server, fake, client: c, resyncs, states };
}

test("a reconnect inside the window is recovered: pid and offset go back, no resync", async (t) => {
  const { server, fake, client, resyncs } = await setup({ onConnect: () => ({ pid: "p1" }) });
  t.after(() => (client.close(), server.close()));
  server.conns[0].ws.send('42["chat:new_message",{"message_id":1},"offset-7"]');
  await next(client.socket, "chat:new_message");
  fake.cut();
  await next(client.socket, "connect");
  assert.equal(client.recovered, true);
  assert.deepEqual(server.conns[1].connects, [{ pid: "p1", offset: "offset-7", token: "tok-1" }]);
  assert.deepEqual(resyncs, []);
});

test("a reconnect that is not recovered calls onResync once", async (t) => {
  const { server, fake, client, resyncs } = await setup({ onConnect: (auth, n) => ({ pid: `p${n}` }) });
  t.after(() => (client.close(), server.close()));
  fake.cut();
  await next(client.socket, "connect");
  assert.equal(client.recovered, false);
  assert.deepEqual(resyncs, [false]);
});

test("a connection refused for an expired token renews it and connects with the new one", async (t) => {
  const expired = { message: "unauthorized: token expired", data: { code: "token_expired" } };
  let renewals = 0;
  const { server, fake, client } = await setup({
    onConnect: (auth, n) => (auth.token === "tok-1" && n > 1 ? { refuse: expired } : { pid: "p1" }),
    client: { token: () => (renewals ? "tok-2" : "tok-1"), renew: async () => (renewals += 1, "tok-2") },
  });
  t.after(() => (client.close(), server.close()));
  fake.cut();
  await next(client.socket, "connect");
  assert.equal(renewals, 1);
  assert.equal(server.conns.at(-1).connects.at(-1).token, "tok-2");
});

test("a token refused again after a renewal ends the login (unauthorized, no retry loop)", async (t) => {
  const refused = { message: "unauthorized: bad signature", data: { code: "unauthorized" } };
  const server = await startRawServer({ onConnect: () => ({ refuse: refused }) });
  const fake = createFakeWx();
  const failed = [];
  const client = createWxClient({ url: server.url, wx: fake.wx, token: "bad", backoff: FAST,
    renew: async () => "still-bad", onAuthFailed: (err) => failed.push(err.message) });
  t.after(() => (client.close(), server.close()));
  await server.until(() => failed.length === 1);
  assert.equal(client.state, "unauthorized");
  assert.deepEqual(failed, ["unauthorized: bad signature"]);
  assert.equal(server.conns.flatMap((c) => c.connects).length, 2);
});

test("system:token_expired then the server's disconnect: renew and reconnect at once", async (t) => {
  let token = "tok-1";
  const { server, client } = await setup({
    onConnect: () => ({ pid: "p1" }),
    client: { token: () => token, renew: async () => (token = "tok-2") },
  });
  t.after(() => (client.close(), server.close()));
  const conn = server.conns[0];
  conn.ws.send('42["system:token_expired",{"code":"token_expired","message":"expired","expired_at":"x"}]');
  conn.ws.send("41");
  await next(client.socket, "connect");
  assert.equal(server.conns.at(-1).connects.at(-1).token, "tok-2");
  assert.equal(client.recovered, true);
});

test("a renewed TokenKeeper token makes the socket again with it, recovered", async (t) => {
  const keeper = new TokenKeeper({
    session: sessionFrom({ access_token: "tok-1", expires_in: 900, refresh_token: "r1", refresh_expires_in: 9000 }),
    refresh: async () => ({ access_token: "tok-2", expires_in: 900, refresh_token: "r2", refresh_expires_in: 9000 }),
  });
  const { server, client } = await setup({ onConnect: () => ({ pid: "p1" }), client: { token: keeper } });
  t.after(() => (client.close(), server.close()));
  const again = next(client.socket, "connect");
  await keeper.renew();
  await again;
  assert.equal(server.conns.at(-1).connects.at(-1).token, "tok-2");
  assert.equal(client.recovered, true);
});

test("retries stop after maxAttempts failures in a row (state offline) until the app is shown again", async (t) => {
  const server = await startRawServer({ onConnect: () => ({ refuse: { message: "unavailable: down", data: { code: "unavailable" } } }) });
  const fake = createFakeWx();
  const client = createWxClient({ url: server.url, wx: fake.wx, token: "t", backoff: FAST, maxAttempts: 2 });
  t.after(() => (client.close(), server.close()));
  await server.until(() => client.state === "offline");
  assert.equal(server.conns.flatMap((c) => c.connects).length, 3);
  fake.show(); // the app comes back to the foreground: one more try at once
  await server.until(() => server.conns.flatMap((c) => c.connects).length === 4);
});

test("app hidden with background 'close': the socket closes; shown: it reconnects at once and recovers", async (t) => {
  const { server, fake, client, states } = await setup({ onConnect: () => ({ pid: "p1" }),
    client: { backoff: { minMs: 60000, jitter: 0 } } }); // a retry would take a minute: show() must not wait
  t.after(() => (client.close(), server.close()));
  fake.hide();
  await server.until(() => server.conns[0].ws.readyState === 3);
  assert.equal(client.state, "suspended");
  assert.equal(fake.tasks.length, 1); // no reconnect while hidden
  fake.show();
  await next(client.socket, "connect");
  assert.equal(client.recovered, true);
  assert.ok(states.includes("suspended"));
});

test("app hidden with background 'keep': the socket stays open", async (t) => {
  const { server, fake, client } = await setup({ client: { background: "keep" } });
  t.after(() => (client.close(), server.close()));
  fake.hide();
  assert.equal(client.connected, true);
  assert.equal(client.state, "connected");
});

test("network back after a loss: reconnects at once instead of waiting for the backoff", async (t) => {
  const { server, fake, client } = await setup({ client: { backoff: { minMs: 60000, jitter: 0 } } });
  t.after(() => (client.close(), server.close()));
  const lost = next(client.socket, "disconnect");
  fake.cut();
  await lost;
  fake.networkChange(true, "4g");
  await next(client.socket, "connect");
  assert.equal(fake.tasks.length, 2);
});

test("close() removes the life cycle hooks", async (t) => {
  const { server, fake, client } = await setup();
  t.after(() => server.close());
  client.close();
  assert.deepEqual([fake.hooks.hide.size, fake.hooks.show.size, fake.hooks.network.size], [0, 0, 0]);
});

test("request() on the real socket: no ack in time is a timeout, an ack lost with the connection is unavailable", async (t) => {
  const { server, client } = await setup({ onConnect: () => ({ pid: "p1" }), client: { backoff: { minMs: 60000 } } });
  t.after(() => (client.close(), server.close()));
  const late = await client.request("notification:mark_read", { notification_id: 1 }, { timeoutMs: 20 });
  assert.deepEqual([late.ok, late.error.code], [false, "timeout"]);
  const pending = client.request("chat:send_message", { session_id: 1, content: "hi" }, { timeoutMs: 60000 });
  const conn = server.conns[0];
  await server.until(() => conn.frames.some((f) => f.text && f.text.includes("chat:send_message")));
  conn.ws.terminate();
  const lost = await pending;
  assert.deepEqual([lost.ok, lost.error.code], [false, "unavailable"]);
});

test("request() resolves with the server's ack", async (t) => {
  const { server, client } = await setup();
  t.after(() => (client.close(), server.close()));
  const conn = server.conns[0];
  const pending = client.request("chat:send_message", { session_id: 1, content: "hi" });
  await server.until(() => conn.frames.some((f) => f.text && f.text.includes("chat:send_message")));
  const id = /^42(\d+)\[/.exec(conn.frames.at(-1).text)[1];
  conn.ws.send(`43${id}[{"ok":true,"data":{"message_id":5}}]`);
  assert.deepEqual(await pending, { ok: true, data: { message_id: 5 } });
});
