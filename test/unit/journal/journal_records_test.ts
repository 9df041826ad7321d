import assert from "node:assert/strict";
import { applyRecord } from "../../../src/journal/apply_record.ts";
import { describe, test } from "node:test";
import {
  acceptRecord, endRecord, formatRecord, OpenTasks, shouldCompact, submittedRecord, submittingRecord, unsubmittedRecord,
  type Retention,
} from "../../../src/journal/journal_records.ts";
import { makeTask } from "../../_support/tasks.ts";

const text = (...lines: string[]) => lines.map((l) => l + "\n").join("");
const RETENTION: Retention = { maxFinished: 10_000, finishedTtlMs: 3_600_000 };

/** What FileJournal's streaming replay does, over a string: each line applied in order. */
function replayRecords(input: string, now = 0, retention = RETENTION) {
  const tasks = new OpenTasks(retention);
  const lines = input.split("\n");
  const torn = input.length > 0 && !input.endsWith("\n");
  if (lines.at(-1) === "") lines.pop();
  let records = 0;
  let skipped = 0;
  const unreadableLines: number[] = [];
  for (const [i, line] of lines.entries()) {
    if (applyRecord(tasks, line, now).kind === "skipped") {
      skipped++;
      if (!(torn && i === lines.length - 1)) unreadableLines.push(i + 1);
    } else records++;
  }
  return { tasks, report: { records, open: tasks.size, skipped, torn }, unreadableLines };
}
const byId = <T extends { id: string }>(rows: T[]) => Object.fromEntries(rows.map((r) => [r.id, r]));

describe("journal records", () => {
  test("each record is one JSON object with the fields docs/durability.md names", () => {
    const t = makeTask("t1", { type: "turnstile", params: { type: "turnstile", sitekey: "sk", pageurl: "https://a.example/" }, createdAt: 5, deadlineAt: 185_005 });
    assert.deepEqual(JSON.parse(acceptRecord(t)), { op: "accept", id: "t1", type: "turnstile", params: { type: "turnstile", sitekey: "sk", pageurl: "https://a.example/" }, created_at: 5, deadline_at: 185_005 });
    assert.deepEqual(JSON.parse(submittingRecord("t1")), { op: "submitting", id: "t1" });
    assert.deepEqual(JSON.parse(submittedRecord("t1", "99")), { op: "submitted", id: "t1", upstream_id: "99" });
    assert.deepEqual(JSON.parse(unsubmittedRecord("t1")), { op: "unsubmitted", id: "t1" });
    assert.deepEqual(JSON.parse(endRecord({ ...t, status: "solved", solution: "tok", upstreamId: "9", endedAt: 50 })), {
      op: "end", id: "t1", status: "solved", type: "turnstile", created_at: 5, ended_at: 50, upstream_id: "9", solution: "tok",
    });
    assert.deepEqual(JSON.parse(endRecord({ ...t, status: "failed", error: { code: "timeout", message: "m" }, endedAt: 60 })), {
      op: "end", id: "t1", status: "failed", type: "turnstile", created_at: 5, ended_at: 60, error: { code: "timeout", message: "m" },
    });
    assert.deepEqual(JSON.parse(formatRecord()), { op: "format", version: 2 });
    assert.ok(!acceptRecord(t).includes("\n") && !endRecord(t).includes("\n"), "one line each");
  });

  test("a round trip: records written for each step replay to the task, its upstream id and its submit state", () => {
    const q = makeTask("q", { params: { type: "image", image: "cXE=", numeric: 1 }, createdAt: 10, deadlineAt: 20 });
    const r = replayRecords(text(
      acceptRecord(q),
      acceptRecord(makeTask("s")), submittingRecord("s"), submittedRecord("s", "77"),
      acceptRecord(makeTask("u")), submittingRecord("u"),
      acceptRecord(makeTask("r")), submittingRecord("r"), unsubmittedRecord("r"),
      acceptRecord(makeTask("x")), submittingRecord("x"), submittedRecord("x", "88"), unsubmittedRecord("x"),
      acceptRecord(makeTask("e")), submittingRecord("e"), submittedRecord("e", "90"), endRecord(makeTask("e", { status: "solved" })),
    ));
    assert.deepEqual(r.report, { records: 17, open: 5, skipped: 0, torn: false });
    const open = byId(r.tasks.replayed());
    assert.deepEqual(Object.keys(open), ["q", "s", "u", "r", "x"], "in the order they were accepted, the ended one gone");
    assert.deepEqual(open.q, { id: "q", type: "image", params: { type: "image", image: "cXE=", numeric: 1 }, createdAt: 10, deadlineAt: 20, upstreamId: undefined, uncertain: false, submissions: 0 });
    assert.deepEqual([open.s!.upstreamId, open.s!.uncertain, open.s!.submissions], ["77", false, 1]);
    assert.deepEqual([open.u!.upstreamId, open.u!.uncertain, open.u!.submissions], [undefined, true, 0], "a submit with nothing after it may have landed");
    assert.deepEqual([open.r!.upstreamId, open.r!.uncertain, open.r!.submissions], [undefined, false, 0], "a submit that surely did not land");
    assert.deepEqual([open.x!.upstreamId, open.x!.uncertain, open.x!.submissions], [undefined, false, 1], "a landed submit counts toward the one retry");
  });

  test("a torn last line is skipped and reported apart from unreadable middle lines; a torn line that parses still counts", () => {
    const a = acceptRecord(makeTask("a"));
    const torn = replayRecords(text(a, "garbage", acceptRecord(makeTask("b"))) + '{"op":"accept","id":"c","type":"ima');
    assert.deepEqual(torn.report, { records: 2, open: 2, skipped: 2, torn: true });
    assert.deepEqual(torn.unreadableLines, [2]);
    assert.deepEqual(torn.tasks.replayed().map((t) => t.id), ["a", "b"]);

    const whole = replayRecords(text(a) + submittingRecord("a")); // the newline was all that was lost
    assert.deepEqual(whole.report, { records: 2, open: 1, skipped: 0, torn: true });
    assert.equal(whole.tasks.replayed()[0]!.uncertain, true);

    const bad = replayRecords(text(a, "[1,2]", "null", '{"op":"accept"}', "{}"));
    assert.deepEqual(bad.report, { records: 1, open: 1, skipped: 4, torn: false }, "JSON without a string id is not a record");
    assert.deepEqual(bad.unreadableLines, [2, 3, 4, 5]);

    assert.deepEqual(replayRecords("").report, { records: 0, open: 0, skipped: 0, torn: false });
  });

  test("replay follows file order: records before an accept or after an end change nothing; an accept again reopens", () => {
    const r = replayRecords(text(
      submittingRecord("a"), submittedRecord("a", "1"), // before its accept
      acceptRecord(makeTask("a")),
      acceptRecord(makeTask("b")), endRecord(makeTask("b", { status: "solved" })), submittingRecord("b"), // after its end
      acceptRecord(makeTask("c")), endRecord(makeTask("c", { status: "failed" })), acceptRecord(makeTask("c")),
      JSON.stringify({ op: "accept", id: "d", type: "image", params: {} }), // no created_at / deadline_at
      acceptRecord(makeTask("e")), JSON.stringify({ op: "submitted", id: "e", upstream_id: 5 }), // upstream id not a string
      JSON.stringify({ op: "rename", id: "a" }),
    ));
    assert.equal(r.report.records, 10, "every applicable line is a record, even one that opens nothing; the three bad ones are skipped");
    assert.equal(r.report.skipped, 3);
    const open = byId(r.tasks.replayed());
    assert.deepEqual(Object.keys(open), ["a", "c", "e"]);
    assert.deepEqual([open.a!.upstreamId, open.a!.uncertain, open.a!.submissions], [undefined, false, 0]);
    assert.deepEqual([open.c!.uncertain, open.c!.submissions], [false, 0]);
    assert.deepEqual([open.e!.upstreamId, open.e!.submissions], [undefined, 0]);
  });

  test("compaction keeps only the open tasks, in records that replay to the same state", () => {
    const tasks = new OpenTasks(RETENTION);
    for (const id of ["q", "s", "u", "x", "y", "e"]) tasks.accept(makeTask(id));
    tasks.submitting("s");
    tasks.submitted("s", "77");
    tasks.submitting("u");
    tasks.submitting("x"); // landed, came back unsolvable, queued for its retry
    tasks.submitted("x", "88");
    tasks.unsubmitted("x");
    tasks.submitting("y"); // landed twice: the retry is polled by its second id
    tasks.submitted("y", "1");
    tasks.unsubmitted("y");
    tasks.submitting("y");
    tasks.submitted("y", "2");
    tasks.submitting("e");
    assert.equal(tasks.end("e"), true);
    assert.equal(tasks.end("e"), false, "ended once");

    const lines = [...tasks.compacted()];
    assert.ok(!lines.some((l) => l.includes('"id":"e"')), "the ended task is gone (no end record given: not retained)");
    assert.ok(!lines.some((l) => l.includes('"op":"end"')));
    assert.equal(lines[0], formatRecord(), "a compacted file starts with its format");
    assert.equal(lines.filter((l) => l.includes('"op":"accept"')).length, 5);
    const again = replayRecords(text(...lines));
    assert.deepEqual(again.tasks.replayed(), tasks.replayed());
    const y = byId(again.tasks.replayed()).y!;
    assert.deepEqual([y.upstreamId, y.submissions, y.uncertain], ["2", 2, false], "both landed submits still count");
    assert.deepEqual([...again.tasks.compacted()], lines, "compacting a compacted journal changes nothing");
    assert.deepEqual([...new OpenTasks(RETENTION).compacted()], [formatRecord()]);
  });

  test("a record that cannot be applied is skipped and counted, never thrown: no params, wrong types, unknown op", () => {
    const a = acceptRecord(makeTask("a"));
    const bad = [
      JSON.stringify({ op: "accept", id: "p", type: "image", created_at: 1, deadline_at: 2 }), // finding 6: an accept without params
      JSON.stringify({ op: "accept", id: "q", type: "image", params: null, created_at: 1, deadline_at: 2 }),
      JSON.stringify({ op: "accept", id: "r", type: "image", params: { type: "turnstile" }, created_at: 1, deadline_at: 2 }),
      JSON.stringify({ op: "accept", id: "s", type: "captcha", params: { type: "captcha" }, created_at: 1, deadline_at: 2 }),
      JSON.stringify({ op: "accept", id: "t", type: "image", params: { type: "image" }, created_at: "1", deadline_at: 2 }),
      JSON.stringify({ op: "accept", id: 7, type: "image", params: { type: "image" }, created_at: 1, deadline_at: 2 }),
      JSON.stringify({ op: "submitted", id: "a", upstream_id: 5 }),
      JSON.stringify({ op: "end", id: "a", status: "done" }),
      JSON.stringify({ op: "rename", id: "a" }),
      JSON.stringify({ op: "format", version: "2" }),
      "[]", "true", '"text"',
    ];
    const r = replayRecords(text(a, ...bad));
    assert.deepEqual(r.report, { records: 1, open: 1, skipped: bad.length, torn: false });
    assert.deepEqual(r.tasks.replayed().map((t) => t.id), ["a"]);
  });

  test("ended tasks are kept with their outcome within their retention, oldest dropped first; version 1 ends only close", () => {
    const end = (id: string, endedAt: number, over = {}) => endRecord(makeTask(id, { status: "solved", solution: "s-" + id, upstreamId: "u" + id, endedAt, ...over }));
    const r = replayRecords(text(
      acceptRecord(makeTask("a")), end("a", 1_000),
      acceptRecord(makeTask("b")), end("b", 5_000),
      acceptRecord(makeTask("c")), end("c", 6_000, { status: "failed", solution: undefined, error: { code: "ERROR_X", message: "m" }, costUsd: 0.002, provider: "paid" }),
      acceptRecord(makeTask("d")), JSON.stringify({ op: "end", id: "d", status: "solved" }), // version 1: closes, nothing to answer with
      end("z", 6_500), // an end with no accept before it (compacted away) is kept all the same
    ), 3_600_000 + 2_000, { maxFinished: 3, finishedTtlMs: 3_600_000 });
    assert.equal(r.report.open, 0);
    const ended = byId(r.tasks.endedTasks());
    assert.deepEqual(Object.keys(ended), ["b", "c", "z"], "a past its hour");
    assert.deepEqual(ended.b, { id: "b", type: "image", status: "solved", createdAt: 1000, endedAt: 5_000, upstreamId: "ub", solution: "s-b", error: undefined });
    assert.deepEqual(ended.c!.error, { code: "ERROR_X", message: "m" });
    assert.equal(ended.c!.costUsd, 0.002, "what it cost comes back (a budget counts it after a restart)");
    assert.equal(ended.b!.costUsd, undefined);
    const counted = replayRecords(text(end("a", 10), end("b", 20), end("c", 30)), 40, { maxFinished: 2, finishedTtlMs: 3_600_000 });
    assert.deepEqual(counted.tasks.endedTasks().map((t) => t.id), ["b", "c"], "over the count: oldest dropped");
    const lines = [...r.tasks.compacted()];
    assert.deepEqual(replayRecords(text(...lines), 3_600_000 + 2_000).tasks.endedTasks(), r.tasks.endedTasks(), "compaction keeps them");
  });

  test("the kept end records are bounded in bytes as the task store's results are: long solutions go oldest first, a report's longer line counted", () => {
    const end = (id: string, endedAt: number) => endRecord(makeTask(id, { status: "solved", solution: id.repeat(10_000), endedAt }));
    const line = end("a", 10).length;
    const retention = { maxFinished: 10_000, finishedTtlMs: 3_600_000, maxFinishedBytes: 3 * line };
    const r = replayRecords(text(end("a", 10), end("b", 20), end("c", 30), end("d", 40)), 50, retention);
    assert.deepEqual(r.tasks.endedTasks().map((t) => t.id), ["b", "c", "d"], "over the bytes: oldest dropped");
    assert.equal(r.tasks.endedBytes, 3 * line);
    r.tasks.reported("d", "good");
    assert.equal(r.tasks.endedBytes, 2 * line + end("d", 40).length + ',"reported":"good"'.length);
    r.tasks.end("e", { record: JSON.parse(end("e", 60)), bytes: end("e", 60).length }, 60);
    assert.deepEqual(r.tasks.endedTasks().map((t) => t.id), ["d", "e"], "the report's few bytes more pushed c out with b");
    assert.equal(r.tasks.endedBytes, [...r.tasks.compacted()].slice(1).reduce((n, l) => n + l.length, 0), "the count is the kept lines' length");
    // Without a byte bound (the records' own default) only the count and the hour apply.
    assert.equal(replayRecords(text(end("a", 10), end("b", 20), end("c", 30), end("d", 40)), 50).tasks.endedCount, 4);
  });

  test("shouldCompact: past compactAfter records and more than four per open task", () => {
    assert.equal(shouldCompact(100, 100, 0), false);
    assert.equal(shouldCompact(101, 100, 0), true);
    assert.equal(shouldCompact(101, 100, 26), false, "mostly open tasks: nothing to drop");
    assert.equal(shouldCompact(101, 100, 25), true);
  });
});
