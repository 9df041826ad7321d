import assert from "node:assert/strict";
import { applyRecord } from "../../../src/journal/apply_record.ts";
import { describe, test } from "node:test";
import { callbackAttemptRecord, callbackSettledRecord } from "../../../src/journal/callback_records.ts";
import { acceptRecord, endRecord, OpenTasks } from "../../../src/journal/journal_records.ts";
import { makeTask } from "../../_support/tasks.ts";
import { PNG_B64 } from "../../_support/images.ts";

const RETENTION = { maxFinished: 10_000, finishedTtlMs: 3_600_000 };
const callback = { url: "https://hooks.example.com/cb", format: "pingback" as const };

/** The journal's lines applied in order, as FileJournal's replay applies them. */
function replay(lines: string[], now = 100): OpenTasks {
  const tasks = new OpenTasks(RETENTION);
  for (const line of lines) assert.notEqual(applyRecord(tasks, line, now).kind, "skipped", line);
  return tasks;
}

function endedWithCallback(id: string, cb: typeof callback | { url: string; format: "v2" } = callback) {
  const t = makeTask(id, { params: { type: "image", image: PNG_B64, client: "alpha", callback: cb }, createdAt: 1, deadlineAt: 1000 });
  return [acceptRecord(t), endRecord({ ...t, status: "solved", solution: "abc", endedAt: 50 })];
}

describe("callback records", () => {
  test("an ended task's callback is owed until it settles, with the attempts begun so far", () => {
    const tasks = replay([
      ...endedWithCallback("1"),
      ...endedWithCallback("2", { url: "https://hooks.example.com/v2", format: "v2" }),
      callbackAttemptRecord("2", 1),
      callbackAttemptRecord("2", 2),
      ...endedWithCallback("3"),
      callbackAttemptRecord("3", 1),
      callbackSettledRecord("3", "delivered"),
    ]);
    assert.deepEqual(tasks.pendingCallbacks(), [
      { id: "1", url: callback.url, format: "pingback", attempts: 0 },
      { id: "2", url: "https://hooks.example.com/v2", format: "v2", attempts: 2 },
    ]);
    assert.equal(tasks.endedTasks().length, 3, "settled or not, every ended task is still answered");
  });

  test("compaction keeps what is owed: the kept end records replay to the same callbacks and attempts", () => {
    const tasks = replay([...endedWithCallback("1"), callbackAttemptRecord("1", 3), ...endedWithCallback("2"), callbackSettledRecord("2", "failed")]);
    const again = replay([...tasks.compacted()]);
    assert.deepEqual(again.pendingCallbacks(), [{ id: "1", url: callback.url, format: "pingback", attempts: 3 }]);
  });

  test("records for a task not ended (or unknown) change nothing; an attempt that is not a positive whole number is skipped", () => {
    const t = makeTask("9", { params: { type: "image", image: PNG_B64, callback } });
    const tasks = replay([acceptRecord(t), callbackAttemptRecord("9", 1), callbackSettledRecord("77", "delivered")]);
    assert.deepEqual(tasks.pendingCallbacks(), []);
    assert.equal(applyRecord(tasks, JSON.stringify({ op: "callback_attempt", id: "9", attempt: 0 }), 0).kind, "skipped");
    assert.equal(applyRecord(tasks, JSON.stringify({ op: "callback_attempt", id: "9", attempt: "2" }), 0).kind, "skipped");
  });

  test("an end record carries the task's callback (not its client's other parameters); a task without one carries none", () => {
    const [, line] = endedWithCallback("1");
    assert.deepEqual(JSON.parse(line!).callback, callback);
    const plain = makeTask("2", { params: { type: "image", image: PNG_B64 } });
    assert.equal(JSON.parse(endRecord({ ...plain, status: "solved", solution: "x", endedAt: 5 })).callback, undefined);
  });
});
