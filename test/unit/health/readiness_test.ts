import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readinessIssues, type ReadinessInput, type Thresholds } from "../../../src/health/readiness.ts";
import type { HealthSnapshot } from "../../../src/health/worker_health.ts";

const T: Thresholds = { maxConsecutiveFailures: 10, maxSecondsWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 1000 };

function snap(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: 0, startedAt: 0, uptimeMs: 1000,
    solved: 0, failed: 0, clientFailed: 0, consecutiveFailures: 0, successRate: 1, errorRate: 0, windowOutcomes: 0, windowFailed: 0, windowMs: 300_000,
    lastSolveAt: undefined, msSinceLastSolve: undefined, upstreamAuth: undefined, circuit: "closed", ...over,
  };
}

function issues(over: Partial<ReadinessInput> = {}, h: Partial<HealthSnapshot> = {}): string[] {
  return readinessIssues({ phase: "running", health: snap(h), balanceUsd: 12.34, thresholds: T, ...over });
}

describe("readinessIssues", () => {
  test("a healthy running worker has none", () => assert.deepEqual(issues(), []));

  test("starting and draining", () => {
    assert.deepEqual(issues({ phase: "starting" }), ["starting"]);
    assert.deepEqual(issues({ phase: "draining" }), ["draining"]);
  });

  test("consecutive_failures at the threshold, not below", () => {
    assert.deepEqual(issues({}, { consecutiveFailures: 9 }), []);
    assert.deepEqual(issues({}, { consecutiveFailures: 10 }), ["consecutive_failures=10"]);
  });

  test("no_solve_for only after a first solve and only while work waits (the seed's startup row)", () => {
    assert.deepEqual(issues({}, { msSinceLastSolve: undefined, queueDepth: 5, uptimeMs: 10_000_000 }), [], "never solved: not judged");
    assert.deepEqual(issues({}, { msSinceLastSolve: 700_000, queueDepth: 0, inFlight: 0 }), [], "idle: not judged");
    assert.deepEqual(issues({}, { msSinceLastSolve: 600_000, inFlight: 1 }), [], "at the limit: fine");
    assert.deepEqual(issues({}, { msSinceLastSolve: 601_900, inFlight: 1 }), ["no_solve_for=601s"]);
  });

  test("low_balance below the minimum, with two decimals", () => {
    assert.deepEqual(issues({ balanceUsd: 1 }), []);
    assert.deepEqual(issues({ balanceUsd: 0.421 }), ["low_balance=$0.42"]);
    assert.deepEqual(issues({ balanceUsd: undefined }), [], "no balance known yet: not judged");
  });

  test("error_rate only above the maximum and with at least 20 outcomes", () => {
    assert.deepEqual(issues({}, { errorRate: 0.9, windowOutcomes: 19 }), []);
    assert.deepEqual(issues({}, { errorRate: 0.5, windowOutcomes: 100 }), []);
    assert.deepEqual(issues({}, { errorRate: 0.55, windowOutcomes: 20 }), ["error_rate=0.550"]);
  });

  test("queue_full, upstream_auth and circuit_open", () => {
    assert.deepEqual(issues({}, { queueDepth: 1000 }), ["queue_full=1000"]);
    assert.deepEqual(issues({}, { upstreamAuth: "ERROR_WRONG_USER_KEY" }), ["upstream_auth=ERROR_WRONG_USER_KEY"]);
    assert.deepEqual(issues({}, { circuit: "open" }), ["circuit_open"]);
    assert.deepEqual(issues({}, { circuit: "half_open" }), []);
  });

  test("several at once, in a stable order, plus extra issues", () => {
    assert.deepEqual(
      issues({ balanceUsd: 0, extra: ["state_dir=ENOSPC"] }, { circuit: "open", consecutiveFailures: 12 }),
      ["circuit_open", "consecutive_failures=12", "low_balance=$0.00", "state_dir=ENOSPC"],
    );
  });
});
