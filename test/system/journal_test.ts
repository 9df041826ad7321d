import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { FileJournal, JOURNAL_FILE } from "../../src/journal/file_journal.ts";
import { isWorkerError } from "../../src/base/errors.ts";
import { createLogger, silentLogger } from "../../src/base/log.ts";
import type { Task } from "../../src/tasks/task.ts";
import { runMain } from "../_support/cli.ts";
import { FakeClock } from "../_support/fake_clock.ts";
import { eventually, startHarness } from "../_support/harness.ts";
import { requireOrSkip } from "../_support/programs.ts";

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "cw-journal-"));
  dirs.push(d);
  return d;
};
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function task(id: string, over: Partial<Task> = {}): Task {
  return {
    id, type: "image", kind: "image", params: { type: "image", image: "aGk=" }, createdAt: 1000, deadlineAt: 9e15, status: "queued",
    upstreamId: undefined, submittedAt: undefined, endedAt: undefined, solution: undefined, error: undefined, submissions: 0, polls: 0,
    reported: undefined, timing: { queueMs: 0, upstreamMs: 0, waitMs: 0, queuedSince: 0 }, ...over,
  };
}

const lines = (dir: string) => readFileSync(join(dir, JOURNAL_FILE), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("FileJournal", () => {
  test("records each step; a replay gives back exactly the open tasks, each in the state it was left", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    const [queued, submitted, uncertain, ended, retried, unsolvable] = ["q", "s", "u", "e", "r", "x"].map((id) => task(id));
    for (const t of [queued!, submitted!, uncertain!, ended!, retried!, unsolvable!]) await journal.accepted(t);
    await journal.submitting(submitted!);
    submitted!.upstreamId = "77";
    journal.submitted(submitted!);
    await journal.submitting(uncertain!);
    await journal.submitting(ended!);
    ended!.status = "solved";
    journal.ended(ended!);
    await journal.submitting(retried!);
    journal.unsubmitted(retried!);
    await journal.submitting(unsolvable!);
    unsolvable!.upstreamId = "88";
    journal.submitted(unsolvable!);
    unsolvable!.upstreamId = undefined;
    journal.unsubmitted(unsolvable!); // came back unsolvable: queued for its one more try
    await journal.close();
    assert.deepEqual(lines(dir).map((r) => r.op), [
      "accept", "accept", "accept", "accept", "accept", "accept", "submitting", "submitted", "submitting", "submitting", "end",
      "submitting", "unsubmitted", "submitting", "submitted", "unsubmitted",
    ]);

    const { replayed, report, journal: reopened } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    assert.deepEqual(report, { records: 16, open: 5, skipped: 0, torn: false });
    const byId = Object.fromEntries(replayed.map((r) => [r.id, r]));
    assert.deepEqual(Object.keys(byId).sort(), ["q", "r", "s", "u", "x"]);
    assert.equal(byId.s!.upstreamId, "77");
    assert.equal(byId.s!.submissions, 1);
    assert.equal(byId.u!.uncertain, true);
    assert.equal(byId.r!.uncertain, false, "a submit that surely did not land may be sent again");
    assert.equal(byId.r!.submissions, 0, "and does not count as a submission");
    assert.equal(byId.x!.upstreamId, undefined);
    assert.equal(byId.x!.submissions, 1, "a landed submit counts toward the one retry");
    await reopened.close();
    const compacted = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    assert.deepEqual(
      compacted.replayed.map((r) => [r.id, r.submissions, r.upstreamId, r.uncertain]).sort(),
      replayed.map((r) => [r.id, r.submissions, r.upstreamId, r.uncertain]).sort(),
      "compaction keeps every task's state",
    );
    await compacted.journal.close();
    assert.deepEqual(byId.q!.params, { type: "image", image: "aGk=" });
    // Opening compacted the file to the open tasks.
    assert.deepEqual(lines(dir).filter((r) => r.op === "end"), []);
  });

  test("concurrent durable appends share fsyncs (group commit)", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.accepted(task(`t${i}`))));
    assert.equal(lines(dir).length, 200);
    assert.ok(journal.syncs <= 5, `200 accepts in ${journal.syncs} fsyncs`);
    await journal.close();
  });

  test("a torn last line (a crash mid-write) is skipped and reported, never fatal; a bad middle line too", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    await journal.accepted(task("a"));
    await journal.accepted(task("b"));
    await journal.close();
    const file = join(dir, JOURNAL_FILE);
    writeFileSync(file, readFileSync(file, "utf8").replace('"id":"b"', '"id":"b"').split("\n").join("\n"));
    appendFileSync(file, '{"op":"accept","id":"c","type":"ima');
    const logged: string[] = [];
    const log = createLogger({ level: "debug", write: (l) => logged.push(l) });
    const { replayed, report } = await FileJournal.open(dir, { log, clock: new FakeClock() });
    assert.deepEqual(report, { records: 2, open: 2, skipped: 1, torn: true });
    assert.deepEqual(replayed.map((r) => r.id), ["a", "b"]);
    assert.ok(logged.some((l) => l.includes("torn last line")));
    assert.ok(readFileSync(file, "utf8").endsWith("\n"), "compaction dropped the torn tail");

    writeFileSync(file, readFileSync(file, "utf8") + "garbage\n" + JSON.stringify({ op: "accept", id: "d", type: "image", params: {}, created_at: 1, deadline_at: 2 }) + "\n");
    const again = await FileJournal.open(dir, { log, clock: new FakeClock() });
    assert.deepEqual(again.report, { records: 3, open: 3, skipped: 1, torn: false });
    await again.journal.close();
  });

  test("compaction keeps the open tasks and drops the ended ones", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), compactAfter: 50 });
    const keep = task("keep");
    await journal.accepted(keep);
    for (let i = 0; i < 100; i++) {
      const t = task(`x${i}`);
      await journal.accepted(t);
      t.status = "failed";
      journal.ended(t);
    }
    await journal.accepted(task("last"));
    await journal.close();
    const ids = new Set(lines(dir).map((r) => r.id));
    assert.ok(lines(dir).length < 100, `compacted to ${lines(dir).length} lines`);
    assert.ok(ids.has("keep") && ids.has("last"));
    const { replayed } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    assert.deepEqual(replayed.map((r) => r.id).sort(), ["keep", "last"]);
  });

  test("a state dir that cannot be written is ERR_STATE_DIR naming the flag", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    await assert.rejects(FileJournal.open(join(file, "state"), { log: silentLogger, clock: new FakeClock() }), (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_STATE_DIR"));
      assert.match((err as Error).message, /--state-dir.*ENOTDIR|ENOTDIR/);
      assert.match((err as Error).message, /--state-dir/);
      return true;
    });
  });
});

describe("the worker with --state-dir", () => {
  test("run with a state dir it cannot write exits 78 naming the flag, before listening", async () => {
    const file = join(tempDir(), "a-file");
    writeFileSync(file, "");
    const r = await runMain(["run", "--listen", "127.0.0.1:0", "--state-dir", join(file, "state")], { CAPTCHAAI_API_KEY: "k-0123456789" });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /--state-dir/);
    assert.match(r.stderr, /ENOTDIR/);
    assert.ok(!r.stderr.includes("captcha-worker started"));
  });

  test("an accepted task is on disk before its 202; a restart on the same dir takes up the open ones", async () => {
    const dir = tempDir();
    const h = await startHarness({ flags: { "state-dir": dir, threads: "1" } });
    const post = () => fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ type: "image", image: Buffer.alloc(150, 7).toString("base64") }) });
    const a = (await (await post()).json()) as { id: string };
    assert.ok(lines(dir).some((r) => r.op === "accept" && r.id === a.id), "on disk when the 202 arrived");
    const b = (await (await post()).json()) as { id: string };
    await eventually(() => h.worker.pool.tasks.get(a.id)?.status === "submitted", "a submitted");
    await eventually(() => lines(dir).some((r) => r.op === "submitted" && r.id === a.id), "its upstream id recorded");
    // Drain: with a journal, the queued task is kept, not failed with `shutdown`.
    h.worker.beginDrain();
    assert.equal(h.worker.pool.tasks.get(b.id)!.status, "queued");
    const drained = h.worker.drain(0); // no time to finish: the submitted task stays open
    await h.clock.advance(1);
    assert.equal(await drained, 0, "nothing failed with shutdown");
    await h.close();
    const submitsBefore = h.sim.counts().submitted;

    const h2 = await startHarness({ flags: { "state-dir": dir }, sim: {} });
    try {
      const restored = h2.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "journal replayed")!;
      assert.equal(restored.polled, 1);
      assert.equal(restored.queued, 1);
      assert.equal(h2.worker.pool.tasks.get(a.id)!.status, "submitted", "polled by its upstream id, not submitted again");
      assert.equal(h2.worker.pool.tasks.get(b.id)!.status, "queued");
    } finally {
      await h2.close();
    }
    assert.equal(submitsBefore, 1);
  });

  test("a full state dir: the task is refused with 503 naming it, readiness says so, and both recover when space returns", async (t) => {
    const mnt = tempDir();
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mnt]).status === 0;
    if (!requireOrSkip(t, mounted, "mounting a small tmpfs needs root (to fill a state dir)")) return;
    try {
      const dir = join(mnt, "state");
      mkdirSync(dir);
      const h = await startHarness({ flags: { "state-dir": dir } });
      try {
        const filler = join(mnt, "filler");
        spawnSync("sh", ["-c", `cat /dev/zero > ${filler}`]); // fills the tmpfs
        const big = { type: "image", image: Buffer.alloc(120_000, 9).toString("base64") };
        const res = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(big) });
        assert.equal(res.status, 503);
        const problem = (await res.json()) as { code: string; detail: string };
        assert.equal(problem.code, "ERR_STATE_DIR");
        assert.match(problem.detail, /ENOSPC/);
        assert.equal(h.worker.pool.queueDepth, 0, "the refused task was withdrawn");
        const ready = (await (await fetch(h.base + "/health/ready")).json()) as { issues: string[] };
        assert.ok(ready.issues.includes("state_dir=ENOSPC"), ready.issues.join());
        rmSync(filler);
        await h.clock.advance(1000); // the journal re-checks its directory
        assert.deepEqual(((await (await fetch(h.base + "/health/ready")).json()) as { issues: string[] }).issues, []);
        const ok = await fetch(h.base + "/v1/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(big) });
        assert.equal(ok.status, 202);
        assert.deepEqual(((await (await fetch(h.base + "/health/ready")).json()) as { issues: string[] }).issues, []);
      } finally {
        await h.close();
      }
    } finally {
      spawnSync("umount", [mnt]);
    }
  });
});
