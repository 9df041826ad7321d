// A task id's time part: the deadline of a peer's task is derived from it (docs/cluster.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import { createdAtOfTaskId, TaskIdGenerator } from "../../../src/tasks/task_id.ts";

test("createdAtOfTaskId gives back the generator's clock to the quarter millisecond, and undefined for a UUID", () => {
  const now = Date.UTC(2026, 10, 30, 6, 0, 0, 125);
  const id = new TaskIdGenerator({ now: () => now, nodeId: 7 }).next();
  assert.equal(createdAtOfTaskId(id), now);
  assert.equal(createdAtOfTaskId("0b7c1c5e-1b6e-4b0e-9e53-0c1a1d8f7a10"), undefined);
});
