// The wx transport's framing, through the stand-in `wx` (test/support/fake-wx.mjs) to a hand-written
// Engine.IO server that records every frame.
import assert from "node:assert/strict";
import test from "node:test";
import { createWxClient } from "../../dist/wx.js";
import { createFakeWx } from "../support/fake-wx.mjs";
import { next, startRawServer } from "../support/raw-server.mjs";

async function connected(options = {}) {
  const server = await startRawServer(options.server);
  const fake = createFakeWx();
  const client = createWxClient({ url: server.url, wx: fake.wx, token: "tok-1", ...options.client });
  await next(client.socket, "connect");
  return { server, fake, client, conn: server.conns[0] };
}

test("the mini program connects over wx.connectSocket, websocket only, without Origin or Cookie headers", async (t) => {
  const { server, fake, client, conn } = await connected();
  t.after(() => (client.close(), server.close()));
  assert.equal(fake.tasks.length, 1);
  assert.match(fake.tasks[0].url, /^ws:\/\/127\.0\.0\.1:\d+\/socket\.io\/\?EIO=4&transport=websocket$/);
  assert.equal(conn.headers.origin, undefined);
  assert.equal(conn.headers.cookie, undefined);
  assert.deepEqual(conn.connects, [{ token: "tok-1" }]);
});

test("text packets leave as string frames and binary attachments as ArrayBuffer frames", async (t) => {
  const { server, fake, client, conn } = await connected();
  t.after(() => (client.close(), server.close()));
  client.socket.emit("upload", new Uint8Array([1, 2, 3]).subarray(1)); // a view: wx takes only ArrayBuffer
  await server.until(() => conn.frames.some((f) => f.binary));
  assert.deepEqual(fake.rejectedSends, []);
  assert.ok(fake.sent.every((f) => (f.kind === "text" ? typeof f.data === "string" : f.data instanceof ArrayBuffer)));
  assert.equal(conn.frames.at(-2).text, '451-["upload",{"_placeholder":true,"num":0}]');
  assert.deepEqual(conn.frames.at(-1), { binary: true, bytes: [2, 3] });
});

test("binary frames from the server reach the app as ArrayBuffer, text frames as parsed events", async (t) => {
  const { server, client, conn } = await connected();
  t.after(() => (client.close(), server.close()));
  const got = next(client.socket, "file");
  conn.ws.send('451-["file",{"name":"a.png"},{"_placeholder":true,"num":0}]');
  conn.ws.send(Buffer.from([9, 8, 7]), { binary: true });
  const [meta, bytes] = await got;
  assert.deepEqual(meta, { name: "a.png" });
  assert.ok(bytes instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(bytes)], [9, 8, 7]);
  const message = next(client.socket, "chat:new_message");
  conn.ws.send('42["chat:new_message",{"message_id":1}]');
  assert.deepEqual(await message, [{ message_id: 1 }]);
});

test("a server close reaches the client as a lost transport, not a crash", async (t) => {
  const { server, client, conn } = await connected({ client: { backoff: { minMs: 60000 } } });
  t.after(() => (client.close(), server.close()));
  const gone = next(client.socket, "disconnect");
  conn.ws.terminate();
  assert.deepEqual((await gone)[0], "transport close");
  assert.equal(client.state, "reconnecting");
});
