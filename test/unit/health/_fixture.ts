/** A HealthView over real WorkerHealth and HealthChecks on a fake clock, with the load and the balance set by the test. */
import { HealthChecks } from "../../../src/health/checks.ts";
import { HealthView, UPSTREAM_CHECK } from "../../../src/health/health_view.ts";
import type { Thresholds } from "../../../src/health/readiness.ts";
import type { ReadinessIssue } from "../../../src/health/readiness_issue.ts";
import { WorkerHealth, type LoadSnapshot } from "../../../src/health/worker_health.ts";
import { FakeClock } from "../../_support/fake_clock.ts";

export const THRESHOLDS: Thresholds = { maxConsecutiveFailures: 3, maxWithoutSolveMs: 600_000, minBalanceUsd: 1, maxErrorRate: 0.5, queueMax: 10, maxQueueWaitMs: 60_000, maxSaturation: 0.1 };

export function fixture(o: { extraIssues?: () => readonly ReadinessIssue[] } = {}) {
  const clock = new FakeClock();
  const health = new WorkerHealth(clock, 300_000, { maxConsecutiveFailures: THRESHOLDS.maxConsecutiveFailures });
  let load: LoadSnapshot = { queueDepth: 0, inFlight: 0, oldestQueuedAgeMs: 0, lastProgressAt: clock.now() };
  health.setLoadSource(() => load);
  const checks = new HealthChecks({ clock });
  let balance: number | Error = 10;
  checks.register({
    name: UPSTREAM_CHECK,
    ttlMs: 60_000,
    timeoutMs: 1000,
    run: async () => {
      if (balance instanceof Error) throw balance;
      return { observedValue: balance, observedUnit: "USD" };
    },
  });
  const view = new HealthView({ clock, health, checks, thresholds: THRESHOLDS, stallMs: 60_000, ...o });
  return {
    clock,
    health,
    checks,
    view,
    setLoad: (l: Partial<LoadSnapshot>) => void (load = { ...load, ...l }),
    /** Sets what the next balance check reads and runs it. */
    setBalance: (b: number | Error) => ((balance = b), checks.refresh(UPSTREAM_CHECK)),
  };
}
