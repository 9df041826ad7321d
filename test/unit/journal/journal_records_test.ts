import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  acceptRecord, endRecord, OpenTasks, replayRecords, shouldCompact, submittedRecord, submittingRecord, unsubmittedRecord,
} from "../../../src/journal/journal_records.ts";
import { makeTask } from "../../_support/tasks.ts";

const text = (...lines: string[]) => lines.map((l) => l + "\n").join("");
const byId = <T extends { id: string }>(rows: T[]) => Object.fromEntries(rows.map((r) => [r.id, r]));

describe("journal records", () => {
  test("each record is one JSON object with the fields SPEC §8 names", () => {
    const t = makeTask("t1", { type: "turnstile", params: { type: "turnstile", sitekey: "sk", pageurl: "https://a.example/" }, createdAt: 5, deadlineAt: 185_005 });
    assert.deepEqual(JSON.parse(acceptRecord(t)), { op: "accept", id: "t1", type: "turnstile", params: { type: "turnstile", sitekey: "sk", pageurl: "https://a.example/" }, created_at: 5, deadline_at: 185_005 });
    assert.deepEqual(JSON.parse(submittingRecord("t1")), { op: "submitting", id: "t1" });
    assert.deepEqual(JSON.parse(submittedRecord("t1", "99")), { op: "submitted", id: "t1", upstream_id: "99" });
    assert.deepEqual(JSON.parse(unsubmittedRecord("t1")), { op: "unsubmitted", id: "t1" });
    assert.deepEqual(JSON.parse(endRecord({ ...t, status: "solved" })), { op: "end", id: "t1", status: "solved" });
    assert.deepEqual(JSON.parse(endRecord({ ...t, status: "failed", error: { code: "timeout", message: "m" } })), { op: "end", id: "t1", status: "failed", code: "timeout" });
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
    assert.equal(torn.tornLine, 4);
    assert.deepEqual(torn.tasks.replayed().map((t) => t.id), ["a", "b"]);

    const whole = replayRecords(text(a) + submittingRecord("a")); // the newline was all that was lost
    assert.deepEqual(whole.report, { records: 2, open: 1, skipped: 0, torn: true });
    assert.equal(whole.tornLine, 2);
    assert.equal(whole.tasks.replayed()[0]!.uncertain, true);

    const bad = replayRecords(text(a, "[1,2]", "null", '{"op":"accept"}', "{}"));
    assert.deepEqual(bad.report, { records: 1, open: 1, skipped: 4, torn: false }, "JSON without a string id is not a record");
    assert.deepEqual(bad.unreadableLines, [2, 3, 4, 5]);
    assert.equal(bad.tornLine, undefined);

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
    assert.equal(r.report.records, 13, "every parseable line is a record, even one that opens nothing");
    const open = byId(r.tasks.replayed());
    assert.deepEqual(Object.keys(open), ["a", "c", "e"]);
    assert.deepEqual([open.a!.upstreamId, open.a!.uncertain, open.a!.submissions], [undefined, false, 0]);
    assert.deepEqual([open.c!.uncertain, open.c!.submissions], [false, 0]);
    assert.deepEqual([open.e!.upstreamId, open.e!.submissions], [undefined, 0]);
  });

  test("compaction keeps only the open tasks, in records that replay to the same state", () => {
    const tasks = new OpenTasks();
    for (const id of ["q", "s", "u", "x", "y", "e"]) tasks.accept(id, acceptRecord(makeTask(id)));
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

    const lines = tasks.compacted();
    assert.ok(!lines.some((l) => l.includes('"id":"e"')), "the ended task is gone");
    assert.ok(!lines.some((l) => l.includes('"op":"end"')));
    assert.equal(lines.filter((l) => l.includes('"op":"accept"')).length, 5);
    const again = replayRecords(text(...lines));
    assert.deepEqual(again.tasks.replayed(), tasks.replayed());
    const y = byId(again.tasks.replayed()).y!;
    assert.deepEqual([y.upstreamId, y.submissions, y.uncertain], ["2", 2, false], "both landed submits still count");
    assert.deepEqual(again.tasks.compacted(), lines, "compacting a compacted journal changes nothing");
    assert.deepEqual(new OpenTasks().compacted(), []);
  });

  test("shouldCompact: past compactAfter records and more than four per open task", () => {
    assert.equal(shouldCompact(100, 100, 0), false);
    assert.equal(shouldCompact(101, 100, 0), true);
    assert.equal(shouldCompact(101, 100, 26), false, "mostly open tasks: nothing to drop");
    assert.equal(shouldCompact(101, 100, 25), true);
  });
});
