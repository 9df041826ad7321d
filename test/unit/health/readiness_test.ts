import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { balanceFunded, readinessIssues, readinessState, readinessWarnings, type ReadinessInput, type Thresholds } from "../../../src/health/readiness.ts";
import { formatIssue } from "../../../src/health/readiness_issue.ts";
import type { HealthSnapshot } from "../../../src/health/worker_health.ts";
import { issues as typed } from "../../_support/readiness_issues.ts";

const T: Thresholds = { maxConsecutiveFailures: 10, maxWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 1000, maxQueueWaitMs: 60_000, maxSaturation: 0.1 };

function snap(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: 0, startedAt: 0, uptimeMs: 1000,
    solved: 0, failed: 0, clientFailed: 0, consecutiveFailures: 0, successRate: 1, errorRate: 0, windowOutcomes: 0, windowFailed: 0, windowMs: 300_000,
    lastSolveAt: undefined, msSinceLastSolve: undefined, upstreamAuth: undefined, circuit: "closed",
    circuitHalfOpenSince: undefined, upstreamUnreachable: false, lowBalance: false, resumedAt: undefined, streak: "ok", streakProbationSince: undefined, saturation: 0, saturationObservedMs: 300_000, ...over,
  };
}

const warnings = (h: HealthSnapshot, t: Thresholds): string[] => readinessWarnings(h, t).map(formatIssue);

function issues(over: Partial<ReadinessInput> = {}, h: Partial<HealthSnapshot> = {}): string[] {
  return readinessIssues({ phase: "running", health: snap(h), balanceUsd: 12.34, thresholds: T, ...over }).map(formatIssue);
}

describe("readinessIssues", () => {
  test("a healthy running worker has none", () => assert.deepEqual(issues(), []));

  test("starting and draining", () => {
    assert.deepEqual(issues({ phase: "starting" }), ["starting"]);
    assert.deepEqual(issues({ phase: "draining" }), ["draining"]);
  });

  test("consecutive_failures at the threshold, not below", () => {
    assert.deepEqual(issues({}, { consecutiveFailures: 9 }), []);
    assert.deepEqual(issues({}, { consecutiveFailures: 10, streak: "cooling" }), ["consecutive_failures=10"]);
    assert.deepEqual(issues({}, { consecutiveFailures: 10, streak: "probation" }), [], "on probation the streak shows as the state, not an issue");
    const stuck = { consecutiveFailures: 10, errorRate: 1, windowOutcomes: 30, lastSolveAt: 0, uptimeMs: 1_000_000, inFlight: 1, busySince: 0 };
    assert.deepEqual(issues({}, { ...stuck, streak: "probation", streakProbationSince: 999_000 }), [], "the error rate and old time without a solve do not keep the trial from happening");
    assert.deepEqual(issues({}, { ...stuck, streak: "probation", streakProbationSince: 399_000 }), ["no_solve_for=601s"], "a trial that solves nothing for the window has failed too (its deadline)");
    assert.deepEqual(issues({}, { ...stuck, streak: "cooling" }), ["consecutive_failures=10"]);
    assert.deepEqual(issues({}, { ...stuck, streak: "ok" }), ["no_solve_for=1000s", "error_rate=1.000"]);
  });

  test("readinessState: probation when the streak or the circuit is on trial and nothing else fails", () => {
    const h = snap({ streak: "probation" });
    assert.equal(readinessState("running", [], h), "probation");
    assert.equal(readinessState("running", [], snap({ circuit: "half_open" })), "probation");
    assert.equal(readinessState("running", typed("low_balance=$0.10"), h), "not_ready");
    assert.equal(readinessState("running", [], snap()), "ready");
    assert.equal(readinessState("starting", typed("starting"), h), "starting");
    assert.equal(readinessState("draining", typed("draining"), h), "draining");
  });

  test("upstream_unreachable and backlog", () => {
    assert.deepEqual(issues({}, { upstreamUnreachable: true }), ["upstream_unreachable"]);
    assert.deepEqual(issues({}, { queueDepth: 3, oldestQueuedAgeMs: 120_000 }), [], "at twice --max-queue-wait: fine");
    assert.deepEqual(issues({}, { queueDepth: 3, oldestQueuedAgeMs: 120_001 }), ["backlog=120s"]);
    assert.deepEqual(issues({}, { queueDepth: 3, oldestQueuedAgeMs: 300_000, uptimeMs: 1_000_000, resumedAt: 990_000 }), [], "counted from the upstream's return, not across its outage");
  });

  test("low_balance with hysteresis: once low, it takes the minimum plus a margin to clear", () => {
    assert.deepEqual(issues({ balanceUsd: 1.01 }, { lowBalance: false }), []);
    assert.deepEqual(issues({ balanceUsd: 1.01 }, { lowBalance: true }), ["low_balance=$1.01"]);
    assert.deepEqual(issues({ balanceUsd: 1.05 }, { lowBalance: true }), []);
    assert.equal(balanceFunded(true, 0.99, 1), false);
    assert.equal(balanceFunded(false, 1.04, 1), false);
    assert.equal(balanceFunded(false, 1.05, 1), true);
    assert.equal(balanceFunded(false, 105, 100), true, "5% of a large minimum");
    assert.equal(balanceFunded(false, 104.9, 100), false);
  });

  test("readinessWarnings: a queue wait past --max-queue-wait, saturation past --max-saturation on enough submits", () => {
    assert.deepEqual(warnings(snap({ queueDepth: 1, oldestQueuedAgeMs: 60_001 }), T), ["queue_wait=60s"]);
    assert.deepEqual(warnings(snap({ saturation: 0.5, saturationObservedMs: 29_999 }), T), [], "too little time to judge");
    assert.deepEqual(warnings(snap({ saturation: 0.2, saturationObservedMs: 30_000 }), T), ["saturation=0.200"]);
    assert.deepEqual(warnings(snap({ saturation: 0.1 }), T), []);
  });

  test("a lone task out submitting still waits: its queue wait warns and becomes a backlog though the queue reads empty", () => {
    const out = { queueDepth: 0, inFlight: 1 };
    assert.deepEqual(warnings(snap({ ...out, oldestQueuedAgeMs: 60_001 }), T), ["queue_wait=60s"]);
    assert.deepEqual(issues({}, { ...out, oldestQueuedAgeMs: 120_001 }), ["backlog=120s"]);
    assert.deepEqual(warnings(snap({ queueDepth: 0, inFlight: 1, oldestQueuedAgeMs: 0 }), T), [], "nothing waits: no wait");
  });

  test("no_solve_for only after a first solve and only while work waits (the classic startup row)", () => {
    const at = (over: Partial<HealthSnapshot>) => ({ uptimeMs: 1_000_000, ...over });
    assert.deepEqual(issues({}, at({ lastSolveAt: undefined, queueDepth: 5 })), [], "never solved: not judged");
    assert.deepEqual(issues({}, at({ lastSolveAt: 0, queueDepth: 0, inFlight: 0 })), [], "idle: not judged");
    assert.deepEqual(issues({}, at({ lastSolveAt: 400_000, inFlight: 1, busySince: 0 })), [], "at the limit: fine");
    assert.deepEqual(issues({}, at({ lastSolveAt: 398_100, inFlight: 1, busySince: 0 })), ["no_solve_for=601s"]);
  });

  test("no_solve_for counts from when work last found the worker idle, so the first task after an idle spell is no alarm", () => {
    assert.deepEqual(issues({}, { uptimeMs: 1_000_000, lastSolveAt: 0, inFlight: 1, busySince: 999_000 }), []);
    assert.deepEqual(issues({}, { uptimeMs: 1_000_000, lastSolveAt: 0, inFlight: 1, busySince: 398_000 }), ["no_solve_for=602s"]);
    assert.deepEqual(issues({}, { uptimeMs: 1_000_000, lastSolveAt: 0, inFlight: 1, busySince: 0, resumedAt: 999_000 }), [], "nor the first moments after the upstream came back");
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
      issues({ balanceUsd: 0, extra: typed("state_dir=ENOSPC") }, { circuit: "open", consecutiveFailures: 12, streak: "cooling" }),
      ["circuit_open", "consecutive_failures=12", "low_balance=$0.00", "state_dir=ENOSPC"],
    );
  });
});
