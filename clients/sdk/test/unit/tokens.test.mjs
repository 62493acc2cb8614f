import assert from "node:assert/strict";
import test from "node:test";
import { RefreshRefused, TokenKeeper, fetchRefresher, sessionFrom } from "../../dist/wx.js";

/** Timers the test fires by hand: `timers.pending` holds {fn, ms}. */
function manualTimers() {
  const timers = { pending: [] };
  timers.set = (fn, ms) => {
    const t = { fn, ms };
    timers.pending.push(t);
    return t;
  };
  timers.clear = (t) => {
    timers.pending = timers.pending.filter((x) => x !== t);
  };
  timers.fire = async () => {
    const t = timers.pending.shift();
    t.fn();
    await new Promise((r) => setImmediate(r));
  };
  return timers;
}

const NOW = 1_700_000_000_000;
const login = (n, expiresIn = 900) => ({ access_token: `access-${n}`, expires_in: expiresIn, refresh_token: `refresh-${n}`,
  refresh_expires_in: 86400 });

function keeper({ expiresIn = 900, refresh, onEnded } = {}) {
  const timers = manualTimers();
  const renewed = [];
  const k = new TokenKeeper({
    session: sessionFrom(login(1, expiresIn), NOW), refresh, onEnded, now: () => NOW,
    setTimer: timers.set, clearTimer: timers.clear,
  });
  k.onRenewed((token) => renewed.push(token));
  return { k, timers, renewed };
}

test("renewal is planned a minute before the access token expires", () => {
  const { k, timers } = keeper({ expiresIn: 900, refresh: async () => login(2) });
  k.start();
  assert.deepEqual(timers.pending.map((t) => t.ms), [840_000]);
});

test("a short-lived token is renewed at half its life", () => {
  const { k, timers } = keeper({ expiresIn: 60, refresh: async () => login(2) });
  k.start();
  assert.deepEqual(timers.pending.map((t) => t.ms), [30_000]);
});

test("a renewal trades the refresh token, tells the listeners and plans the next one", async () => {
  const used = [];
  const { k, timers, renewed } = keeper({ refresh: async (token) => (used.push(token), login(2)) });
  k.start();
  await timers.fire();
  assert.deepEqual(used, ["refresh-1"]);
  assert.deepEqual(renewed, ["access-2"]);
  assert.equal(k.token, "access-2");
  assert.equal(k.current.refreshToken, "refresh-2");
  assert.deepEqual(timers.pending.map((t) => t.ms), [840_000]);
});

test("concurrent renewals send the single-use refresh token once", async () => {
  let calls = 0;
  const { k } = keeper({ refresh: async () => (calls += 1, login(2)) });
  const tokens = await Promise.all([k.renew(), k.renew(), k.renew()]);
  assert.equal(calls, 1);
  assert.deepEqual(tokens, ["access-2", "access-2", "access-2"]);
});

test("a network failure of a renewal is retried ten seconds later", async () => {
  const { k, timers } = keeper({ refresh: async () => { throw Object.assign(new Error("offline"), { status: 0 }); } });
  k.start();
  await timers.fire();
  assert.deepEqual(timers.pending.map((t) => t.ms), [10_000]);
});

test("a refused refresh token ends the login instead of retrying", async () => {
  const ended = [];
  const { k, timers } = keeper({ refresh: async () => { throw new RefreshRefused(401, "refresh_token_invalid"); },
    onEnded: (err) => ended.push(err.code) });
  k.start();
  await timers.fire();
  assert.deepEqual(ended, ["refresh_token_invalid"]);
  assert.deepEqual(timers.pending, []);
});

test("fetchRefresher posts the refresh token to auth-svc's refresh route and tells 4xx from 5xx", async () => {
  const calls = [];
  const answers = [[200, login(2)], [401, { error: { code: "refresh_token_reused" } }], [503, {}]];
  const fetchImpl = async (url, init) => {
    calls.push([url, init.method, JSON.parse(init.body)]);
    const [status, body] = answers.shift();
    return { status, ok: status < 300, json: async () => body };
  };
  const refresh = fetchRefresher("https://platform.example", fetchImpl);
  assert.equal((await refresh("r1")).access_token, "access-2");
  await assert.rejects(refresh("r1"), (err) => err instanceof RefreshRefused && err.code === "refresh_token_reused");
  await assert.rejects(refresh("r1"), (err) => !(err instanceof RefreshRefused) && err.status === 503);
  assert.deepEqual(calls[0], ["https://platform.example/api/v4/auth/refresh", "POST", { refresh_token: "r1" }]);
});
