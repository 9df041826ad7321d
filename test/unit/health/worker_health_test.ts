import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { WorkerHealth } from "../../../src/health/worker_health.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

describe("WorkerHealth", () => {
  test("WorkerHealth counts solves and worker failures; client failures never count against it", async () => {
    const clock = new FakeClock();
    const h = new WorkerHealth(clock, 60_000);
    h.failed("image", "ERROR_CAPTCHA_UNSOLVABLE", "worker");
    h.failed("image", "ERROR_BAD_IMAGE", "client");
    h.failed("image", "timeout", "worker");
    let s = h.snapshot();
    assert.deepEqual([s.solved, s.failed, s.clientFailed, s.consecutiveFailures], [0, 2, 1, 2]);
    assert.equal(s.successRate, 0);
    assert.deepEqual([s.errorRate, s.windowOutcomes, s.windowFailed, s.windowMs], [1, 2, 2, 60_000]);
    await clock.advance(1000);
    h.solved("image", 4000);
    s = h.snapshot();
    assert.equal(s.consecutiveFailures, 0, "a solve ends the streak");
    assert.equal(s.lastSolveAt, clock.now());
    assert.equal(s.msSinceLastSolve, 0);
    assert.equal(Math.round(s.errorRate * 1000), 667);
  });

  test("WorkerHealth's error rate forgets outcomes older than the window", async () => {
    const clock = new FakeClock();
    const h = new WorkerHealth(clock, 60_000);
    for (let i = 0; i < 5; i++) h.failed("image", "x", "worker");
    await clock.advance(61_000);
    const s = h.snapshot();
    assert.deepEqual([s.errorRate, s.windowOutcomes, s.failed], [0, 0, 5]);
  });

  test("WorkerHealth reads the load from its source when read, idle until one is set", async () => {
    const clock = new FakeClock();
    const h = new WorkerHealth(clock, 60_000);
    assert.deepEqual([h.snapshot().queueDepth, h.snapshot().inFlight, h.snapshot().lastProgressAt], [0, 0, clock.now()]);
    let queued = 3;
    h.setLoadSource(() => ({ queueDepth: queued, inFlight: 1, oldestQueuedAgeMs: 10, lastProgressAt: 5 }));
    queued = 4;
    assert.equal(h.snapshot().queueDepth, 4);
    await clock.advance(2500);
    assert.equal(h.snapshot().uptimeMs, 2500);
  });

  test("WorkerHealth.onStateChange fires when the account or circuit state changes, not when it is repeated", () => {
    const clock = new FakeClock();
    const h = new WorkerHealth(clock, 60_000);
    let n = 0;
    const off = h.onStateChange(() => n++);
    h.upstreamAuth("ERROR_WRONG_USER_KEY");
    h.upstreamAuth("ERROR_WRONG_USER_KEY");
    h.circuit("open");
    h.circuit("open");
    h.circuit("half_open");
    h.upstreamAuth(undefined);
    assert.equal(n, 4);
    assert.deepEqual([h.snapshot().upstreamAuth, h.snapshot().circuit], [undefined, "half_open"]);
    off();
    h.circuit("closed");
    assert.equal(n, 4);
  });
});
