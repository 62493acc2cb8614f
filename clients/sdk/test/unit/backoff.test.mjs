import assert from "node:assert/strict";
import test from "node:test";
import { Backoff } from "../../dist/wx.js";

test("delays grow by the factor and stop at the cap", () => {
  const backoff = new Backoff({ minMs: 500, maxMs: 4000, factor: 2, jitter: 0, random: () => 0.5 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => backoff.next()), [500, 1000, 2000, 4000, 4000, 4000]);
});

test("jitter spreads each delay by the fraction and never goes past the cap", () => {
  const low = new Backoff({ minMs: 1000, maxMs: 8000, jitter: 0.5, random: () => 0 });
  const high = new Backoff({ minMs: 1000, maxMs: 8000, jitter: 0.5, random: () => 0.999999 });
  assert.deepEqual([1, 2, 3, 4, 5].map(() => low.next()), [500, 1000, 2000, 4000, 4000]);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => high.next()), [1500, 3000, 6000, 8000, 8000]);
});

test("two clients with different luck do not retry at the same moment", () => {
  const a = new Backoff({ minMs: 1000, jitter: 0.5, random: () => 0.1 });
  const b = new Backoff({ minMs: 1000, jitter: 0.5, random: () => 0.9 });
  assert.notEqual(a.next(), b.next());
});

test("reset starts again from the first delay", () => {
  const backoff = new Backoff({ minMs: 200, jitter: 0 });
  backoff.next();
  backoff.next();
  assert.equal(backoff.attempts, 2);
  backoff.reset();
  assert.equal(backoff.next(), 200);
});
