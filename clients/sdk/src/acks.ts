// Acks with a deadline. Every client -> server event with an ack answers `{ok: true, data?}` or
// `{ok: false, error: {code, message}}` (contracts.socketio.ack); an ack that does not come in time, or that is
// lost with the connection, becomes an AckError with the contracts' codes too, so an app handles one shape.

import type { Ack, AckError, KnownErrorCode } from "./contracts.js";

/** The part of a Socket.IO socket acks need (socket.io-client's Socket has it). */
export interface AckEmitter {
  timeout(ms: number): { emit(event: string, ...args: unknown[]): unknown };
}

export const TIMEOUT: KnownErrorCode = "timeout";
export const UNAVAILABLE: KnownErrorCode = "unavailable";
export const INTERNAL: KnownErrorCode = "internal";

export function ackError(code: KnownErrorCode, message: string): AckError {
  return { ok: false, error: { code, message } };
}

/** The server's answer if it has the Ack shape, else an `internal` AckError (never throws). */
export function toAck(response: unknown): Ack {
  if (response && typeof response === "object") {
    const r = response as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
    if (r.ok === true) return response as Ack;
    if (r.ok === false && r.error && typeof r.error.code === "string") return response as Ack;
  }
  return ackError(INTERNAL, "malformed acknowledgement");
}

/**
 * Emits `event` with `data` and resolves with its Ack: the server's, or `timeout` when none came within
 * `timeoutMs`, or `unavailable` when the connection was lost before it came. Never rejects.
 */
export function emitWithAck(socket: AckEmitter, event: string, data: unknown, timeoutMs: number): Promise<Ack> {
  return new Promise((resolve) => {
    socket.timeout(timeoutMs).emit(event, data, (err: Error | null, response?: unknown) => {
      if (!err) return resolve(toAck(response));
      const lost = /disconnected/.test(String(err.message));
      resolve(lost
        ? ackError(UNAVAILABLE, `${event}: the connection was lost before the acknowledgement`)
        : ackError(TIMEOUT, `${event}: no acknowledgement within ${timeoutMs} ms`));
    });
  });
}
