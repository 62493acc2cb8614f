import assert from "node:assert/strict";
import test from "node:test";
import { ackWasLost, newClientMsgId, sendChatMessage } from "../../dist/index.js";

const lost = { ok: false, error: { code: "timeout", message: "chat:send_message: no acknowledgement within 5 ms" } };
const dropped = { ok: false, error: { code: "unavailable", message: "the connection was lost" } };
const stored = { ok: true, data: { message_id: 41, message_content: "hi" } };

/** A client whose acks come from `answers` in turn; records every payload it was asked to send. */
function fakeClient(answers) {
  return {
    sent: [],
    async request(event, data, options) {
      this.sent.push({ event, data, options });
      return answers[Math.min(this.sent.length, answers.length) - 1];
    },
  };
}

const noWait = { setTimer: (fn) => { fn(); return 0; } };

test("a send whose ack is lost is sent again with the same client_msg_id until an answer comes", async () => {
  const client = fakeClient([lost, dropped, stored]);
  const delays = [];
  const ack = await sendChatMessage(client, { session_id: 3, content: "hi" }, {
    setTimer: (fn, ms) => { delays.push(ms); fn(); return 0; }, backoff: { minMs: 100, jitter: 0 },
  });

  assert.deepEqual(ack, stored);
  assert.equal(client.sent.length, 3);
  const ids = client.sent.map((s) => s.data.client_msg_id);
  assert.match(ids[0], /^[A-Za-z0-9_-]{1,64}$/);
  assert.deepEqual(ids, [ids[0], ids[0], ids[0]]);
  assert.deepEqual(client.sent.map((s) => [s.event, s.data.session_id, s.data.content]),
    Array(3).fill(["chat:send_message", 3, "hi"]));
  assert.deepEqual(delays, [100, 200]); // capped exponential backoff between the sends
});

test("the client's own client_msg_id is kept, and each new message gets a new one", async () => {
  const client = fakeClient([lost, stored]);
  await sendChatMessage(client, { session_id: 3, content: "hi", client_msg_id: "mine-1" }, noWait);
  assert.deepEqual(client.sent.map((s) => s.data.client_msg_id), ["mine-1", "mine-1"]);

  const other = fakeClient([stored]);
  await sendChatMessage(other, { session_id: 3, content: "a" }, noWait);
  await sendChatMessage(other, { session_id: 3, content: "b" }, noWait);
  assert.notEqual(other.sent[0].data.client_msg_id, other.sent[1].data.client_msg_id);
});

test("resends are bounded: after the last lost ack the send resolves with it", async () => {
  const client = fakeClient([lost]);
  const ack = await sendChatMessage(client, { session_id: 3, content: "hi" }, { ...noWait, attempts: 4 });
  assert.deepEqual(ack, lost);
  assert.equal(client.sent.length, 4);
});

test("a refusal is final: never sent again", async () => {
  for (const code of ["forbidden", "session_closed", "rate_limited", "idempotency_key_reused", "invalid_payload"]) {
    const refused = { ok: false, error: { code, message: code } };
    const client = fakeClient([refused, stored]);
    assert.deepEqual(await sendChatMessage(client, { session_id: 3, content: "hi" }, noWait), refused);
    assert.equal(client.sent.length, 1, code);
  }
});

test("only timeout and unavailable count as a lost ack; new ids have the contract's alphabet", () => {
  assert.equal(ackWasLost(lost), true);
  assert.equal(ackWasLost(dropped), true);
  assert.equal(ackWasLost(stored), false);
  assert.equal(ackWasLost({ ok: false, error: { code: "internal", message: "x" } }), false);
  assert.match(newClientMsgId(), /^[A-Za-z0-9_-]{1,64}$/);
});
