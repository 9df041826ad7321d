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
// Takes the lock, drops every reference to it, makes garbage and collects it, says what it got,
// and holds on until the test closes its stdin (so the two always overlap, however slow a start).
const CHILD = `
import { lockDir } from ${JSON.stringify(DIR_LOCK)};
const kind = lockDir(process.argv[1], process.pid).kind;
for (let i = 0; i < 50; i++) new Array(100000).fill(i);
globalThis.gc?.();
process.stdout.write(kind + "\\n");
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
`;

/** Starts a contender; resolves with what it got while it still holds (or was refused). */
async function contender(dir: string): Promise<{ kind: string; done: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--expose-gc", "--input-type=module", "-e", CHILD, dir], { stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  await new Promise<void>((resolve) => child.stdout.on("data", (c) => ((out += c), out.includes("\n") && resolve())));
  return { kind: out.trim(), done: async () => void (child.stdin.end(), await once(child, "exit")) };
}

describe("lockDir between processes", () => {
  test("two processes started at once on one dir: exactly one holds the lock, every round (10 rounds)", async () => {
    for (let round = 0; round < 10; round++) {
      const dir = tempDir("cw-lock-race-");
      const both = await Promise.all([contender(dir), contender(dir)]);
      await Promise.all(both.map((c) => c.done()));
      assert.deepEqual(both.map((c) => c.kind).sort(), ["busy", "locked"], `round ${round}`);
    }
  });
});
