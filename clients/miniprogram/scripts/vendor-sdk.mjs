// Vendors the client SDK into the mini program: clients/sdk/dist/miniprogram/index.js (CommonJS, websocket over
// wx.connectSocket) -> lib/realtime-sdk.js, which app.js requires. Builds the SDK first when its dist/ is missing
// or `--build` is given (needs clients/sdk/node_modules: `bash scripts/infra.sh sdk`). lib/ is git-ignored: run
// this before opening the project in WeChat DevTools and before the tests (they run it).
import { copyFileSync, existsSync, mkdirSync, statSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(dirname(fileURLToPath(import.meta.url)));
const SDK = join(HERE, "..", "sdk");
const BUILT = join(SDK, "dist", "miniprogram", "index.js");
const TARGET = join(HERE, "lib", "realtime-sdk.js");

if (process.argv.includes("--build") || !existsSync(BUILT)) {
  execFileSync(process.execPath, [join(SDK, "scripts", "build.mjs")], { stdio: "inherit" });
}
mkdirSync(dirname(TARGET), { recursive: true });
copyFileSync(BUILT, TARGET);
console.log(`miniprogram: vendored the SDK into lib/realtime-sdk.js (${(statSync(TARGET).size / 1024).toFixed(1)} KB)`);
