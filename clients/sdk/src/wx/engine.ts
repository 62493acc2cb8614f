// What socket.io-client imports from "engine.io-client", in the mini program build (esbuild aliases it here):
// engine.io-client's SocketWithoutUpgrade (no polling, no upgrade code) with the wx transport as its one
// transport, so the bundle holds neither XHR/fetch polling nor the browser WebSocket.

import { SocketWithoutUpgrade } from "engine.io-client/build/esm/socket.js";
import { WxWebSocket } from "./transport.js";

export { installTimerFunctions } from "engine.io-client/build/esm/util.js";
export { parse } from "engine.io-client/build/esm/contrib/parseuri.js";
export { nextTick } from "./globals.js";

export class Socket extends SocketWithoutUpgrade {
  constructor(uri: string | Record<string, unknown>, opts: Record<string, unknown> = {}) {
    const o = typeof uri === "object" ? uri : opts;
    o.transports = [WxWebSocket];
    super(uri as string, o as never);
  }
}
