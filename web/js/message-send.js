// Sending one chat message, the same for the console and the H5 page: over the socket (`chat:send_message`, with
// the ack's deadline) while connected, else over REST with an Idempotency-Key; the pending bubble is confirmed
// with the stored message or marked failed with the reason in the page's language. The message has one id of its
// own (`clientMsgId`): the socket send carries it as `client_msg_id` and is sent again with it while its ack is
// lost (the SDK's sendChatMessage: `timeout` / `unavailable`, a few times with backoff), the REST send as its
// Idempotency-Key, and the page's retry passes it again: however often it goes out, it is stored once.
import { describeAckError, describeError, newIdempotencyKey } from "./api.js";
import { SEND_ACK_MS } from "./realtime.js";

const BASE = "/api/v4/customer-service";

/**
 * @param {{client: {connected: boolean, request: Function}, call: (path: string, options?: object) => Promise<object>,
 *          view: {confirm: Function, fail: Function, retrying?: Function}}} page  the page's connection, REST call and conversation view
 */
export function deliverMessage({ client, call, view }, pending, sessionId, content, messageType = "text",
  clientMsgId = newIdempotencyKey()) {
  const body = messageType === "text" ? { content } : { content, message_type: messageType };
  const done = (result) => {
    if (result.ok) view.confirm(pending, result.data);
    else view.fail(pending, describeAckError(result.error));
  };
  if (client.connected) {
    client.sendChatMessage({ session_id: sessionId, ...body, client_msg_id: clientMsgId }, {
      timeoutMs: SEND_ACK_MS, onRetry: (attempt) => view.retrying?.(pending, attempt),
    }).then(done);
  } else {
    call(`${BASE}/sessions/${sessionId}/messages`, {
      method: "POST", body, headers: { "Idempotency-Key": clientMsgId },
    }).then((m) => done({ ok: true, data: m }), (err) => done({ ok: false, error: { message: describeError(err) } }));
  }
}
