import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { namesProviders, serverTiming, taskView } from "../../../src/http/task_json.ts";
import { makeTask } from "../../_support/tasks.ts";
import type { Task } from "../../../src/tasks/task.ts";

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function task(over: Partial<Task> = {}): Task {
  return makeTask("t1", { createdAt: T0, deadlineAt: T0 + 180_000, timing: { queueMs: 0, upstreamMs: 0, waitMs: 0, queuedSince: T0 }, ...over });
}

describe("taskView", () => {
  test("a queued task shows its id, type, status and creation time only", () => {
    assert.deepEqual(taskView(task({ upstreamId: "7000", params: { type: "image", image: "secret-bytes" } })), {
      id: "t1",
      type: "image",
      status: "queued",
      created_at: "2026-01-01T12:00:00.000Z",
    });
  });

  test("a solved task adds its solution and solved_at", () => {
    assert.deepEqual(taskView(task({ status: "solved", solution: "w9h5k", endedAt: T0 + 7_250 })), {
      id: "t1",
      type: "image",
      status: "solved",
      created_at: "2026-01-01T12:00:00.000Z",
      solution: "w9h5k",
      solved_at: "2026-01-01T12:00:07.250Z",
    });
  });

  test("a failed task adds its error code and message and failed_at", () => {
    const view = taskView(task({ type: "turnstile", kind: "token", status: "failed", error: { code: "ERROR_CAPTCHA_UNSOLVABLE", message: "unsolvable" }, endedAt: T0 + 1_000 }));
    assert.deepEqual(view.error, { code: "ERROR_CAPTCHA_UNSOLVABLE", message: "unsolvable" });
    assert.equal(view.failed_at, "2026-01-01T12:00:01.000Z");
    assert.equal(view.solved_at, undefined);
  });

  test("names the task's provider with a providers file, even one it calls captchaai; never the lone default provider", () => {
    assert.equal(namesProviders(["captchaai"]), false);
    assert.equal(namesProviders(["captchaai", "twocap"]), true);
    assert.equal(namesProviders(["plan"]), true);
    const solved = task({ status: "solved", solution: "w9h5k", endedAt: T0 + 7_250, provider: "captchaai" });
    assert.equal(taskView(solved, namesProviders(["captchaai", "twocap"])).provider, "captchaai");
    assert.equal(taskView(solved, namesProviders(["captchaai"])).provider, undefined);
  });
});

describe("serverTiming", () => {
  test("is undefined until the task has ended", () => {
    assert.equal(serverTiming(task({ status: "submitted" })), undefined);
  });

  test("splits an ended task's time into queue, upstream, poll-wait, the worker's own and the total", () => {
    const ended = task({ status: "solved", endedAt: T0 + 10_000, timing: { queueMs: 1_000, upstreamMs: 1_500.5, waitMs: 7_000, queuedSince: undefined } });
    assert.equal(serverTiming(ended), "queue;dur=1000.00, upstream;dur=1500.50, poll-wait;dur=7000.00, worker;dur=499.50, total;dur=10000.00");
  });

  test("the worker's share is never negative", () => {
    const ended = task({ status: "failed", endedAt: T0 + 100, timing: { queueMs: 80, upstreamMs: 30, waitMs: 0, queuedSince: undefined } });
    assert.match(serverTiming(ended)!, /worker;dur=0\.00/);
  });
});
