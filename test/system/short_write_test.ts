/**
 * Nothing acknowledged that is not whole on disk, with real short writes: the worker runs under
 * `prlimit --fsize` (Node ignores SIGXFSZ, so a write past the limit comes back short, the next one
 * EFBIG). Tasks are posted until the journal refuses one with 503 ERR_STATE_DIR; the file then holds
 * only whole records, and after kill -9 and a restart without the limit every 202'd task is known.
 */
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { requireProgram } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { kill9, postTask, spawnWorker, whenReady } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "short-write-key-0123456789012345";
const LIMIT = 200_000;
let sim: Simulator;
before(async () => (sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 200, token: 200 }, seed: 9 })));
after(() => sim.close());

describe("short writes under prlimit --fsize", () => {
  test("a journal write cut short fails its task with 503 ERR_STATE_DIR; every 202'd task survives kill -9 and the file has no partial line", async (t) => {
    const prlimit = requireProgram(t, "prlimit", "util-linux");
    if (!prlimit) return;
    const dir = tempDir("cw-short-");
    const args = ["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--state-dir", dir, "--threads", "1", "--first-poll", "30s", "--balance-ttl", "60s"];
    const first = spawnWorker(args, { CAPTCHAAI_API_KEY: KEY }, [prlimit, `--fsize=${LIMIT}`, "--"]);
    const accepted: string[] = [];
    let refusal: Record<string, unknown> | undefined;
    try {
      const base = await whenReady(first);
      // Odd sizes, so the limit falls inside a record rather than between two.
      for (let i = 0; i < 40 && !refusal; i++) {
        const { status, json } = await postTask(base, { type: "image", image: pngOfSize(14_000 + 977 * i, i).toString("base64") });
        if (status === 202) accepted.push(json.id as string);
        else refusal = { status, ...json };
      }
      assert.ok(refusal, "the limit was reached");
      assert.equal(refusal.status, 503);
      assert.equal(refusal.code, "ERR_STATE_DIR");
      assert.match(String(refusal.detail), /EFBIG/);
      assert.ok(accepted.length >= 3, `${accepted.length} accepted first`);
      assert.ok(first.lines.some((l) => l.includes("journal write failed")));
      const text = readFileSync(join(dir, JOURNAL_FILE), "utf8");
      assert.ok(statSync(join(dir, JOURNAL_FILE)).size < LIMIT);
      assert.ok(text.endsWith("\n"), "cut back to the last whole record");
      for (const line of text.split("\n").filter(Boolean)) JSON.parse(line); // no fragment
    } finally {
      await kill9(first);
    }

    const second = spawnWorker(args, { CAPTCHAAI_API_KEY: KEY });
    try {
      const base = await whenReady(second);
      const replay = JSON.parse(second.lines.find((l) => l.includes('"journal replayed"'))!) as Record<string, unknown>;
      assert.equal(replay.skipped, 0, "no partial record to skip");
      assert.equal(replay.torn, false);
      for (const id of accepted) assert.equal((await fetch(`${base}/v1/tasks/${id}`)).status, 200, `${id} survived`);
    } finally {
      await kill9(second);
    }
  });
});
