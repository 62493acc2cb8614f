// The one connection logic of every client (pages, mini program): one Socket.IO socket, authenticated with the
// current access token at every (re)connect; reconnection with capped backoff and jitter for every kind of loss
// (socket.io's own reconnection is off: it does not retry a connection the server refused or closed);
// connection state recovery (socket.io sends its pid/offset; `recovered === true` and the gateway replays what
// was missed, in order) and, when a reconnect is NOT recovered, `onResync` so the app refetches over REST;
// token renewal before expiry and a reconnect with the new token on `system:token_expired` / a refused token.

import { Manager } from "socket.io-client";
import type { Socket } from "socket.io-client";
import type { Ack, ClientToServerEvents, SendMessagePayload, ServerToClientEvents } from "./contracts.js";
import { emitWithAck } from "./acks.js";
import { sendChatMessage, type ChatSendOptions } from "./chat-send.js";
import { Backoff, type BackoffOptions } from "./backoff.js";
import { TokenKeeper } from "./tokens.js";

/** Events a client emits and gets an Ack for. */
export type AckEvent = {
  [K in keyof ClientToServerEvents]: Parameters<ClientToServerEvents[K]> extends [unknown, unknown] ? K : never;
}[keyof ClientToServerEvents];
/** Events a client emits without an Ack. */
export type PlainEvent = Exclude<keyof ClientToServerEvents, AckEvent>;
export type PayloadOf<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
export type ServerEvent = keyof ServerToClientEvents;

export type ConnectionState =
  | "idle" // not started
  | "connecting" // first connection under way
  | "connected"
  | "reconnecting" // lost; a retry is planned or under way
  | "suspended" // closed on purpose while the app is in the background (mini program)
  | "offline" // closed by close(), or gave up after maxAttempts
  | "unauthorized"; // the token was refused and could not be renewed: log in again

/** Where the access token comes from: a fixed one, a function (read at every connect), or a TokenKeeper. */
export type TokenSource = string | (() => string | Promise<string>) | TokenKeeper;

export interface ClientOptions {
  /** The platform's origin (`https://host`); empty: the page's own origin. */
  url?: string;
  /** Default `/socket.io/`. */
  path?: string;
  token: TokenSource;
  /** Renews the token after a refusal when `token` is not a TokenKeeper (resolves to the new token). */
  renew?: () => Promise<string>;
  /** Deadline of every ack (ms). Default 10000. */
  ackTimeoutMs?: number;
  /** Deadline of one connection attempt (ms). Default 10000. */
  connectTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Give up (state `offline`) after this many failed retries in a row. Default Infinity. */
  maxAttempts?: number;
  /** Connect at once (default true); else call connect(). */
  autoConnect?: boolean;
  /** After a reconnect that was NOT recovered: events may have been missed; refetch over REST. */
  onResync?: () => void;
  onStateChange?: (state: ConnectionState, detail?: string) => void;
  /** The token was refused and could not be renewed (the login is over). */
  onAuthFailed?: (error: Error) => void;
  /** Passed to socket.io-client's Manager as is (transports, extraHeaders, the wx adapter's `wx`, ...). */
  socketOptions?: Record<string, unknown>;
  /** Timers (tests). */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (...args: any[]) => void;

export class RealtimeClient {
  /** socket.io-client's socket (escape hatch; prefer the typed methods). */
  readonly socket: Socket;
  private readonly opts: ClientOptions;
  private readonly backoff: Backoff;
  private retryTimer: unknown = null;
  private stateValue: ConnectionState = "idle";
  private everConnected = false;
  private stopped = true;
  private suspended = false;
  private tokenExpired = false;
  private renewedAfterRefusal = false;
  private readonly closeListeners: Array<() => void> = [];

  constructor(options: ClientOptions) {
    this.opts = options;
    this.backoff = new Backoff(options.backoff);
    const manager = new Manager(options.url || undefined, {
      path: options.path ?? "/socket.io/",
      autoConnect: false,
      reconnection: false, // ours below: also after refusals and server closes
      timeout: options.connectTimeoutMs ?? 10000,
      ...options.socketOptions,
    });
    this.socket = manager.socket("/", {
      auth: (cb: (data: object) => void) => {
        Promise.resolve().then(() => this.currentToken()).then((token) => cb({ token }), () => cb({ token: "" }));
      },
    });
    if (options.token instanceof TokenKeeper) {
      options.token.onRenewed(() => this.restart());
    }
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", (reason: string) => this.onDisconnect(reason));
    this.socket.on("connect_error", (err: Error & { data?: { code?: string } }) => this.onConnectError(err));
    this.socket.on("system:token_expired", () => {
      this.tokenExpired = true;
    });
    if (options.autoConnect !== false) this.connect();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** True when the last (re)connect recovered the session: missed events were replayed. */
  get recovered(): boolean {
    return this.socket.recovered;
  }

  /** Listens to a server event; returns the function that stops listening. */
  on<E extends ServerEvent>(event: E, handler: ServerToClientEvents[E]): () => void {
    this.socket.on(event as string, handler as Handler);
    return () => {
      this.socket.off(event as string, handler as Handler);
    };
  }

  /** Emits an event that has an Ack; resolves with it (`timeout` / `unavailable` AckErrors included). */
  request<E extends AckEvent>(event: E, data: PayloadOf<E>, options: { timeoutMs?: number } = {}): Promise<Ack> {
    return emitWithAck(this.socket, event, data, options.timeoutMs ?? this.opts.ackTimeoutMs ?? 10000);
  }

  /**
   * `chat:send_message` stored once: with its `client_msg_id` (a new one if absent), sent again with the same id
   * while its ack is lost (`timeout` / `unavailable`), a bounded number of times (chat-send.ts).
   */
  sendChatMessage(payload: SendMessagePayload, options: ChatSendOptions = {}): Promise<Ack> {
    return sendChatMessage(this, payload, { setTimer: this.opts.setTimer, ...options });
  }

  /** Emits an event without an Ack (dropped, like socket.io's volatile, when not connected). */
  send<E extends PlainEvent>(event: E, data: PayloadOf<E>): void {
    if (this.socket.connected) this.socket.emit(event, data);
  }

  connect(): void {
    this.stopped = false;
    this.suspended = false;
    this.open();
  }

  /** Closes for good (until connect()). */
  close(): void {
    this.stopped = true;
    this.clearRetry();
    this.socket.disconnect();
    this.setState("offline");
    for (const listener of this.closeListeners.splice(0)) listener();
  }

  /** Runs `listener` once at close() (adapters remove their hooks). */
  onClose(listener: () => void): void {
    this.closeListeners.push(listener);
  }

  /** Closes the connection but keeps the session to recover (the app went to the background). */
  suspend(): void {
    if (this.stopped) return;
    this.suspended = true;
    this.clearRetry();
    this.socket.disconnect();
    this.setState("suspended");
  }

  /** Connects again at once, without waiting for the backoff (app shown, network back). */
  reconnectNow(): void {
    if (this.stopped) return;
    this.suspended = false;
    this.backoff.reset();
    if (!this.socket.connected) this.open();
  }

  /** Makes the connection again now (new token, new network): the gateway recovers the session. */
  restart(): void {
    if (this.stopped || this.suspended || !this.socket.connected) return;
    this.socket.disconnect();
    this.open();
  }

  private async currentToken(): Promise<string> {
    const source = this.opts.token;
    if (source instanceof TokenKeeper) {
      const s = source.current;
      if (s.expiresAt <= Date.now() + 5000 && source.canRenew()) return source.renew();
      return source.token;
    }
    return typeof source === "function" ? source() : source;
  }

  private renew(): Promise<string> | null {
    const source = this.opts.token;
    if (source instanceof TokenKeeper) return source.canRenew() ? source.renew() : null;
    return this.opts.renew ? this.opts.renew() : null;
  }

  private open(): void {
    this.clearRetry();
    this.setState(this.everConnected ? "reconnecting" : "connecting");
    this.socket.connect();
  }

  private onConnect(): void {
    this.backoff.reset();
    this.tokenExpired = false;
    this.renewedAfterRefusal = false;
    const resync = this.everConnected && !this.socket.recovered;
    this.everConnected = true;
    this.setState("connected");
    if (resync) this.opts.onResync?.();
  }

  private onDisconnect(reason: string): void {
    if (this.stopped || this.suspended) return;
    if (reason === "io client disconnect") return; // restart(): open() follows
    if (this.tokenExpired) {
      // The gateway ends a socket whose token expired: renew, then connect at once (recovered).
      this.tokenExpired = false;
      this.renewThenOpen(new Error("token_expired"));
      return;
    }
    this.retry(reason);
  }

  private onConnectError(err: Error & { data?: { code?: string } }): void {
    if (this.stopped || this.suspended) return;
    const message = String(err.message || "");
    const code = err.data?.code ?? "";
    if (code === "token_expired" || message.startsWith("unauthorized")) {
      if (this.renewedAfterRefusal) return this.authFailed(err);
      this.renewedAfterRefusal = true;
      this.renewThenOpen(err);
      return;
    }
    this.retry(code || message);
  }

  private renewThenOpen(cause: Error): void {
    const renewal = this.renew();
    if (!renewal) return this.authFailed(cause);
    this.setState("reconnecting", "renewing token");
    renewal.then(() => {
      if (!this.stopped && !this.suspended && !this.socket.connected) this.open();
    }, (err: unknown) => {
      const status = (err as { status?: number }).status;
      if (status !== undefined && status > 0 && status < 500) this.authFailed(cause);
      else this.retry("token renewal failed");
    });
  }

  private authFailed(err: Error): void {
    this.stopped = true;
    this.clearRetry();
    this.socket.disconnect();
    this.setState("unauthorized", err.message);
    this.opts.onAuthFailed?.(err);
  }

  private retry(why: string): void {
    this.clearRetry();
    if (this.backoff.attempts >= (this.opts.maxAttempts ?? Infinity)) {
      this.setState("offline", why); // no more timers; connect() / reconnectNow() (app shown, network back) revive it
      return;
    }
    const delay = this.backoff.next();
    this.setState("reconnecting", why);
    const set = this.opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.retryTimer = set(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.suspended && !this.socket.connected) this.open();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) {
      (this.opts.clearTimer ?? ((h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>)))(this.retryTimer);
    }
    this.retryTimer = null;
  }

  private setState(state: ConnectionState, detail?: string): void {
    this.stateValue = state;
    this.opts.onStateChange?.(state, detail);
  }
}
