/** FileJournal on a real temp dir: what reaches the file, group commit, replay at open, compaction, a bad state dir. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, closeSync, constants, mkdirSync, openSync, readFileSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { isWorkerError } from "../../../src/base/errors.ts";
import { createLogger, silentLogger } from "../../../src/base/log.ts";
import { FileJournal, JOURNAL_FILE } from "../../../src/journal/file_journal.ts";
import { FakeClock } from "../../_support/fake_clock.ts";
import { journalLines, tempDir } from "../../_support/temp_dirs.ts";
import { makeTask } from "../../_support/tasks.ts";
import { PNG_B64, pngOfSize } from "../../_support/images.ts";

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
    ended!.solution = "abc";
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
      "format", "accept", "accept", "accept", "accept", "accept", "accept", "submitting", "submitted", "submitting", "submitting", "end",
      "submitting", "unsubmitted", "submitting", "submitted", "unsubmitted",
    ]);

    const { replayed, report, journal: reopened } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    assert.deepEqual(report, { records: 17, open: 5, ended: 1, skipped: 0, torn: false, version: 2 });
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
    assert.deepEqual(byId.q!.params, { type: "image", image: PNG_B64 });
    // Opening compacted the file to the open tasks and the ended one kept for its retention.
    assert.deepEqual(lines(dir).filter((r) => r.op === "end").map((r) => r.id), ["e"]);
  });

  test("concurrent durable appends share fsyncs (group commit)", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    await Promise.all(Array.from({ length: 200 }, (_, i) => journal.accepted(makeTask(`t${i}`))));
    assert.equal(lines(dir).length, 201, "the format line and 200 accepts");
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
    const { replayed, report, journal: first } = await FileJournal.open(dir, { log, clock: new FakeClock() });
    await first.close();
    assert.deepEqual(report, { records: 3, open: 2, ended: 0, skipped: 1, torn: true, version: 2 });
    assert.deepEqual(replayed.map((r) => r.id), ["a", "b"]);
    assert.ok(logged.some((l) => l.includes("torn last line")));
    assert.ok(readFileSync(file, "utf8").endsWith("\n"), "compaction dropped the torn tail");

    writeFileSync(file, readFileSync(file, "utf8") + "garbage\n" + JSON.stringify({ op: "accept", id: "d", type: "image", params: { type: "image" }, created_at: 1, deadline_at: 2 }) + "\n");
    const again = await FileJournal.open(dir, { log, clock: new FakeClock() });
    assert.deepEqual(again.report, { records: 4, open: 3, ended: 0, skipped: 1, torn: false, version: 2 });
    await again.journal.close();
  });

  test("compaction keeps the open tasks and the ended ones within their retention, drops the rest", async () => {
    const dir = tempDir();
    const retention = { maxFinished: 10, finishedTtlMs: 3_600_000 };
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), compactAfter: 50, retention });
    const keep = makeTask("keep");
    await journal.accepted(keep);
    for (let i = 0; i < 100; i++) {
      const t = makeTask(`x${i}`);
      await journal.accepted(t);
      t.status = "failed";
      t.error = { code: "ERROR_CAPTCHA_UNSOLVABLE", message: "unsolvable" };
      journal.ended(t);
    }
    await journal.accepted(makeTask("last"));
    await journal.close();
    const ids = new Set(lines(dir).map((r) => r.id));
    assert.ok(lines(dir).length < 100, `compacted to ${lines(dir).length} lines`);
    assert.ok(ids.has("keep") && ids.has("last"));
    const { replayed, ended, journal: again } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), retention });
    assert.deepEqual(replayed.map((r) => r.id).sort(), ["keep", "last"]);
    assert.deepEqual(ended.map((t) => t.id), Array.from({ length: 10 }, (_, i) => `x${90 + i}`), "the last 10 ended, oldest first");
    await again.close();
  });

  test("an ended task keeps its client across a restart (the client alone may read it then); the operator's has none", async () => {
    const dir = tempDir();
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    const mine = makeTask("c1", { params: { type: "image", image: PNG_B64, client: "alpha" } });
    const operators = makeTask("o1");
    for (const t of [mine, operators]) {
      await journal.accepted(t);
      Object.assign(t, { status: "solved", upstreamId: "7", solution: "abc" });
      journal.ended(t);
    }
    await journal.close();
    const { ended, journal: again } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    assert.deepEqual(ended.map((e) => [e.id, e.client]), [["c1", "alpha"], ["o1", undefined]]);
    await again.close();
  });

  test("a report is journaled: the restored ended task says it was reported, before and after compaction", async () => {
    const dir = tempDir();
    const retention = { maxFinished: 10, finishedTtlMs: 3_600_000 };
    const { journal } = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), retention });
    const t = makeTask("solved1");
    await journal.accepted(t);
    Object.assign(t, { status: "solved", upstreamId: "777", solution: "abc" });
    journal.ended(t);
    t.reported = "bad";
    journal.reported(t);
    await journal.close();
    assert.equal(lines(dir).at(-1)!.op, "reported");
    const first = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), retention });
    assert.deepEqual(first.ended.map((e) => [e.id, e.reported]), [["solved1", "bad"]]);
    assert.equal(first.report.skipped, 0);
    await first.journal.close(); // compacted: the end record itself now carries it
    assert.ok(!lines(dir).some((r) => r.op === "reported"), "folded into the end record");
    const second = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), retention });
    assert.deepEqual(second.ended.map((e) => [e.id, e.reported]), [["solved1", "bad"]]);
    await second.journal.close();
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

  test("a FIFO at the journal's name fails the start with ERR_STATE_DIR instead of hanging it (with or without a reader)", { timeout: 10_000 }, async () => {
    const dir = tempDir();
    execFileSync("mkfifo", [join(dir, JOURNAL_FILE)]);
    const refused = (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_STATE_DIR"), String(err));
      assert.match((err as Error).message, /--state-dir\): tasks\.journal there is not a regular file$/);
      return true;
    };
    // Held open for reading and writing first: a journal that opened it would wait on it forever.
    const held = openSync(join(dir, JOURNAL_FILE), constants.O_RDWR | constants.O_NONBLOCK);
    try {
      await assert.rejects(FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() }), refused);
    } finally {
      closeSync(held);
    }
    await assert.rejects(FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() }), refused);
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
    assert.deepEqual(lines(dir).slice(1), [
      { op: "accept", id: "a", type: "image", params: { type: "image", image: PNG_B64 }, created_at: 1000, deadline_at: 9e15 },
      { op: "end", id: "a", status: "failed", type: "image", created_at: 1000, ended_at: Date.UTC(2026, 0, 1), error: { code: "ERROR_CAPTCHA_UNSOLVABLE", message: "unsolvable" } },
    ]);
    await assert.rejects(journal.accepted(makeTask("late")), (err: unknown) => isWorkerError(err, "ERR_STATE_DIR"));
  });

  test("an unreadable middle line is logged with its number; the records around it count", async () => {
    const dir = tempDir();
    const accept = (id: string) => JSON.stringify({ op: "accept", id, type: "image", params: { type: "image" }, created_at: 1, deadline_at: 2 });
    writeFileSync(join(dir, JOURNAL_FILE), [accept("a"), "{not json", accept("b"), ""].join("\n"));
    const logged: Record<string, unknown>[] = [];
    const log = createLogger({ level: "debug", write: (l) => logged.push(JSON.parse(l) as Record<string, unknown>) });
    const { journal, report } = await FileJournal.open(dir, { log, clock: new FakeClock() });
    await journal.close();
    assert.deepEqual(report, { records: 2, open: 2, ended: 0, skipped: 1, torn: false, version: 1 });
    assert.deepEqual(logged.filter((l) => l.level === "warn").map((l) => [l.msg, l.line]), [["journal: record skipped (unreadable or not applicable)", 2]]);
    assert.deepEqual(lines(dir).map((r) => r.id), [undefined, "a", "b"], "compacted (format line first) without the bad line");
  });
});

describe("FileJournal and its state dir", () => {
  test("one owner per state dir: a second replay is ERR_STATE_DIR_BUSY naming the dir and pid, and changes nothing", async () => {
    const dir = tempDir();
    const first = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), pid: 111 });
    await first.journal.accepted(makeTask("a"));
    const before = readFileSync(join(dir, JOURNAL_FILE), "utf8");
    await assert.rejects(FileJournal.replay(dir, { log: silentLogger, clock: new FakeClock(), pid: 222 }), (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_STATE_DIR_BUSY"));
      assert.equal(err.field, "--state-dir");
      assert.ok(err.message.includes(dir) && err.message.includes("pid 111"), err.message);
      return true;
    });
    assert.equal(readFileSync(join(dir, JOURNAL_FILE), "utf8"), before);
    await first.journal.close();
    const second = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), pid: 222 });
    assert.deepEqual(second.replayed.map((t) => t.id), ["a"], "released by close");
    await second.journal.close();
  });

  test("replay writes nothing to the journal; start compacts it; records made before start wait for it", async () => {
    const dir = tempDir();
    const file = join(dir, JOURNAL_FILE);
    writeFileSync(file, JSON.stringify({ op: "accept", id: "a", type: "image", params: { type: "image" }, created_at: 1, deadline_at: 2 }) + "\ngarbage\n");
    const r = await FileJournal.replay(dir, { log: silentLogger, clock: new FakeClock() });
    assert.ok(readFileSync(file, "utf8").includes("garbage"), "untouched before start");
    const early = r.journal.accepted(makeTask("b"));
    r.journal.start();
    await early;
    assert.deepEqual(lines(dir).map((l) => l.op === "format" ? "format" : l.id), ["format", "a", "b"]);
    await r.journal.close();
  });

  test("a journal written by a newer worker is refused with ERR_STATE_DIR naming --state-dir; the lock is released", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, JOURNAL_FILE), JSON.stringify({ op: "format", version: 3 }) + "\n");
    await assert.rejects(FileJournal.replay(dir, { log: silentLogger, clock: new FakeClock() }), (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_STATE_DIR"));
      assert.equal(err.field, "--state-dir");
      assert.match(err.message, /newer/);
      return true;
    });
    assert.match(readFileSync(join(dir, JOURNAL_FILE), "utf8"), /"version":3/, "left as it was");
    writeFileSync(join(dir, JOURNAL_FILE), "");
    const ok = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    await ok.journal.close();
  });

  test("a directory where the journal should be is ERR_STATE_DIR with EISDIR, before anything is written", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, JOURNAL_FILE));
    await assert.rejects(FileJournal.replay(dir, { log: silentLogger, clock: new FakeClock() }), (err: unknown) => {
      assert.ok(isWorkerError(err, "ERR_STATE_DIR"));
      assert.match(err.message, /EISDIR/);
      return true;
    });
  });

  test("the write probe is named after the process, so two starting processes never share it", async () => {
    const dir = tempDir();
    const seen: string[] = [];
    const watcher = watch(dir, (_e, name) => name && seen.push(name));
    const r = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock(), pid: 4321 });
    await r.journal.close();
    await new Promise((resolve) => setImmediate(resolve));
    watcher.close();
    assert.ok(seen.includes(".write-probe.4321"), seen.join());
  });
});

describe("FileJournal compaction of large records", () => {
  test("compaction writes kept records of several MiB in pieces, every byte intact", async () => {
    const dir = tempDir();
    const big = (id: string, n: number) => makeTask(id, { params: { type: "image", image: pngOfSize(700_000, n).toString("base64") } });
    const first = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    for (const [i, id] of ["a", "b", "c", "d"].entries()) await first.journal.accepted(big(id, i));
    await first.journal.close();
    const again = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() }); // compacts at start
    await again.journal.close();
    const third = await FileJournal.open(dir, { log: silentLogger, clock: new FakeClock() });
    await third.journal.close();
    assert.deepEqual(third.replayed.map((t) => [t.id, t.params]), ["a", "b", "c", "d"].map((id, i) => [id, big(id, i).params]));
    assert.equal(third.report.skipped, 0);
  });
});
