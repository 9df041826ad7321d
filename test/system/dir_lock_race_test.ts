/**
 * lockDir between real processes racing for one directory: exactly one wins every round, whether
 * the two start at the same instant (each may first hold the shared lock the other's EXCLUSIVE
 * needs: both were refused before the retry) or the winner keeps no reference to its lock (the
 * database is held by the module, not left to the garbage collector).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { tempDir } from "../_support/temp_dirs.ts";

const DIR_LOCK = fileURLToPath(new URL("../../src/base/dir_lock.ts", import.meta.url));
// Takes the lock, drops every reference to it, makes garbage and collects it, then says what it got.
const CHILD = `
import { lockDir } from ${JSON.stringify(DIR_LOCK)};
const kind = lockDir(process.argv[1], process.pid).kind;
for (let i = 0; i < 50; i++) new Array(100000).fill(i);
globalThis.gc?.();
setTimeout(() => { process.stdout.write(kind); process.exit(0); }, 250);
`;

async function contender(dir: string): Promise<string> {
  const child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", CHILD, dir], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (c) => (out += c));
  await once(child, "exit");
  return out;
}

describe("lockDir between processes", () => {
  test("two processes started at once on one dir: exactly one holds the lock, every round (10 rounds)", async () => {
    for (let round = 0; round < 10; round++) {
      const dir = tempDir("cw-lock-race-");
      const kinds = (await Promise.all([contender(dir), contender(dir)])).sort();
      assert.deepEqual(kinds, ["busy", "locked"], `round ${round}`);
    }
  });
});
