// Sending one chat message so that it is stored once: the message carries an id of its own (`client_msg_id`), and
// when its ack is lost (`timeout`: none in time; `unavailable`: the connection dropped first) the same message is
// sent again with the SAME id, a bounded number of times with capped backoff. The platform stores a message once
// per (sender, id) and answers a resend with the first answer, so a lost ack never makes a second message. Any
// other answer (ok, or a refusal such as `forbidden`, `session_closed`, `rate_limited`) is final.

import type { Ack, SendMessagePayload } from "./contracts.js";
import { TIMEOUT, UNAVAILABLE } from "./acks.js";
import { Backoff, type BackoffOptions } from "./backoff.js";

/** What sending needs of a client: RealtimeClient has it. */
export interface AckRequester {
  request(event: "chat:send_message", data: SendMessagePayload, options?: { timeoutMs?: number }): Promise<Ack>;
}

export interface ChatSendOptions {
  /** Sends in all, the first included, while the ack is lost. Default 3. */
  attempts?: number;
  /** Deadline of each ack (ms). Default: the client's. */
  timeoutMs?: number;
  /** Delays between the sends. Default 1 s, 2 s, ... capped at 8 s, +/- 25 %. */
  backoff?: BackoffOptions;
  /** Timers (tests). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  /** Called before each resend with its number (1 = the first resend) and the lost ack. */
  onRetry?: (attempt: number, lost: Ack) => void;
}

const DEFAULT_BACKOFF: BackoffOptions = { minMs: 1000, maxMs: 8000, factor: 2, jitter: 0.25 };

/** A new id for one message (a UUID where the platform has one; else time + randomness, same alphabet). */
export function newClientMsgId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  const random = () => Math.floor(Math.random() * 0x100000000).toString(36);
  return `m-${Date.now().toString(36)}-${random()}${random()}`;
}

/** True for an ack that says nothing about the message (it may or may not be stored): send it again. */
export function ackWasLost(ack: Ack): boolean {
  return !ack.ok && (ack.error.code === TIMEOUT || ack.error.code === UNAVAILABLE);
}

/**
 * Sends `chat:send_message` with `payload` (its `client_msg_id`, or a new one) and resolves with the final Ack:
 * the first that is not lost, or the last lost one after `attempts` sends. Every send carries the same id.
 */
export async function sendChatMessage(
  client: AckRequester, payload: SendMessagePayload, options: ChatSendOptions = {},
): Promise<Ack> {
  const data: SendMessagePayload = { ...payload, client_msg_id: payload.client_msg_id || newClientMsgId() };
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF);
  const wait = (ms: number) => new Promise<void>((resolve) => {
    (options.setTimer ?? ((fn: () => void, delay: number) => setTimeout(fn, delay)))(resolve, ms);
  });
  const requestOptions = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  let ack = await client.request("chat:send_message", data, requestOptions);
  for (let attempt = 1; attempt < attempts && ackWasLost(ack); attempt++) {
    options.onRetry?.(attempt, ack);
    await wait(backoff.next());
    ack = await client.request("chat:send_message", data, requestOptions);
  }
  return ack;
}
