import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isEnded, kindOf, serverTiming, TASK_TYPES } from "../../../src/tasks/task.ts";
import { makeTask } from "../../_support/tasks.ts";

describe("task", () => {
  test("kindOf: image tasks are the image kind, every token task type the token kind", () => {
    assert.deepEqual(Object.fromEntries(TASK_TYPES.map((t) => [t, kindOf(t)])), {
      image: "image", recaptcha_v2: "token", recaptcha_v3: "token", turnstile: "token",
    });
  });

  test("isEnded: solved and failed are ends, queued and submitted are not", () => {
    assert.deepEqual((["queued", "submitted", "solved", "failed"] as const).map((status) => isEnded(makeTask("t", { status }))), [false, false, true, true]);
  });

  test("serverTiming: none before the end; then queue, upstream, poll-wait, the worker's own rest and the total", () => {
    const t = makeTask("t", { createdAt: 1000, status: "submitted", timing: { queueMs: 12.5, upstreamMs: 300, waitMs: 5000, queuedSince: undefined } });
    assert.equal(serverTiming(t), undefined);
    t.status = "solved";
    t.endedAt = 1000 + 5320.25;
    assert.equal(serverTiming(t), "queue;dur=12.50, upstream;dur=300.00, poll-wait;dur=5000.00, worker;dur=7.75, total;dur=5320.25");
  });

  test("serverTiming: the worker's share is never negative (waits planned longer than they lasted)", () => {
    const t = makeTask("t", { createdAt: 0, endedAt: 100, status: "failed", timing: { queueMs: 0, upstreamMs: 50, waitMs: 5000, queuedSince: undefined } });
    assert.match(serverTiming(t)!, /worker;dur=0\.00, total;dur=100\.00$/);
  });
});
