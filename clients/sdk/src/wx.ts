// The mini program: websocket only, over wx.connectSocket (src/wx/transport.ts; the build swaps
// engine.io-client for src/wx/engine.ts), plus the mini program's life cycle:
// - wx.onAppHide: `background: "close"` (default) closes the socket and keeps the session to recover;
//   "keep" leaves it open (WeChat may still cut it after ~5 s in the background);
// - wx.onAppShow: reconnect at once (recovered when within the gateway's window, else onResync);
// - wx.onNetworkStatusChange: network back, or another network: reconnect at once.
import { RealtimeClient, type ClientOptions } from "./client.js";
import { RefreshRefused, type Refresher, type TokenResponse } from "./tokens.js";
import { globalWx, type WxApi } from "./wx/transport.js";

export * from "./shared.js";
export { WxWebSocket } from "./wx/transport.js";
export type { WxApi, WxSocketTask } from "./wx/transport.js";

export interface WxClientOptions extends ClientOptions {
  /** `https://host` of the platform (wss:// follows from it). Required: a mini program has no origin. */
  url: string;
  /** The `wx` API (default: the global one). */
  wx?: WxApi;
  /** On wx.onAppHide: "close" (default) or "keep" the socket. */
  background?: "close" | "keep";
}

export function createWxClient(options: WxClientOptions): RealtimeClient {
  const api = options.wx ?? globalWx();
  if (!api) throw new Error("createWxClient: no wx API (pass options.wx outside a mini program)");
  const client = new RealtimeClient({
    ...options,
    socketOptions: { ...options.socketOptions, wx: api },
  });
  const onHide = (): void => {
    if ((options.background ?? "close") === "close") client.suspend();
  };
  const onShow = (): void => client.reconnectNow();
  const onNetwork = (res: { isConnected: boolean }): void => {
    if (!res.isConnected) return;
    if (client.connected) client.restart(); // another network: the old socket is dead or soon will be
    else client.reconnectNow();
  };
  api.onAppHide?.(onHide);
  api.onAppShow?.(onShow);
  api.onNetworkStatusChange?.(onNetwork);
  client.onClose(() => {
    api.offAppHide?.(onHide);
    api.offAppShow?.(onShow);
    api.offNetworkStatusChange?.(onNetwork);
  });
  return client;
}

/** A Refresher over wx.request: `POST {baseUrl}/api/v4/auth/refresh`. */
export function wxRefresher(baseUrl: string, api: WxApi | undefined = globalWx()): Refresher {
  return (refreshToken) => new Promise<TokenResponse>((resolve, reject) => {
    if (!api || !api.request) return reject(new Error("wx.request is not available"));
    api.request({
      url: `${baseUrl}/api/v4/auth/refresh`, method: "POST", data: { refresh_token: refreshToken },
      header: { "content-type": "application/json" },
      success: (res) => {
        const body = res.data as TokenResponse & { error?: { code?: string } };
        if (res.statusCode >= 200 && res.statusCode < 300) resolve(body);
        else if (res.statusCode < 500) reject(new RefreshRefused(res.statusCode, body?.error?.code ?? "refresh_refused"));
        else reject(Object.assign(new Error(`refresh failed: ${res.statusCode}`), { status: res.statusCode }));
      },
      fail: (err) => reject(Object.assign(new Error(err.errMsg), { status: 0 })),
    });
  });
}
