import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isTaskId, MAX_NODE_ID, nodeOfTaskId, parseTaskId, TaskIdGenerator } from "../../../src/tasks/task_id.ts";

const T0 = Date.UTC(2026, 0, 1);

describe("TaskIdGenerator", () => {
  test("TaskIdGenerator makes strictly increasing positive safe integers, even many in one millisecond", () => {
    const ids = new TaskIdGenerator({ now: () => T0, nodeId: 7 });
    let last = 0;
    for (let i = 0; i < 10_000; i++) {
      const n = Number(ids.next());
      assert.ok(Number.isSafeInteger(n) && n > last, `${n} after ${last}`);
      last = n;
    }
  });

  test("TaskIdGenerator never goes backwards when the clock does", () => {
    let now = T0;
    const ids = new TaskIdGenerator({ now: () => now });
    const a = Number(ids.next());
    now -= 5_000;
    assert.ok(Number(ids.next()) > a);
  });

  test("TaskIdGenerator ids stay unique across a simulated restart with the clock a little behind", () => {
    let now = T0;
    const first = new TaskIdGenerator({ now: () => now, nodeId: 3 });
    const before = Array.from({ length: 20_000 }, () => first.next()); // a burst: runs ahead of the clock
    now -= 50; // the new process's clock is a little behind
    const second = new TaskIdGenerator({ now: () => now, nodeId: 3 });
    for (const id of before) second.observe(id); // what the journal replay shows it
    const after = Array.from({ length: 1000 }, () => second.next());
    assert.equal(new Set([...before, ...after]).size, before.length + after.length);
  });

  test("TaskIdGenerator ids after a restart a second later are unique without a journal", () => {
    let now = T0;
    const first = new TaskIdGenerator({ now: () => now });
    const before = Array.from({ length: 1000 }, () => first.next()); // within the clock's pace (4 per ms)
    now += 1000;
    const second = new TaskIdGenerator({ now: () => now });
    const after = Array.from({ length: 1000 }, () => second.next());
    assert.equal(new Set([...before, ...after]).size, 2000);
  });

  test("TaskIdGenerator puts the node id in the low 10 bits, recoverable from the id", () => {
    for (const node of [0, 1, 512, MAX_NODE_ID]) {
      const id = new TaskIdGenerator({ now: () => T0, nodeId: node }).next();
      assert.equal(nodeOfTaskId(id), node);
    }
    assert.throws(() => new TaskIdGenerator({ now: () => T0, nodeId: 1024 }), RangeError);
  });

  test("parseTaskId refuses UUIDs (older journals), zero, signs and unsafe integers", () => {
    assert.equal(parseTaskId("3f1c2a9e-8d7b-4c6a-9f0e-1b2c3d4e5f60"), undefined);
    assert.equal(parseTaskId("0"), undefined);
    assert.equal(parseTaskId("-5"), undefined);
    assert.equal(parseTaskId("9007199254740993"), undefined);
    assert.equal(parseTaskId("12345"), 12345);
    assert.equal(nodeOfTaskId("3f1c2a9e-8d7b-4c6a-9f0e-1b2c3d4e5f60"), undefined);
  });

  test("isTaskId, the one guard of every API and the cluster: 1 to 20 digits, or an older journal's UUID", () => {
    for (const id of ["1", "12345678901234567890", "3f1c2a9e-8d7b-4c6a-9f0e-1b2c3d4e5f60", new TaskIdGenerator({ now: () => T0, nodeId: 9 }).next()]) assert.equal(isTaskId(id), true, id);
    for (const id of ["", "123456789012345678901", "12a", "-5", " 12", "12\n", "3F1C2A9E-8D7B-4C6A-9F0E-1B2C3D4E5F60", "x".repeat(64), "../etc"]) assert.equal(isTaskId(id), false, id);
  });
});
