import assert from "node:assert/strict";
import test from "node:test";
import { TIMEOUT, UNAVAILABLE, emitWithAck } from "../../dist/wx.js";

/** A socket whose acks the test decides: `answer(event, data, ack)`. */
function fakeSocket(answer) {
  return {
    timeoutMs: null,
    timeout(ms) {
      this.timeoutMs = ms;
      return { emit: (event, data, ack) => answer(event, data, ack, ms) };
    },
  };
}

test("an ack that does not come in time resolves as the contracts' timeout error", async () => {
  const socket = fakeSocket((event, data, ack, ms) => setTimeout(() => ack(new Error("operation has timed out")), ms));
  const ack = await emitWithAck(socket, "chat:send_message", { session_id: 1 }, 5);
  assert.equal(socket.timeoutMs, 5);
  assert.equal(ack.ok, false);
  assert.equal(ack.error.code, TIMEOUT);
  assert.equal(ack.error.code, "timeout");
});

test("an ack lost with the connection resolves as unavailable", async () => {
  const socket = fakeSocket((event, data, ack) => ack(new Error("socket has been disconnected")));
  const ack = await emitWithAck(socket, "notification:mark_read", {}, 1000);
  assert.deepEqual([ack.ok, ack.error.code], [false, UNAVAILABLE]);
});

test("the server's ack comes through unchanged, error codes included", async () => {
  const ok = await emitWithAck(fakeSocket((e, d, ack) => ack(null, { ok: true, data: { message_id: 7 } })), "x", {}, 1000);
  assert.deepEqual(ok, { ok: true, data: { message_id: 7 } });
  const refused = { ok: false, error: { code: "rate_limited", message: "slow down" } };
  assert.deepEqual(await emitWithAck(fakeSocket((e, d, ack) => ack(null, refused)), "x", {}, 1000), refused);
});

test("a malformed ack becomes an internal error instead of a crash", async () => {
  const ack = await emitWithAck(fakeSocket((e, d, ack) => ack(null, "yes")), "x", {}, 1000);
  assert.deepEqual([ack.ok, ack.error.code], [false, "internal"]);
});
