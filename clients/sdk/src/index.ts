// Pages (browser): the browser's own WebSocket, long-polling as the fallback.
import { RealtimeClient, type ClientOptions } from "./client.js";

export * from "./shared.js";

export interface BrowserClientOptions extends ClientOptions {
  /** Default ["websocket", "polling"]. */
  transports?: Array<"websocket" | "polling">;
}

export function createClient(options: BrowserClientOptions): RealtimeClient {
  const { transports, ...rest } = options;
  return new RealtimeClient({
    ...rest,
    socketOptions: { transports: transports ?? ["websocket", "polling"], ...rest.socketOptions },
  });
}
