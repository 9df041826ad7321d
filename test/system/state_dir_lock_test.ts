/**
 * One owner per --state-dir, with real processes: two workers started at once on one dir (one
 * exits 75, the other works on), and a second `run` started by hand beside a running one, even on
 * its very address (it exits 75 before reading or replacing anything: the running worker's journal
 * keeps its inode and takes its appends). The lock is node:sqlite's fcntl lock (src/base/dir_lock.ts).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { startSimulator, type Simulator } from "../../src/sim/simulator.ts";
import { waitForStart } from "../_support/cli.ts";
import { pollUntil } from "../_support/net.ts";
import { requireOrSkip, requireProgram } from "../_support/programs.ts";
import { tempDir } from "../_support/temp_dirs.ts";
import { kill9, postTask, spawnWorker, whenReady, type WorkerChild } from "../_support/worker_child.ts";
import { pngOfSize } from "../_support/images.ts";

const KEY = "lock-test-key-012345678901234567";
const IMAGE = { type: "image", image: pngOfSize(150, 5).toString("base64") };
let sim: Simulator;
before(async () => (sim = await startSimulator({ host: "127.0.0.1", port: 0 }, { keys: [KEY], solveTimeMs: { image: 200, token: 200 }, seed: 5 })));
after(() => sim.close());

const worker = (dir: string, listen = "127.0.0.1:0") =>
  spawnWorker(["run", "--listen", listen, "--upstream", sim.url.href, "--state-dir", dir, "--threads", "20", "--first-poll", "30s", "--balance-ttl", "60s"], { CAPTCHAAI_API_KEY: KEY });

/** Started (its listen address) or exited (its code), whichever comes first. */
const outcome = (w: WorkerChild) => waitForStart(w.child).then((s): string | number => s.listen, () => w.exited);

describe("one owner per state dir", () => {
  test("two workers started at once on one state dir: one exits 75 naming the dir and the owner's pid, the other works on", async () => {
    const dir = tempDir("cw-lock-");
    // A crashed worker left 12 queued tasks (one thread, held by a long first poll).
    sim.control.reset();
    const crashed = spawnWorker(["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--state-dir", dir, "--threads", "1", "--first-poll", "30s", "--balance-ttl", "60s"], { CAPTCHAAI_API_KEY: KEY });
    const crashedBase = await whenReady(crashed);
    for (let i = 0; i < 12; i++) assert.equal((await postTask(crashedBase, IMAGE)).status, 202);
    await pollUntil("the first submit", () => sim.counts().submitted === 1, { timeoutMs: 20_000, intervalMs: 25 });
    await kill9(crashed);

    const a = worker(dir);
    const b = worker(dir);
    const [ra, rb] = await Promise.all([outcome(a), outcome(b)]);
    assert.deepEqual([typeof ra, typeof rb].sort(), ["number", "string"], `outcomes: ${ra}, ${rb}`);
    assert.equal(typeof ra === "number" ? ra : rb, 75);
    const [winner, loser, listen] = typeof ra === "string" ? [a, b, ra] : [b, a, rb as string];
    const refusal = loser.lines.join("\n");
    assert.ok(refusal.includes(dir), refusal);
    assert.match(refusal, new RegExp(`pid ${winner.child.pid}\\b`), refusal);
    assert.equal(loser.lines.filter((l) => l.includes(dir)).length, 1, `one line says so, not a log record and a line: ${refusal}`);
    try {
      const base = await whenReady(winner, listen);
      const { status, json } = await postTask(base, IMAGE);
      assert.equal(status, 202);
      assert.ok(readFileSync(join(dir, JOURNAL_FILE), "utf8").includes(json.id as string));
      // Every task of the crashed worker is submitted by the winner alone, once.
      await pollUntil("all submitted", () => sim.counts().submitted >= 13, { timeoutMs: 20_000, intervalMs: 25 });
      assert.equal(sim.counts().submitted, 13, "12 tasks of the crashed worker and 1 new: each sent once, by the winner");
    } finally {
      await kill9(winner);
    }
  });

  test("a second run by hand beside a running worker, on its own address: exit 75, and the running journal is never replaced", async () => {
    const dir = tempDir("cw-lock-");
    const first = worker(dir);
    try {
      const base = await whenReady(first);
      const before = await postTask(base, IMAGE);
      assert.equal(before.status, 202);
      const inode = statSync(join(dir, JOURNAL_FILE)).ino;
      const listen = new URL(base).host; // the very address: the old failure was EADDRINUSE after the file was replaced

      const second = worker(dir, listen);
      assert.equal(await second.exited, 75);
      assert.ok(second.lines.join("\n").includes(`pid ${first.child.pid}`), second.lines.join("\n"));
      assert.ok(!second.lines.some((l) => l.includes("cannot listen")), "refused before the listen");

      assert.equal(statSync(join(dir, JOURNAL_FILE)).ino, inode, "same file");
      const fds = readdirSync(`/proc/${first.child.pid}/fd`).map((fd) => { try { return readlinkSync(`/proc/${first.child.pid}/fd/${fd}`); } catch { return ""; } });
      assert.ok(fds.some((l) => l.endsWith(JOURNAL_FILE)) && !fds.some((l) => l.includes("(deleted)")), fds.join());
      const later = await postTask(base, IMAGE);
      assert.equal(later.status, 202);
      const text = readFileSync(join(dir, JOURNAL_FILE), "utf8");
      assert.ok(text.includes(before.json.id as string) && text.includes(later.json.id as string), "both in the one journal");
    } finally {
      await kill9(first);
    }
    // The kernel released the lock with the process: the next start owns the dir and finds both tasks.
    const next = worker(dir);
    try {
      await whenReady(next);
      const replay = JSON.parse(next.lines.find((l) => l.includes('"journal replayed"'))!) as Record<string, number>;
      assert.equal(replay.polled! + replay.queued! + replay.uncertain!, 2, JSON.stringify(replay));
    } finally {
      await kill9(next);
    }
  });

  test("a worker in other pid, network and mount namespaces, with the volume at another path (another container), is refused too", async (t) => {
    const unshare = requireProgram(t, "unshare", "util-linux");
    if (!unshare) return;
    const dir = tempDir("cw-lock-");
    const elsewhere = tempDir("cw-lock-mnt-");
    const first = worker(dir);
    try {
      await whenReady(first);
      const wrapper = [unshare, "--pid", "--net", "--mount", "--fork", "--", "sh", "-c", `mount --bind ${dir} ${elsewhere} && exec "$@"`, "sh"];
      const args = ["run", "--listen", "127.0.0.1:0", "--upstream", sim.url.href, "--state-dir", elsewhere];
      const other = spawnWorker(args, { CAPTCHAAI_API_KEY: KEY }, wrapper);
      const code = await other.exited;
      if (!requireOrSkip(t, !other.lines.some((l) => /unshare failed|Operation not permitted|mount:/.test(l)), "unshare and mount --bind need root")) return;
      assert.equal(code, 75, other.lines.join("\n"));
      assert.ok(other.lines.some((l) => l.includes("owned by") || l.includes("pid ")), other.lines.join("\n"));
    } finally {
      await kill9(first);
    }
  });
});
