/** FileJournal on a real temp dir: what reaches the file, group commit, replay at open, compaction, a bad state dir. */
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { createLogger, silentLogger } from "../../../src/base/log.ts";
import { FileJournal, JOURNAL_FILE } from "../../../src/journal/file_journal.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { journalLines, tempDir } from "../../_support/temp_dirs.ts";
import { makeTask } from "../../_support/tasks.ts";

const lines = journalLines;

describe("FileJournal", () => {
  test("records each step; a replay gives back exactly the open tasks, each in the state it was left", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    const [queued, submitted, uncertain, ended, retried, unsolvable] = ["q", "s", "u", "e", "r", "x"].map((id) => makeTask(id));
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
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.accepted(makeTask(`t${i}`))));
    assert.equal(lines(dir).length, 200);
    assert.ok(journal.syncs <= 5, `200 accepts in ${journal.syncs} fsyncs`);
    await journal.close();
  });

  test("a torn last line (a crash mid-write) is skipped and reported, never fatal; a bad middle line too", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    await journal.accepted(makeTask("a"));
    await journal.accepted(makeTask("b"));
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
    const keep = makeTask("keep");
    await journal.accepted(keep);
    for (let i = 0; i < 100; i++) {
      const t = makeTask(`x${i}`);
      await journal.accepted(t);
      t.status = "failed";
      journal.ended(t);
    }
    await journal.accepted(makeTask("last"));
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

  test("an end for a task that is not open writes nothing; a closed journal refuses durable appends with ERR_STATE_DIR", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    const a = makeTask("a");
    await journal.accepted(a);
    a.status = "failed";
    a.error = { code: "ERROR_CAPTCHA_UNSOLVABLE", message: "unsolvable" };
    journal.ended(a);
    journal.ended(a);
    journal.ended(makeTask("never-accepted", { status: "solved" }));
    assert.equal(journal.openTasks, 0);
    await journal.close();
    assert.deepEqual(lines(dir), [
      { op: "accept", id: "a", type: "image", params: { type: "image", image: "aGk=" }, created_at: 1000, deadline_at: 9e15 },
      { op: "end", id: "a", status: "failed", code: "ERROR_CAPTCHA_UNSOLVABLE" },
    ]);
    await assert.rejects(journal.accepted(makeTask("late")), (err: unknown) => isWorkerError(err, "ERR_STATE_DIR"));
  });

  test("an unreadable middle line is logged with its number; the records around it count", async () => {
    const dir = tempDir();
    const accept = (id: string) => JSON.stringify({ op: "accept", id, type: "image", params: {}, created_at: 1, deadline_at: 2 });
    writeFileSync(join(dir, JOURNAL_FILE), [accept("a"), "{not json", accept("b"), ""].join("\n"));
    const logged: Record<string, unknown>[] = [];
    const log = createLogger({ level: "debug", write: (l) => logged.push(JSON.parse(l) as Record<string, unknown>) });
    const { journal, report } = await FileJournal.open(dir, { log, clock: new FakeClock() });
    await journal.close();
    assert.deepEqual(report, { records: 2, open: 2, skipped: 1, torn: false });
    assert.deepEqual(logged.filter((l) => l.level === "warn").map((l) => [l.msg, l.line]), [["journal: unreadable record skipped", 2]]);
    assert.deepEqual(lines(dir).map((r) => r.id), ["a", "b"], "compacted without the bad line");
  });
});
