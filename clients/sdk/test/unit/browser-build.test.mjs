// The pages' build (dist/index.js: the browser's own WebSocket) against the hand-written server. Node 20 has a
// browser-like global WebSocket only with --experimental-websocket (the test command passes it).
import assert from "node:assert/strict";
import test from "node:test";
import { createClient } from "../../dist/index.js";
import { next, startRawServer } from "../support/raw-server.mjs";

test("the pages' build connects with the browser's WebSocket and recovers like the mini program's", {
  skip: typeof WebSocket === "undefined" && "no global WebSocket (node --experimental-websocket)",
}, async (t) => {
  const server = await startRawServer({ onConnect: () => ({ pid: "p1" }) });
  const resyncs = [];
  const client = createClient({ url: server.url, token: () => "tok-b", transports: ["websocket"],
    backoff: { minMs: 1, maxMs: 5 }, onResync: () => resyncs.push(1) });
  t.after(() => (client.close(), server.close()));
  await next(client.socket, "connect");
  assert.deepEqual(server.conns[0].connects, [{ token: "tok-b" }]);
  server.conns[0].ws.terminate();
  await next(client.socket, "connect");
  assert.equal(client.recovered, true);
  assert.deepEqual(resyncs, []);
});
