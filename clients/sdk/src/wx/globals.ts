// Replaces engine.io-client's globals.js in the mini program build. The original finds the global object with
// `self`, `window` or `Function("return this")()`: a mini program has no `self`/`window` and forbids
// `Function(...)`, which is why the ecosystem's mini program clients need a fake `window`. engine.io-client
// only needs timers from it (installTimerFunctions); the wx transport needs nothing global.

export const nextTick = (cb: () => void): unknown => Promise.resolve().then(cb);
export const globalThisShim = {
  setTimeout: (fn: () => void, ms?: number) => setTimeout(fn, ms),
  clearTimeout: (handle: ReturnType<typeof setTimeout>) => clearTimeout(handle),
};
export const defaultBinaryType = "arraybuffer";
export function createCookieJar(): undefined {
  return undefined; // a mini program has no cookies
}
