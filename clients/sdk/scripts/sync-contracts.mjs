// Copies the TypeScript that contracts-gen generates from libs/contracts (payload interfaces, the event maps,
// Ack, KnownErrorCode) into src/contracts.d.ts, so the SDK's types are the contracts' (never edited by hand;
// git-ignored here, committed in libs/contracts/generated/). Run by every build.
import { copyFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const SDK = join(dirname(fileURLToPath(import.meta.url)), "..");
export const GENERATED = join(SDK, "..", "..", "libs", "contracts", "generated", "payloads.d.ts");

export function syncContracts() {
  copyFileSync(GENERATED, join(SDK, "src", "contracts.d.ts"));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) syncContracts();
