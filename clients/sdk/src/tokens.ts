// The access token the socket connects with, renewed before it expires with auth-svc's refresh flow
// (`POST /api/v4/auth/refresh {refresh_token}` -> a new access token AND a new refresh token; a refresh token is
// single-use, so one renewal runs at a time). Same timing as the pages (web/js/auth.js): a minute before expiry,
// or at half the token's life when it is shorter; after a network failure, again 10 s later.

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
  refresh_expires_in?: number;
  [key: string]: unknown;
}

export interface Session {
  accessToken: string;
  /** When the access token expires (ms since the epoch). */
  expiresAt: number;
  refreshToken?: string;
  refreshExpiresAt?: number;
}

/** The session a login / refresh answer describes (times from `expires_in`, no JWT decoding needed). */
export function sessionFrom(response: TokenResponse, now: number = Date.now()): Session {
  const session: Session = { accessToken: response.access_token, expiresAt: now + response.expires_in * 1000 };
  if (response.refresh_token) {
    session.refreshToken = response.refresh_token;
    session.refreshExpiresAt = now + (response.refresh_expires_in ?? 0) * 1000;
  }
  return session;
}

/** A 4xx refusal of the refresh token (the login is over), as opposed to a network failure or a 5xx. */
export class RefreshRefused extends Error {
  constructor(readonly status: number, readonly code: string) {
    super(`refresh refused: ${status} ${code}`);
  }
}

/** Trades a refresh token for a new TokenResponse; rejects with RefreshRefused on a 4xx answer. */
export type Refresher = (refreshToken: string) => Promise<TokenResponse>;

type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string }) =>
  Promise<{ status: number; ok: boolean; json(): Promise<unknown> }>;

/** A Refresher over `fetch` (pages, Node): `POST {baseUrl}/api/v4/auth/refresh`. */
export function fetchRefresher(baseUrl: string, fetchImpl: FetchLike = globalThis.fetch as unknown as FetchLike): Refresher {
  return async (refreshToken) => {
    const res = await fetchImpl(`${baseUrl}/api/v4/auth/refresh`, {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    const body = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
    if (res.status >= 400 && res.status < 500) throw new RefreshRefused(res.status, body.error?.code ?? "refresh_refused");
    if (!res.ok) throw Object.assign(new Error(`refresh failed: ${res.status}`), { status: res.status });
    return body as TokenResponse;
  };
}

export interface TokenKeeperOptions {
  session: Session;
  refresh: Refresher;
  /** Renew this long before expiry (ms; half the life when that is shorter). Default 60000. */
  aheadMs?: number;
  /** After a network failure of a renewal, try again this much later (ms). Default 10000. */
  retryMs?: number;
  /** Called with every new session (to store it). */
  onSession?: (session: Session) => void;
  /** Called when the login cannot be renewed any more (refresh refused or expired). */
  onEnded?: (reason: unknown) => void;
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class TokenKeeper {
  private session: Session;
  private readonly opts: TokenKeeperOptions;
  private readonly now: () => number;
  private timer: unknown = null;
  private inflight: Promise<string> | null = null;
  private readonly listeners: Array<(token: string) => void> = [];
  private running = false;

  constructor(options: TokenKeeperOptions) {
    this.opts = options;
    this.session = options.session;
    this.now = options.now ?? Date.now;
  }

  /** The access token to connect with now. */
  get token(): string {
    return this.session.accessToken;
  }

  get current(): Session {
    return this.session;
  }

  /** Calls `listener(newToken)` after every renewal (the client reconnects with it). */
  onRenewed(listener: (token: string) => void): void {
    this.listeners.push(listener);
  }

  canRenew(): boolean {
    const s = this.session;
    return Boolean(s.refreshToken && (s.refreshExpiresAt === undefined || s.refreshExpiresAt > this.now()));
  }

  /** When the next renewal is due (ms from now). */
  delayUntilRenewal(): number {
    const life = this.session.expiresAt - this.now();
    return Math.max(0, life - Math.min(this.opts.aheadMs ?? 60000, life / 2));
  }

  /** Plans renewals ahead of expiry until stop(). */
  start(): void {
    this.running = true;
    this.plan();
  }

  stop(): void {
    this.running = false;
    this.clear();
  }

  /** Renews now (one renewal at a time: concurrent callers share it); resolves to the new access token. */
  renew(): Promise<string> {
    if (!this.inflight) {
      this.inflight = this.doRenew().finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async doRenew(): Promise<string> {
    if (!this.canRenew()) throw new RefreshRefused(401, "refresh_token_invalid");
    const response = await this.opts.refresh(this.session.refreshToken as string);
    this.session = sessionFrom(response, this.now());
    this.opts.onSession?.(this.session);
    for (const listener of this.listeners) listener(this.session.accessToken);
    if (this.running) this.plan();
    return this.session.accessToken;
  }

  private clear(): void {
    if (this.timer !== null) (this.opts.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>);
    this.timer = null;
  }

  private plan(delay: number = this.delayUntilRenewal()): void {
    this.clear();
    if (!this.running) return;
    if (!this.canRenew()) return; // nothing to renew with: the socket is refused at expiry, onEnded then
    const set = this.opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
    this.timer = set(() => {
      this.timer = null;
      this.renew().catch((err) => {
        if (err instanceof RefreshRefused) this.opts.onEnded?.(err);
        else this.plan(this.opts.retryMs ?? 10000);
      });
    }, Math.min(delay, 2 ** 31 - 1));
  }
}
