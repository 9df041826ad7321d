/**
 * Any journal size restarts: a 300 MB journal in the older format (no header: version 1) of ended
 * tasks and a few open ones is streamed, not read whole. The worker starts, takes up the open tasks,
 * compacts the file, and its peak RSS (VmHWM) stays far below the file's size.
 */
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { kill9, spawnWorker, whenReady } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "big-journal-key-0123456789012345";
const TARGET_BYTES = 300 * 1024 * 1024;
const RSS_BOUND_KB = 300 * 1024;
let sim: Simulator;
before(async () => (sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 200, token: 200 }, seed: 13 })));
after(() => sim.close());

/** Writes accept+end pairs (version 1 records, 2 KB images) up to TARGET_BYTES, then `open` accepts; returns the open ids. */
function writeBigJournal(path: string, now: number): string[] {
  const image = pngOfSize(1500, 3).toString("base64");
  const fd = openSync(path, "w");
  let written = 0;
  try {
    for (let chunk = 0; written < TARGET_BYTES; chunk++) {
      let text = "";
      for (let i = 0; i < 500; i++) {
        const id = `old-${chunk}-${i}`;
        text += JSON.stringify({ op: "accept", id, type: "image", params: { type: "image", image }, created_at: now - 7_200_000, deadline_at: now - 7_000_000 }) + "\n";
        text += JSON.stringify({ op: "end", id, status: "solved" }) + "\n";
      }
      written += writeSync(fd, text);
    }
    const open = ["open-1", "open-2", "open-3"];
    for (const id of open) writeSync(fd, JSON.stringify({ op: "accept", id, type: "image", params: { type: "image", image }, created_at: now, deadline_at: now + 600_000 }) + "\n");
    return open;
  } finally {
    closeSync(fd);
  }
}

const vmHwmKb = (pid: number) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

describe("a journal of hundreds of MB", () => {
  test("a 300 MB journal restarts: streamed in bounded memory, open tasks taken up, the file compacted", async (t) => {
    const dir = tempDir("cw-big-");
    const file = join(dir, JOURNAL_FILE);
    const open = writeBigJournal(file, Date.now());
    assert.ok(statSync(file).size > TARGET_BYTES);
    const w = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--state-dir", dir, "--balance-ttl", "60s"], { CAPTCHAAI_API_KEY: KEY });
    try {
      const base = await whenReady(w);
      const hwm = vmHwmKb(w.child.pid!);
      const replay = JSON.parse(w.lines.find((l) => l.includes('"journal replayed"'))!) as Record<string, number>;
      assert.equal(replay.format, 1, "no header: the older format, read");
      assert.equal(replay.skipped, 0);
      assert.equal(replay.queued, 3);
      for (const id of open) assert.equal((await fetch(`${base}/v1/tasks/${id}`)).status, 200);
      assert.ok(statSync(file).size < 1024 * 1024, `compacted to ${statSync(file).size} bytes`);
      assert.ok(hwm < RSS_BOUND_KB, `peak RSS ${hwm} kB`);
      t.diagnostic(`300 MB journal: peak RSS ${Math.round(hwm / 1024)} MB`);
    } finally {
      await kill9(w);
    }
  });
});

