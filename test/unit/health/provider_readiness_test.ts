import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { totalSnapshot } from "../../../src/health/provider_readiness.ts";
import type { HealthSnapshot } from "../../../src/health/worker_health.ts";

function snap(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: 0, startedAt: 0, uptimeMs: 1000,
    solved: 0, failed: 0, clientFailed: 0, consecutiveFailures: 0, successRate: 1, errorRate: 0, windowOutcomes: 0, windowFailed: 0, windowMs: 300_000,
    lastSolveAt: undefined, msSinceLastSolve: undefined, upstreamAuth: undefined, circuit: "closed",
    circuitHalfOpenSince: undefined, upstreamUnreachable: false, lowBalance: false, resumedAt: undefined, streak: "ok", streakProbationSince: undefined, saturation: 0, saturationObservedMs: 300_000, ...over,
  };
}

describe("totalSnapshot", () => {
  test("the worker-wide circuit is the worst provider's and its failure streak the longest, so captcha_worker_circuit_open and consecutive_failures show a provider's fault", () => {
    const plan = snap({ circuit: "open", consecutiveFailures: 7, solved: 3 });
    const paid = snap({ circuit: "closed", consecutiveFailures: 0, solved: 5 });
    const total = totalSnapshot([plan, paid]);
    assert.deepEqual([total.circuit, total.consecutiveFailures, total.solved], ["open", 7, 8]);
    assert.equal(totalSnapshot([snap({ circuit: "half_open" }), paid]).circuit, "half_open");
    assert.equal(totalSnapshot([paid, paid]).circuit, "closed");
  });
});
