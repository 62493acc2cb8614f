// Sending one chat message, the same for the console and the H5 page: over the socket (`chat:send_message`, with
// the ack's deadline) while connected, else over REST with an Idempotency-Key; the pending bubble is confirmed
// with the stored message or marked failed with the reason in the page's language.
import { describeAckError, describeError, newIdempotencyKey } from "./api.js";
import { SEND_ACK_MS } from "./realtime.js";

const BASE = "/api/v4/customer-service";

/**
 * @param {{client: {connected: boolean, request: Function}, call: (path: string, options?: object) => Promise<object>,
 *          view: {confirm: Function, fail: Function}}} page  the page's connection, REST call and conversation view
 */
export function deliverMessage({ client, call, view }, pending, sessionId, content, messageType = "text") {
  const body = messageType === "text" ? { content } : { content, message_type: messageType };
  const done = (result) => {
    if (result.ok) view.confirm(pending, result.data);
    else view.fail(pending, describeAckError(result.error));
  };
  if (client.connected) {
    client.request("chat:send_message", { session_id: sessionId, ...body }, { timeoutMs: SEND_ACK_MS }).then(done);
  } else {
    call(`${BASE}/sessions/${sessionId}/messages`, {
      method: "POST", body, headers: { "Idempotency-Key": newIdempotencyKey() },
    }).then((m) => done({ ok: true, data: m }), (err) => done({ ok: false, error: { message: describeError(err) } }));
  }
}
