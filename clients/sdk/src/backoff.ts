// Capped exponential backoff with jitter: the delay before reconnect attempt n is
// min(maxMs, minMs * factor^n), spread by +/- jitter (a fraction) at random, and never above maxMs.
// Jitter keeps thousands of clients dropped at once (a gateway restart) from coming back in one wave.

export interface BackoffOptions {
  /** Delay before the first retry (ms). Default 500. */
  minMs?: number;
  /** Cap of every delay, jitter included (ms). Default 30000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random spread, a fraction of the delay in [0, 1]: 0.5 gives delay * [0.5, 1.5). Default 0.5. */
  jitter?: number;
  /** Source of randomness in [0, 1) (tests pass a fixed one). Default Math.random. */
  random?: () => number;
}

export class Backoff {
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  /** Retries planned since the last reset. */
  attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.minMs = Math.max(0, options.minMs ?? 500);
    this.maxMs = Math.max(this.minMs, options.maxMs ?? 30000);
    this.factor = Math.max(1, options.factor ?? 2);
    this.jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
    this.random = options.random ?? Math.random;
  }

  /** The delay before the next attempt (ms); counts the attempt. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * Math.pow(this.factor, this.attempts));
    this.attempts += 1;
    const spread = base * this.jitter;
    const delay = base - spread + this.random() * 2 * spread;
    return Math.round(Math.min(this.maxMs, Math.max(0, delay)));
  }

  /** After a successful connect: the next drop starts from minMs again. */
  reset(): void {
    this.attempts = 0;
  }
}
