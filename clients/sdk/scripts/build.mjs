// Builds dist/: `index.js` (pages: ES module, the browser's WebSocket + polling), `wx.js` (mini program: ES
// module, websocket only over wx.connectSocket), `miniprogram/index.js` (the same as CommonJS, for the mini
// program's "build npm"), and the TypeScript declarations (dist/types, with the contracts' payloads.d.ts).
// Prints the size of the mini program build; `--check-size` exits 1 when it is over the budget.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, resolve as resolvePath } from "node:path";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";
import { SDK, syncContracts } from "./sync-contracts.mjs";

// minified, not gzipped; SDK_WX_BUDGET_BYTES overrides it (the test that checks the check fails over budget)
export const WX_BUDGET_BYTES = Number(process.env.SDK_WX_BUDGET_BYTES || 60 * 1024);
const EIO = join(SDK, "node_modules", "engine.io-client", "build", "esm");
const DIST = join(SDK, "dist");

/** The mini program build's module swaps (see src/wx/engine.ts and src/wx/globals.ts). */
const wxModules = {
  name: "wx-modules",
  setup(build) {
    // socket.io-client's `import ... from "engine.io-client"` -> the websocket-only engine over wx.
    build.onResolve({ filter: /^engine\.io-client$/ }, (args) =>
      args.importer.includes(`${join("node_modules", "socket.io-client")}`)
        ? { path: join(SDK, "src", "wx", "engine.ts") } : undefined);
    // deep imports of engine.io-client's own modules (its package "exports" hide them)
    build.onResolve({ filter: /^engine\.io-client\/build\/esm\// }, (args) =>
      ({ path: join(SDK, "node_modules", args.path) }));
    // engine.io-client's global-object lookup (needs `Function`, forbidden in mini programs) -> ours
    build.onResolve({ filter: /\/globals(\.node)?\.js$/ }, (args) =>
      args.importer.startsWith(EIO) || args.importer.includes(join("src", "wx"))
        ? { path: join(SDK, "src", "wx", "globals.ts") } : undefined);
    // the default transports table (polling, WebTransport) is never used by SocketWithoutUpgrade
    build.onResolve({ filter: /\/transports\/index\.js$/ }, (args) =>
      args.importer.startsWith(EIO) ? { path: "none", namespace: "no-transports" } : undefined);
    build.onLoad({ filter: /.*/, namespace: "no-transports" }, () => ({ contents: "export const transports = {};" }));
  },
};

/** Our code needs only socket.io-client's Manager (not its io() cache nor its re-exports of every transport). */
const managerOnly = {
  name: "manager-only",
  setup(build) {
    build.onResolve({ filter: /^socket\.io-client$/ }, (args) => args.importer.startsWith(join(SDK, "src"))
      ? { path: join(SDK, "node_modules", "socket.io-client", "build", "esm", "manager.js") } : undefined);
  },
};

const common = { bundle: true, minify: true, legalComments: "none", logLevel: "warning", sourcemap: false };

export async function build() {
  syncContracts();
  rmSync(DIST, { recursive: true, force: true });
  await esbuild.build({ ...common, entryPoints: [join(SDK, "src", "index.ts")], outfile: join(DIST, "index.js"),
    format: "esm", platform: "browser", target: "es2019", plugins: [managerOnly] });
  await esbuild.build({ ...common, entryPoints: [join(SDK, "src", "wx.ts")], outfile: join(DIST, "wx.js"),
    format: "esm", platform: "neutral", mainFields: ["module", "main"], target: "es2017", plugins: [managerOnly, wxModules] });
  await esbuild.build({ ...common, entryPoints: [join(SDK, "src", "wx.ts")],
    outfile: join(DIST, "miniprogram", "index.js"), format: "cjs", platform: "neutral",
    mainFields: ["module", "main"], target: "es2017", plugins: [managerOnly, wxModules] });
  const tsc = (project) => execFileSync(process.execPath, [join(SDK, "node_modules", "typescript", "bin", "tsc"), "-p",
    project], { stdio: "inherit" });
  tsc(join(SDK, "tsconfig.json"));
  tsc(join(SDK, "test", "types", "tsconfig.json")); // the typed-events checks: wrong names/payloads must not compile
  copyFileSync(join(SDK, "src", "contracts.d.ts"), join(DIST, "types", "contracts.d.ts"));
  return sizes();
}

export function sizes() {
  const size = (file) => {
    const bytes = readFileSync(join(DIST, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes).length };
  };
  return { wx: size("wx.js"), browser: size("index.js") };
}

if (resolvePath(process.argv[1]) === resolvePath(new URL(import.meta.url).pathname)) {
  const { wx, browser } = await build();
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`sdk: mini program build dist/wx.js ${kb(wx.bytes)} minified (${kb(wx.gzip)} gzip), ` +
    `budget ${kb(WX_BUDGET_BYTES)}; pages build dist/index.js ${kb(browser.bytes)} (${kb(browser.gzip)} gzip)`);
  if (process.argv.includes("--check-size") && wx.bytes > WX_BUDGET_BYTES) {
    console.error(`sdk: dist/wx.js is ${wx.bytes} bytes, over the ${WX_BUDGET_BYTES}-byte budget`);
    process.exit(1);
  }
}
